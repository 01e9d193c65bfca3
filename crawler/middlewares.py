"""Scrapy middlewares: route through a proxy. (Skipping known articles: crawler.incremental.)"""
from __future__ import annotations


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
