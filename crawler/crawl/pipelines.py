"""Scrapy wiring of the article chain: each fetched Page goes through crawler.chain.process.

The reactor thread only fetches: a page's CPU work (extraction, cleaning, dedup keys) runs in
worker processes (crawler.chain.workers) and its SQLite writes on the writes thread
(crawler.storage.storethread), committed in batches; the pipeline awaits both, so the reactor keeps
downloading meanwhile.
"""
from __future__ import annotations

import logging

from scrapy import logformatter
from scrapy.exceptions import DropItem

from crawler.storage import storethread
from crawler.article.items import Page
from crawler.chain.process import Arrival, Outcome, admit_many, keyed_record_of, outcome_stats
from crawler.sites.spider import SiteSpider
from crawler.storage.runcounts import SELECTOR_MISS
from crawler.storage.store import StoreError, shared_store
from crawler.chain.workers import SHARED_POOL, awaited, cores

log = logging.getLogger(__name__)


class ArticlePipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.store = shared_store(crawler.settings["CRAWLER_DB"])
        self.site = None
        self.in_workers = False
        self.writes: storethread.StoreThread | None = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self):
        settings = self.crawler.settings
        spider = self.crawler.spider
        self.site = type(spider) if isinstance(spider, SiteSpider) else None
        workers = settings.getint("CRAWLER_EXTRACT_WORKERS", 0) or cores()
        if workers > 1:
            SHARED_POOL.acquire(workers)
            self.in_workers = SHARED_POOL.can_take(self.site)
            if not self.in_workers:
                SHARED_POOL.release()
                log.warning("%s cannot be sent to worker processes; extracting in the crawl process", self.site)
        self.writes = storethread.of_crawler(self.crawler)

    async def close_spider(self):
        try:
            await awaited(self.writes.flush())
        except StoreError:
            pass  # a full disk: `store.failure` says so, and the command reports it in one line
        finally:
            storethread.release(self.store)
            if self.in_workers:
                SHARED_POOL.release()

    async def process_item(self, item):
        if not isinstance(item, Page):
            return item
        try:
            if self.in_workers:
                record, keys = await SHARED_POOL.keyed_record(item, self.site)
            else:
                record, keys = keyed_record_of(item, self.site)
        except Exception as exc:  # a page that breaks extraction must not stop the crawl
            self.stats.inc_value("errors/extract")
            log.error("extraction failed for %s: %s: %s", item.url, type(exc).__name__, exc)
            raise DropItem(f"extraction failed: {item.url}") from exc
        if record["lossy_decode"]:
            self.stats.inc_value("pages/undecodable")
        for name in record["selector_misses"]:  # filled by the generic chain; `crawler report` watches it
            self.stats.inc_value(f"{SELECTOR_MISS}{name}")
        outcome = await awaited(self.writes.submit_together(self._admit_many, Arrival(
            record, item.body, item.content_type, run_id=self.stats.get_value("run/id"), keys=keys)))
        for key in outcome_stats(outcome, self.site is not None):
            self.stats.inc_value(key)
        if outcome.kind == "empty":
            raise DropItem(f"empty body, not stored: {item.url}")
        return outcome.record


    def _admit_many(self, arrivals: list[Arrival]) -> list[Outcome]:
        """On the writes thread: `admit_many` the pages waiting there, and tell the thread what
        it stored (see StoreThread.is_known)."""
        outcomes = admit_many(self.store, arrivals)
        for outcome in outcomes:
            if outcome.kind in ("new", "duplicate"):
                self.writes.stored(outcome.record["canonical_url"])
        return outcomes


class LogFormatter(logformatter.LogFormatter):
    """Scrapy's log lines, without dumping whole pages into the log when an item is dropped."""

    def dropped(self, item, exception, response, spider=None):
        return {"level": logging.WARNING, "msg": "%(exception)s", "args": {"exception": exception}}
