"""What a failed request means for the run's counts, and how long the site asked us to wait.

A request that failed for good reaches the spider's errback. Most failures are errors of the
site (HTTP status after retries, timeout, reset, truncated body, page too large, redirect
loop); some are the crawler's own choices and no error at all (robots.txt forbids the page,
a redirect leads off the site, the page turned out to be an attachment).
"""
from __future__ import annotations

from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from scrapy.exceptions import (
    CannotResolveHostError, DownloadCancelledError, DownloadConnectionRefusedError, DownloadTimeoutError,
    IgnoreRequest, ResponseDataLossError,
)
from twisted.internet.error import ConnectError


class NotAnArticle(IgnoreRequest):
    """The response is a file (PDF, Word, image...), recorded as an attachment instead."""


# Scrapy's own refusals, by the message its middlewares give; Scrapy counts them itself.
_REFUSALS = ("Forbidden by robots.txt", "Filtered offsite request")
# A compressed body that grew past the cap while decompressed (a gzip bomb): Scrapy says so only
# in the message of its IgnoreRequest.
_DECOMPRESSED_OVERSIZE = "exceeded DOWNLOAD_MAXSIZE"
# Error kinds that have their own crawl_runs column, besides the `http_errors` total.
_ERROR_KINDS = (
    (DownloadTimeoutError, "timeouts"),
    (DownloadCancelledError, "oversize"),
    (ResponseDataLossError, "truncated"),
    # No server answered: the name does not resolve, nothing listens, no route (a site that
    # is down, not one whose layout changed).
    (CannotResolveHostError, "unreachable"),
    (DownloadConnectionRefusedError, "unreachable"),
    (ConnectError, "unreachable"),
)


def failure_kind(exc: BaseException) -> str | None:
    """None for a failure that is not an error of the site; else the error's kind (`http` for
    one without a column of its own)."""
    if isinstance(exc, NotAnArticle):
        return None
    if type(exc) is IgnoreRequest and str(exc).startswith(_REFUSALS):
        return None
    if type(exc) is IgnoreRequest and _DECOMPRESSED_OVERSIZE in str(exc):
        return "oversize"
    for error, kind in _ERROR_KINDS:
        if isinstance(exc, error):
            return kind
    return "http"


def count_failure(stats, exc: BaseException) -> str | None:
    """Count a failed request in the crawl stats; returns its kind (None: not an error)."""
    kind = failure_kind(exc)
    if kind is not None:
        stats.inc_value("errors/http")
        if kind != "http":
            stats.inc_value(f"errors/{kind}")
    return kind


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """The wait a Retry-After header asks for: delta-seconds or an HTTP date; None if absent
    or unreadable."""
    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())
