"""A Scrapy extension that adds the run's fault counts to its `crawl_runs` row, and stops a
crawl whose database cannot be written (a full disk, a damaged file): nothing more could be
stored."""
from __future__ import annotations

import logging

from scrapy.utils.defer import deferred_from_coro

from crawler.crawl.store_extension import StoreExtension
from crawler.storage.runcounts import fault_counts
from crawler.storage.store import StoreError

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


class FaultCounts(StoreExtension):
    every = WATCH_EVERY_S

    def tick(self):
        """Stop the crawl once its database refuses writes."""
        if self.store.failure:
            self.ticker.stop()
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="store_error"))

    def spider_closed(self, spider, reason):
        super().spider_closed(spider, reason)
        run_id = self.crawler.stats.get_value("run/id")
        if run_id is None or self.store.failure:
            return
        self.store.add_fault_counts(run_id, fault_counts(self.crawler.stats.get_stats()))
