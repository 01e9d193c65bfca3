"""Scrapy middlewares: route through a proxy, obey robots.txt, follow meta refreshes. (Skipping
known articles: crawler.crawl.incremental.)"""
from __future__ import annotations

import logging

from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.http import HtmlResponse
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from crawler.article.decode import ascii_compatible


class FixedProxy:
    """Send every request through the HTTP proxy named by the PROXY_URL setting (the demo uses
    this to reach its `.test` sites on the local demo server)."""

    def __init__(self, proxy_url: str | None):
        self.proxy_url = proxy_url

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.get("PROXY_URL"))

    def process_request(self, request):
        if self.proxy_url and "proxy" not in request.meta:
            request.meta["proxy"] = self.proxy_url
        return None


class _RobotsErrorsInOneLine(logging.Filter):
    """Scrapy logs a robots.txt that could not be fetched with the whole traceback (some 70
    lines for a refused connection); which site and why fits on one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.args, dict) and "f_exception" in record.args:
            request = record.args.get("request")
            record.msg = "robots.txt of %s not fetched (%s): its pages are crawled as if it allowed all"
            record.args = (urlparse_cached(request).netloc if request else "?", record.args["f_exception"])
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"  # as a page that failed
        return True


_ROBOTS_ERRORS_IN_ONE_LINE = _RobotsErrorsInOneLine()


class RobotsTxt(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, except that every request waiting for a site's robots.txt
    gets its rules, and a robots.txt that cannot be fetched is logged in one line.

    Scrapy lets the waiting requests await one shared Deferred, whose result the first waiter
    replaces with None, and None means "no robots.txt, all allowed": when many requests start
    at once (a resumed frontier), a disallowed page was fetched now and then."""

    def __init__(self, crawler):
        super().__init__(crawler)
        logging.getLogger("scrapy.downloadermiddlewares.robotstxt").addFilter(_ROBOTS_ERRORS_IN_ONE_LINE)

    async def robot_parser(self, request):
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if isinstance(pending, Deferred):
            own = Deferred()
            pending.addBoth(_pass_on, own)
            return await maybe_deferred_to_future(own)
        return await super().robot_parser(request)


# Scrapy looks for a refresh in a page's first 4,096 characters: at most 4 bytes each.
_REFRESH_SCAN_BYTES = 4 * 4096


class MetaRefresh(MetaRefreshMiddleware):
    """Scrapy's meta refresh redirects, except that a page whose head cannot declare one is let
    through unread. Scrapy decodes every page whole and scans its head for <meta> tags, about
    0.2 ms per portal page on the reactor thread; a refresh must spell `refresh` (Scrapy reads
    no other), which the undecoded bytes show in microseconds."""

    def process_response(self, request, response, spider=None):
        if isinstance(response, HtmlResponse) and ascii_compatible(response.encoding):
            head = response.body[:_REFRESH_SCAN_BYTES].lower()
            if b"refresh" not in head:
                return response
        return super().process_response(request, response)


def _pass_on(result, waiter: Deferred):
    waiter.callback(result)
    return result  # intact for the next waiter
