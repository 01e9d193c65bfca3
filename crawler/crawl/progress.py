"""Each site's counts on the terminal while a crawl runs: one line per site, redrawn in place.

The `crawler` command shows it only when stderr is a terminal, so cron mail and log files get
no progress lines.
"""
from __future__ import annotations

import sys

from twisted.internet.task import LoopingCall

from crawler.storage.runcounts import run_counts

REDRAW_EVERY_S = 1.0


def progress_line(site: str, counts: dict, running: bool) -> str:
    return (f"{site:<16} {'crawling' if running else 'done':<8} pages {counts['pages_fetched']:>5}  "
            f"new {counts['articles_new']:>4}  duplicates {counts['duplicates']:>4}  "
            f"known {counts['skipped_known']:>5}  errors {counts['errors']:>3}")


class Progress:
    """Draws the lines of Scrapy crawlers (one per site) on stderr, every second."""

    def __init__(self, crawlers: list):
        self.crawlers = crawlers
        self.drawn = 0
        self.ticker = LoopingCall(self.draw)

    def start(self) -> None:
        self.ticker.start(REDRAW_EVERY_S, now=True)

    def finish(self) -> None:
        if self.ticker.running:
            self.ticker.stop()
        self.draw()

    def draw(self) -> None:
        lines = [progress_line(crawler.spidercls.name, run_counts(crawler.stats.get_stats()), crawler.crawling)
                 for crawler in self.crawlers if crawler.stats is not None]
        up = f"\x1b[{self.drawn}F" if self.drawn else ""  # back to the first line drawn last time
        sys.stderr.write(up + "".join(f"\x1b[2K{line}\n" for line in lines))
        sys.stderr.flush()
        self.drawn = len(lines)
