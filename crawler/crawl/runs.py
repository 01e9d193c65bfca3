"""A Scrapy extension that writes one `crawl_runs` row per site per run, from the crawl stats."""
from __future__ import annotations

import time

from scrapy import signals
from twisted.internet.task import LoopingCall

from crawler.storage.store import shared_store

# crawl_runs column <- Scrapy stats key
_COUNTERS = {
    "pages_fetched": "response_received_count",
    "articles_new": "articles/new",
    "duplicates": "articles/duplicate",
    "skipped_known": "articles/skipped_known",
    "http_errors": "errors/http",
    "empty_bodies": "articles/empty",
    "missing_dates": "articles/missing_date",
    "fallbacks": "articles/fallback",
    "list_pages": "list_pages/parsed",
    "list_pages_not_modified": "list_pages/not_modified",
    "article_links": "list_pages/article_links",
}
SAVE_EVERY_S = 5.0  # how often a running run's counts are written (a killed run keeps them)


def run_counts(stats) -> dict:
    counts = {column: stats.get_value(key, 0) for column, key in _COUNTERS.items()}
    counts["errors"] = counts["http_errors"] + counts["empty_bodies"] + stats.get_value("errors/extract", 0)
    return counts


def run_status(finish_reason: str, counts: dict, starts_failed: bool = False) -> str:
    """`interrupted` when stopped by a signal (SIGTERM, SIGINT), `failed` when it did not finish
    otherwise, fetched nothing or none of its start pages (`starts_failed`: a 404, a redirect
    loop), `no_links` when list pages were read (not answered 304) and none held an article
    link (the list layout changed, or the selector is wrong), `partial` when some pages failed,
    else `ok`."""
    if finish_reason == "shutdown":
        return "interrupted"
    if finish_reason != "finished" or not counts["pages_fetched"] or starts_failed:
        return "failed"
    if counts["list_pages"] > counts["list_pages_not_modified"] and not counts["article_links"]:
        return "no_links"
    return "partial" if counts["errors"] else "ok"


class RunRecorder:
    def __init__(self, crawler):
        self.crawler = crawler
        self.store = shared_store(crawler.settings["CRAWLER_DB"])
        self.invocation = crawler.settings.get("CRAWLER_INVOCATION") or "manual"
        self.run_id = None
        self.started = 0.0
        self.saver = LoopingCall(self.save_counts)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def spider_opened(self, spider):
        self.started = time.monotonic()
        self.run_id = self.store.start_run(spider.name, self.invocation, self.crawler.settings.get("LOG_FILE"))
        self.crawler.stats.set_value("run/id", self.run_id)
        self.saver.start(SAVE_EVERY_S, now=False)

    def save_counts(self):
        if not self.store.failure:  # nothing more can be written: the command ends the run
            self.store.update_run_counts(self.run_id, run_counts(self.crawler.stats))

    def spider_closed(self, spider, reason):
        if self.saver.running:
            self.saver.stop()
        if self.store.failure:  # the command ends the run as failed (crawler.crawl.runner)
            return
        stats = self.crawler.stats
        counts = run_counts(stats)
        starts_failed = stats.get_value("start/requests", 0) > 0 and not stats.get_value("start/fetched", 0)
        self.store.finish_run(self.run_id, run_status(reason, counts, starts_failed), reason,
                              time.monotonic() - self.started, counts)
