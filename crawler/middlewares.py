"""Scrapy middlewares: route through a proxy, obey robots.txt. (Skipping known articles:
crawler.incremental.)"""
from __future__ import annotations

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred


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


class RobotsTxt(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, except that every request waiting for a site's robots.txt
    gets its rules. Scrapy lets the waiting requests await one shared Deferred, whose result the
    first waiter replaces with None, and None means "no robots.txt, all allowed": when many
    requests start at once (a resumed frontier), a disallowed page was fetched now and then."""

    async def robot_parser(self, request):
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if isinstance(pending, Deferred):
            own = Deferred()
            pending.addBoth(_pass_on, own)
            return await maybe_deferred_to_future(own)
        return await super().robot_parser(request)


def _pass_on(result, waiter: Deferred):
    waiter.callback(result)
    return result  # intact for the next waiter
