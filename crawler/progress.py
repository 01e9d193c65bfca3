"""A Scrapy extension that shows each site's counts on the terminal while a crawl runs.

Enabled by CRAWLER_PROGRESS (the `crawler` command sets it when stderr is a terminal, so cron
and log files get no progress lines). All sites of one process share one block of lines.
"""
from __future__ import annotations

import sys

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet.task import LoopingCall

from crawler.runs import run_counts

REDRAW_EVERY_S = 1.0


class _Board:
    """One line per site, redrawn in place."""

    def __init__(self):
        self.stats: dict[str, object] = {}
        self.running: set[str] = set()
        self.drawn = 0
        self.ticker = LoopingCall(self.draw)

    def open(self, site: str, stats) -> None:
        self.stats[site] = stats
        self.running.add(site)
        if not self.ticker.running:
            self.ticker.start(REDRAW_EVERY_S, now=True)

    def close(self, site: str) -> None:
        self.running.discard(site)
        if not self.running and self.ticker.running:
            self.ticker.stop()
            self.draw()

    def draw(self) -> None:
        lines = [progress_line(site, run_counts(stats), site in self.running) for site, stats in sorted(self.stats.items())]
        up = f"\x1b[{self.drawn}F" if self.drawn else ""
        sys.stderr.write(up + "".join(f"\x1b[2K{line}\n" for line in lines))
        sys.stderr.flush()
        self.drawn = len(lines)


def progress_line(site: str, counts: dict, running: bool) -> str:
    return (f"{site:<16} {'crawling' if running else 'done':<8} pages {counts['pages_fetched']:>5}  "
            f"new {counts['articles_new']:>4}  duplicates {counts['duplicates']:>4}  "
            f"known {counts['skipped_known']:>5}  errors {counts['errors']:>3}")


_board: _Board | None = None


class Progress:
    def __init__(self, crawler):
        if not crawler.settings.getbool("CRAWLER_PROGRESS"):
            raise NotConfigured
        self.crawler = crawler
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def spider_opened(self, spider):
        global _board
        _board = _board or _Board()
        _board.open(spider.name, self.crawler.stats)

    def spider_closed(self, spider):
        _board.close(spider.name)
