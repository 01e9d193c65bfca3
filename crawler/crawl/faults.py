"""A Scrapy extension that adds the run's fault counts to its `crawl_runs` row, and stops a
crawl whose database cannot be written (a full disk): nothing more could be stored."""
from __future__ import annotations

import logging

from scrapy import signals
from scrapy.utils.defer import deferred_from_coro

from crawler.storage.store import StoreError, shared_store

# crawl_runs column <- Scrapy stats keys (summed)
_COUNTERS = {
    "retries": ("retry/count",),
    "timeouts": ("errors/timeouts",),
    "oversize": ("errors/oversize",),
    "truncated": ("errors/truncated",),
    "robots_forbidden": ("robotstxt/forbidden",),
    "attachments": ("attachments/found",),
    "trapped": ("trap/page_cap", "trap/query_pattern", "depth/request_ignored_count"),
    "empty_lists": ("lists/no_article_links",),
    "unreachable": ("errors/unreachable",),
    "needs_browser": ("lists/needs_browser",),
    "rendered": ("render/pages",),
}


class _StoreErrorsInOneLine(logging.Filter):
    """Scrapy logs a failed item with its traceback and the whole page; a full disk needs one
    line (the command reports it again at the end)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, StoreError):
            record.msg, record.args, record.exc_info, record.exc_text = "item not stored: %s", (exc,), None, None
        return True


_STORE_ERRORS_IN_ONE_LINE = _StoreErrorsInOneLine()


class FaultCounts:
    def __init__(self, crawler):
        self.crawler = crawler
        self.store = shared_store(crawler.settings["CRAWLER_DB"])
        self.closing = False
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self.item_error, signal=signals.item_error)
        logging.getLogger("scrapy.core.scraper").addFilter(_STORE_ERRORS_IN_ONE_LINE)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def item_error(self, item, response, spider, failure):
        if failure.check(StoreError) and not self.closing:
            self.closing = True
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="store_error"))

    def spider_closed(self, spider, reason):
        run_id = self.crawler.stats.get_value("run/id")
        if run_id is None or self.store.failure:
            return
        stats = self.crawler.stats
        self.store.add_fault_counts(run_id, {
            column: sum(stats.get_value(key, 0) for key in keys) for column, keys in _COUNTERS.items()})
