"""Scrapy middlewares: skip known articles before they are requested; route through a proxy."""
from __future__ import annotations

from scrapy import Request

from crawler.dedup import canonical_url
from crawler.store import shared_store


class SkipKnownArticles:
    """Drop requests for article URLs that are already stored or recorded as duplicates, so a
    scheduled run fetches only what is new."""

    def __init__(self, crawler):
        self.stats = crawler.stats
        self.store = shared_store(crawler.settings["CRAWLER_DB"])

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _wanted(self, entry) -> bool:
        if isinstance(entry, Request) and entry.meta.get("article") and self.store.is_known(canonical_url(entry.url)):
            self.stats.inc_value("articles/skipped_known")
            return False
        return True

    def process_spider_output(self, response, result):
        return (entry for entry in result if self._wanted(entry))

    async def process_spider_output_async(self, response, result):
        async for entry in result:
            if self._wanted(entry):
                yield entry


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
