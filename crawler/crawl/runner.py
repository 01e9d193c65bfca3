"""Run crawls in this process with Scrapy's CrawlerProcess and report the runs they recorded."""
from __future__ import annotations

import logging
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path

from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings

from crawler.crawl.faults import STORE_ERRORS_IN_ONE_LINE
from crawler.crawl.progress import Progress
from crawler.storage.lock import exclusive
from crawler.storage.store import shared_store


def log_path(db: str | Path, invocation: str) -> Path:
    """`logs/` next to the database, one file per command run, named so that `ls` sorts by time."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return Path(db).resolve().parent / "logs" / f"{stamp}-{invocation[:8]}.log"


def crawl(spiders: list[type], db: str | Path, overrides: dict | None = None,
          stderr_level: str = "WARNING") -> list[dict]:
    """Crawl the given spider classes concurrently into `db`; return their `crawl_runs` rows.
    Raises crawler.storage.lock.Locked when another crawl holds `db`. The full log (INFO) goes to a
    file per run, stderr gets `stderr_level` and up, and per-site progress when it is a terminal.
    (Twisted's reactor runs once per process: call this once per process.)"""
    with exclusive(db):
        store = shared_store(db)  # opened (and migrated) before any spider starts: fail early on a bad path
        store.mark_killed_runs()
        invocation = uuid.uuid4().hex
        log_file = log_path(db, invocation)
        log_file.parent.mkdir(parents=True, exist_ok=True)
        settings = get_project_settings()
        settings.setdict({
            "CRAWLER_DB": str(db), "CRAWLER_INVOCATION": invocation,
            "LOG_FILE": str(log_file), "LOG_LEVEL": "INFO", **(overrides or {}),
        }, priority="cmdline")
        # A log file on a full disk: the record is dropped, not printed with a traceback (the
        # command reports the full disk in one line).
        logging.raiseExceptions = False
        process = CrawlerProcess(settings)
        _also_log_to_stderr(settings, stderr_level)
        for handler in logging.getLogger().handlers:  # the log file's and stderr's
            handler.addFilter(STORE_ERRORS_IN_ONE_LINE)
        for spider in spiders:
            process.crawl(spider)
        progress = Progress(list(process.crawlers)) if sys.stderr.isatty() else None
        if progress:
            progress.start()
        process.start()
        if progress:
            progress.finish()
        if store.failure:
            store.end_failed_runs(invocation)
        return store.runs_of(invocation)


def _also_log_to_stderr(settings, level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(level.upper())
    handler.setFormatter(logging.Formatter(settings.get("LOG_FORMAT"), settings.get("LOG_DATEFORMAT")))
    logging.getLogger().addHandler(handler)
    # Scrapy sets its loggers to DEBUG and leaves the filtering to the handlers, so two debug
    # records per page ("Crawled", "Scraped") were built only to be dropped: its loggers now
    # stop at the lowest level that a handler writes.
    logging.getLogger("scrapy").setLevel(min(each.level for each in logging.getLogger().handlers))
