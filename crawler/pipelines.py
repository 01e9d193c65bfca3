"""Scrapy wiring of the article chain: each fetched Page goes through crawler.process."""
from __future__ import annotations

import logging

from scrapy import logformatter
from scrapy.exceptions import DropItem

from crawler.items import Page
from crawler.process import admit, record_of
from crawler.site import SiteSpider
from crawler.store import shared_store

log = logging.getLogger(__name__)


class ArticlePipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.store = shared_store(crawler.settings["CRAWLER_DB"])

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        if not isinstance(item, Page):
            return item
        spider = self.crawler.spider
        site = type(spider) if isinstance(spider, SiteSpider) else None
        try:
            record = record_of(item, site)
        except Exception as exc:  # a page that breaks extraction must not stop the crawl
            self.stats.inc_value("errors/extract")
            log.error("extraction failed for %s: %s: %s", item.url, type(exc).__name__, exc)
            raise DropItem(f"extraction failed: {item.url}") from exc
        if record["lossy_decode"]:
            self.stats.inc_value("pages/undecodable")
        outcome = admit(self.store, record, item.body, item.content_type, run_id=self.stats.get_value("run/id"))
        self.stats.inc_value(f"articles/{outcome.kind}")
        if outcome.kind == "empty":
            raise DropItem(f"empty body, not stored: {item.url}")
        if outcome.kind == "new":
            if not record["published"]:
                self.stats.inc_value("articles/missing_date")
            if site is not None and not record["extractor"].startswith("site:"):
                self.stats.inc_value("articles/fallback")
        return outcome.record


class LogFormatter(logformatter.LogFormatter):
    """Scrapy's log lines, without dumping whole pages into the log when an item is dropped."""

    def dropped(self, item, exception, response, spider=None):
        return {"level": logging.WARNING, "msg": "%(exception)s", "args": {"exception": exception}}
