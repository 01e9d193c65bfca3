"""A Scrapy extension that adds the run's fault counts to its `crawl_runs` row, and stops a
crawl whose database cannot be written (a full disk, a damaged file): nothing more could be
stored."""
from __future__ import annotations

import logging

from scrapy import signals
from scrapy.utils.defer import deferred_from_coro
from twisted.internet.task import LoopingCall

from crawler.storage.runcounts import fault_counts
from crawler.storage.store import StoreError, shared_store

WATCH_EVERY_S = 0.5  # how soon a crawl stops once its database refuses writes (whichever write found it)


class _StoreErrorsInOneLine(logging.Filter):
    """Scrapy logs a failed item, signal handler or start request with its traceback (and an
    item with the whole page); a full disk or damaged file needs one line (the command reports
    it again at the end)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc, seen = (record.exc_info[1] if record.exc_info else None), set()
        while exc is not None and not isinstance(exc, StoreError) and id(exc) not in seen:  # a chain can loop
            seen.add(id(exc))
            exc = exc.__cause__ or exc.__context__
        if not isinstance(exc, StoreError):
            return True
        record.msg, record.args, record.exc_info, record.exc_text = "not stored: %s", (exc,), None, None
        return True


STORE_ERRORS_IN_ONE_LINE = _StoreErrorsInOneLine()


class FaultCounts:
    def __init__(self, crawler):
        self.crawler = crawler
        self.store = shared_store(crawler.settings["CRAWLER_DB"])
        self.watch = LoopingCall(self.stop_if_store_failed)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def spider_opened(self, spider):
        self.watch.start(WATCH_EVERY_S, now=False)

    def stop_if_store_failed(self):
        if self.store.failure:
            self.watch.stop()
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="store_error"))

    def spider_closed(self, spider, reason):
        if self.watch.running:
            self.watch.stop()
        run_id = self.crawler.stats.get_value("run/id")
        if run_id is None or self.store.failure:
            return
        self.store.add_fault_counts(run_id, fault_counts(self.crawler.stats.get_stats()))
