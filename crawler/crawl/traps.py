"""Crawler traps: list pages that never end (calendars, `?page=N` past the last page, search
results). Three bounds, each counted in the run stats when it cuts something off:

- depth: Scrapy's DEPTH_LIMIT (each next list page is one level deeper);
- query patterns: at most TRAP_MAX_QUERY_PAGES list pages that differ only in their query
  values (`/calendar?date=...`, `/list?page=...`);
- pages per site: at most CRAWLER_MAX_PAGES requests per site per run.

A fourth, for link farms, is where the spiders collect links: at most CRAWLER_MAX_LINKS_PER_PAGE
article links from one page (crawler.sites.spider.first_links).
"""
from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from scrapy import Request


def query_pattern(url: str) -> tuple | None:
    """The URL with its query values left out, or None for a URL without a query:
    `/cal?date=2024-01-02&x=1` and `/cal?x=9&date=1999-12-31` share one pattern."""
    parts = urlsplit(url)
    keys = tuple(sorted({key for key, _ in parse_qsl(parts.query, keep_blank_values=True)}))
    return (parts.hostname, parts.port, parts.path, keys) if keys else None


class TrapGuard:
    def __init__(self, crawler):
        self.stats = crawler.stats
        self.max_pages = crawler.settings.getint("CRAWLER_MAX_PAGES")
        self.max_per_pattern = crawler.settings.getint("TRAP_MAX_QUERY_PAGES")
        self.requests = 0
        self.by_pattern: dict[tuple, set[str]] = {}

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _within_pattern_bound(self, request: Request) -> bool:
        pattern = None if request.meta.get("article") else query_pattern(request.url)
        if pattern is None:
            return True
        seen = self.by_pattern.setdefault(pattern, set())
        if request.url not in seen and len(seen) >= self.max_per_pattern:
            return False
        seen.add(request.url)
        return True

    def _wanted(self, entry) -> bool:
        if not isinstance(entry, Request):
            return True
        if not self._within_pattern_bound(entry):
            self.stats.inc_value("trap/query_pattern")
            return False
        if self.max_pages and self.requests >= self.max_pages:
            self.stats.inc_value("trap/page_cap")
            return False
        self.requests += 1
        return True

    def process_spider_output(self, response, result):
        return (entry for entry in result if self._wanted(entry))

    async def process_spider_output_async(self, response, result):
        async for entry in result:
            if self._wanted(entry):
                yield entry
