"""Scrapy's retries, spaced out: exponential backoff, and the server's Retry-After when it
sends one (429 Too Many Requests, 503 Service Unavailable); off-site redirects of retried
requests refused; redirect loops failed as errors.

Scrapy's RetryMiddleware re-queues a failed request at once, which hits an overloaded
government server again while it is still down. This subclass keeps its rules (which codes
and exceptions, how many times, the stats) and only adds a wait before each retry, capped by
RETRY_BACKOFF_MAX. The wait happens before the request takes a download slot, so other pages
keep flowing meanwhile.
"""
from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.task import deferLater
from w3lib.url import canonicalize_url

from crawler.sites.failures import retry_after_seconds
from crawler.sites.spider import on_domains


def retry_delay(attempt: int, retry_after: float | None, base: float, cap: float) -> float:
    """Seconds to wait before retry number `attempt` (1, 2, ...): what the server asked for,
    else base * 2^(attempt-1); never more than `cap`."""
    wanted = retry_after if retry_after is not None else base * 2 ** (attempt - 1)
    return min(wanted, cap)


class BackoffRetry(RetryMiddleware):
    def __init__(self, settings):
        super().__init__(settings)
        self.base = settings.getfloat("RETRY_BACKOFF_BASE")
        self.cap = settings.getfloat("RETRY_BACKOFF_MAX")

    def _delayed(self, retry: Request | None, retry_after: float | None = None) -> Request | None:
        if retry is not None:
            retry.meta["retry_delay"] = retry_delay(retry.meta["retry_times"], retry_after, self.base, self.cap)
        return retry

    def process_response(self, request, response, spider=None):
        result = super().process_response(request, response)
        if isinstance(result, Request):
            header = response.headers.get("Retry-After")
            self._delayed(result, retry_after_seconds(header.decode("latin-1") if header else None))
        return result

    def process_exception(self, request, exception, spider=None):
        return self._delayed(super().process_exception(request, exception))

    async def process_request(self, request, spider=None):
        delay = request.meta.pop("retry_delay", 0)
        if delay > 0:
            from twisted.internet import reactor  # the one Scrapy installed, not a default one

            await maybe_deferred_to_future(deferLater(reactor, delay, lambda: None))
        return None


class OffsiteRedirects:
    """Refuse a redirect to another site even when the request is a retry.

    Retries carry `dont_filter` (so that the duplicate filter lets them through), and Scrapy's
    off-site check lets every `dont_filter` request pass: a page that failed once and then
    redirected elsewhere would be fetched from the other site. The soak test caught it."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        domains = getattr(self.crawler.spider, "allowed_domains", None)
        if request.meta.get("redirect_urls") and domains and not on_domains(request.url, domains):
            self.crawler.stats.inc_value("offsite/filtered")
            raise IgnoreRequest(f"Filtered offsite request to {urlsplit(request.url).hostname!r}")
        return None


class RedirectLoop(IgnoreRequest):
    """A redirect back to a URL of the request's own redirect chain; an error of the site."""


class RedirectLoops:
    """Fail a request whose response redirects to a URL already in its redirect chain (A -> A,
    A -> B -> A). Scrapy's RedirectMiddleware would schedule it, and the duplicate filter drop it
    without a word: the page was neither fetched nor counted as an error. Placed before the
    RedirectMiddleware (a higher number sees responses first)."""

    def process_response(self, request, response, spider=None):
        location = response.headers.get("Location")
        if not 300 <= response.status < 400 or not location:
            return response
        target = canonicalize_url(urljoin(request.url, location.decode("latin-1")))
        if target in {canonicalize_url(url) for url in [*request.meta.get("redirect_urls", ()), request.url]}:
            raise RedirectLoop(f"redirect loop: {request.url} -> {target}")
        return response
