"""A Scrapy extension that writes one `crawl_runs` row per site per run, from the crawl stats."""
from __future__ import annotations

import time

from crawler.crawl.store_extension import StoreExtension
from crawler.storage.runcounts import run_counts, run_status

SAVE_EVERY_S = 5.0  # how often a running run's counts are written (a killed run keeps them)


class RunRecorder(StoreExtension):
    every = SAVE_EVERY_S

    def __init__(self, crawler):
        super().__init__(crawler)
        self.invocation = crawler.settings.get("CRAWLER_INVOCATION") or "manual"
        self.run_id = None
        self.started = 0.0

    def spider_opened(self, spider):
        self.started = time.monotonic()
        self.run_id = self.store.start_run(spider.name, self.invocation, self.crawler.settings.get("LOG_FILE"))
        self.crawler.stats.set_value("run/id", self.run_id)
        super().spider_opened(spider)

    def tick(self):
        """Save the running run's counts (a killed run keeps them)."""
        if not self.store.failure:  # nothing more can be written: the command ends the run
            self.store.update_run_counts(self.run_id, run_counts(self.crawler.stats.get_stats()))

    def spider_closed(self, spider, reason):
        super().spider_closed(spider, reason)
        if self.store.failure:  # the command ends the run as failed (crawler.crawl.runner)
            return
        stats = self.crawler.stats
        counts = run_counts(stats.get_stats())
        starts_failed = stats.get_value("start/requests", 0) > 0 and not stats.get_value("start/fetched", 0)
        self.store.finish_run(self.run_id, run_status(reason, counts, starts_failed), reason,
                              time.monotonic() - self.started, counts)
