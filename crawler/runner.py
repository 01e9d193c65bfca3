"""Run crawls in this process with Scrapy's CrawlerProcess and report the runs they recorded."""
from __future__ import annotations

import uuid
from pathlib import Path

from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings

from crawler.store import shared_store


def crawl(spiders: list[type], db: str | Path, overrides: dict | None = None) -> list[dict]:
    """Crawl the given spider classes concurrently into `db`; return their `crawl_runs` rows.
    (Twisted's reactor runs once per process: call this once per process.)"""
    invocation = uuid.uuid4().hex
    settings = get_project_settings()
    settings.setdict({"CRAWLER_DB": str(db), "CRAWLER_INVOCATION": invocation, **(overrides or {})}, priority="cmdline")
    store = shared_store(db)  # opened (and migrated) before any spider starts: fail early on a bad path
    process = CrawlerProcess(settings)
    for spider in spiders:
        process.crawl(spider)
    process.start()
    return store.runs_of(invocation)
