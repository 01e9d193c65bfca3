"""Attachment files of stored articles: downloaded after a run's article crawls, read to text.

A site module with `fetch_attachments = True` has the attachments linked from its stored
articles downloaded once every article crawl of the run has finished, so that no file, however
slow or large, holds up an article of any site. The downloads go through the same Scrapy
settings as pages (robots.txt, AutoThrottle, per-site concurrency, the identifying user agent),
at most CRAWLER_ATTACHMENT_MAX_BYTES each, of the kinds in CRAWLER_ATTACHMENT_KINDS. The text is
read in a child process under a time and a memory limit (crawler.crawl.file_reading), waited
for on a thread, off the reactor. Each file gets one `attachment_files` row, whatever
happened: its text, or why there is none.
"""
from __future__ import annotations

import scrapy
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from crawler.article.dates import utc_now
from crawler.article.filetext import sniffed_kind
from crawler.crawl.file_reading import read_limited
from crawler.storage.store import shared_store

# Components of an article crawl that have no business with files: they would skip, record or
# page through them as pages, or count a run of a site called "attachments".
_OFF = {
    "SPIDER_MIDDLEWARES": ("crawler.crawl.incremental.IncrementalCrawl", "crawler.crawl.attachments.AttachmentLinks"),
    "DOWNLOADER_MIDDLEWARES": ("crawler.crawl.attachments.AttachmentResponses",
                               "crawler.crawl.incremental.ConditionalListRequests", "crawler.crawl.middlewares.MetaRefresh"),
    "EXTENSIONS": ("crawler.crawl.runs.RunRecorder", "crawler.crawl.faults.FaultCounts"),
    "ITEM_PIPELINES": ("crawler.crawl.pipelines.ArticlePipeline",),
}


def downloading_sites(spiders: list[type]) -> list[str]:
    """The names of the site modules among `spiders` whose attachments are downloaded."""
    return [spider.name for spider in spiders if getattr(spider, "fetch_attachments", False)]


class AttachmentSpider(scrapy.Spider):
    """Downloads the pending attachments of the stored articles of `sites`."""

    name = "attachments"

    def __init__(self, sites: list[str], **kwargs):
        super().__init__(**kwargs)
        self.sites = sites

    @classmethod
    def update_settings(cls, settings):
        super().update_settings(settings)
        for name, paths in _OFF.items():
            settings.set(name, {**settings.getdict(name), **dict.fromkeys(paths)}, priority="spider")
        settings.set("DOWNLOAD_MAXSIZE", settings.getint("CRAWLER_ATTACHMENT_MAX_BYTES"), priority="spider")
        settings.set("DOWNLOAD_WARNSIZE", 0, priority="spider")

    @property
    def store(self):
        return shared_store(self.settings["CRAWLER_DB"])

    async def start(self):
        for row in self.store.pending_attachments(self.sites, self.settings.getlist("CRAWLER_ATTACHMENT_KINDS")):
            yield scrapy.Request(row["url"], callback=self.parse_file, errback=self.failed, meta={"attachment": row})

    async def parse_file(self, response):
        row = response.meta["attachment"]
        kind = sniffed_kind(response.body, row["kind"])
        found = await maybe_deferred_to_future(deferToThread(
            read_limited, response.body, kind, self.settings.getfloat("CRAWLER_ATTACHMENT_READ_SECONDS"),
            self.settings.getint("CRAWLER_ATTACHMENT_READ_MEMORY")))
        content_type = response.headers.get("Content-Type")
        self._save(row, found.status, found.reason, kind=kind, text=found.text, pages=found.pages,
                   content_type=content_type.decode("latin-1") if content_type else None, data=response.body)

    def failed(self, failure):
        exc = failure.value
        if isinstance(exc, DownloadCancelledError):
            status, reason = "too_large", f"over {self.settings.getint('DOWNLOAD_MAXSIZE')} bytes"
        elif isinstance(exc, HttpError):
            status, reason = "failed", f"HTTP {exc.response.status}"
        elif isinstance(exc, IgnoreRequest):  # robots.txt forbids it, or a redirect leaves the site
            status, reason = "skipped", str(exc)
        else:
            status, reason = "failed", f"{type(exc).__name__}: {exc}"
        row = failure.request.meta["attachment"]
        self._save(row, status, reason[:300], kind=row["kind"])

    def _save(self, row: dict, status: str, reason: str | None, data: bytes | None = None, **values) -> None:
        self.store.save_attachment_file({"url": row["url"], "site": row["site"], "status": status, "reason": reason,
                                         "fetched_at": utc_now(), **values}, data)
        self.crawler.stats.inc_value(f"attachments/{status}")
