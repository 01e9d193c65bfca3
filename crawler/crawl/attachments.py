"""Attachments: PDFs, Word and Excel files, images, archives linked from crawled pages.

They are not articles. Links to them are recorded in the `attachments` table (URL, kind, the
page they were found on) and never requested; a page that only turns out to be a file when it
arrives (`/download?id=7` answering application/pdf) is recorded the same way and not parsed.
"""
from __future__ import annotations

import html
import posixpath
import re
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.http import TextResponse

from crawler.article.decode import ascii_compatible
from crawler.sites.failures import NotAnArticle
from crawler.storage.frontier import Frontier
from crawler.article.dates import utc_now
from crawler.storage.store import shared_store

# File name extensions of attachments (`ofd`, `wps`, `et`, `ceb` are Chinese office formats).
EXTENSIONS = frozenset({
    "pdf", "ofd", "ceb", "doc", "docx", "wps", "rtf", "xls", "xlsx", "et", "csv", "ppt", "pptx",
    "zip", "rar", "7z", "gz", "jpg", "jpeg", "png", "gif", "bmp", "tif", "tiff", "webp",
    "mp3", "mp4", "avi", "wmv", "flv", "apk", "exe",
})
# Content types of pages we parse (JSON: list endpoints); anything else that arrives is a file.
_PAGE_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "text/xml", "application/xml", "application/json")
_KIND_OF_TYPE = {
    "application/pdf": "pdf", "application/msword": "doc", "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/zip": "zip", "image/jpeg": "jpg",
}


# A link can only name an attachment if it spells one of the extensions, or if it has no path
# of its own (`?page=2`, `#top`, empty) and so keeps its page's. Looking at that first spares
# joining every link of every page with its page's URL: a portal page's footer alone has a
# hundred links, which made this middleware the largest cost of a crawl.
# (On lower-cased text: without IGNORECASE, `re` skips ahead to each dot.)
_SPELLS_EXTENSION = re.compile(r"\.(?:" + "|".join(sorted(EXTENSIONS)) + r")(?![a-z0-9])")


def may_name_attachment(href: str) -> bool:
    return not href or href.startswith(("?", "#")) or bool(_SPELLS_EXTENSION.search(href.lower()))


# Searched in the page's bytes, lower-cased: no decoding, and a case-sensitive pattern lets `re`
# skip ahead to each `href` (see crawler.article.decode.ascii_compatible).
_HREF_VALUE = re.compile(rb"""href\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""")
_BASE_TAG = re.compile(rb"<base[\s>/]")


def may_link_attachments(url: str, body: bytes, encoding: str) -> bool:
    """Whether a page (`body` in `encoding`) can hold an attachment link: an `href` spelling an
    extension, or a page URL (or <base>) with one that a link without a path keeps. Most
    article pages have none, and then their tree need not be built, nor their text decoded."""
    if kind_of_url(url) or not ascii_compatible(encoding):
        return True
    page = body.lower()
    if b"<base" in page and _BASE_TAG.search(page):
        return True
    # All the page's href values in one string, searched once (a loop over a portal page's
    # hundred links cost more than the search): an extension cannot span the line breaks, and
    # entities unescape the same in the whole as in each value. Read as Latin-1, which is
    # quick and never fails: an extension is ASCII, and in an ASCII-compatible encoding the
    # bytes next to ASCII characters decode as themselves or as non-ASCII letters either way.
    values = b"\n".join(_HREF_VALUE.findall(page)).decode("latin-1")
    return bool(_SPELLS_EXTENSION.search((html.unescape(values) if "&" in values else values).lower()))


def kind_of_url(url: str) -> str | None:
    """The attachment kind of a link by its file name (`pdf`, `docx`...), or None."""
    extension = posixpath.splitext(urlsplit(url).path)[1].lower().lstrip(".")
    return extension if extension in EXTENSIONS else None


def kind_of_content_type(content_type: str | None) -> str | None:
    """None for a page we parse (or no type given), else the attachment kind."""
    media = (content_type or "").split(";")[0].strip().lower()
    if not media or media.startswith(_PAGE_TYPES):
        return None
    return _KIND_OF_TYPE.get(media) or media.split("/")[-1][:20]


class _Recorder:
    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.store = shared_store(crawler.settings["CRAWLER_DB"])

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def record(self, links: dict[str, tuple[str, str | None]], found_on: str) -> None:
        """`links`: URL -> (kind, content type)."""
        site, run_id, now = self.crawler.spider.name, self.stats.get_value("run/id"), utc_now()
        self.store.add_attachments([
            {"url": url, "kind": kind, "content_type": content_type, "found_on": found_on,
             "site": site, "run_id": run_id, "found_at": now}
            for url, (kind, content_type) in links.items()])
        self.stats.inc_value("attachments/found", len(links))


class AttachmentLinks(_Recorder):
    """Spider middleware: record the attachment links of every crawled page, and drop any
    request the spider makes for one."""

    def _links(self, response, result: list) -> dict:
        # lxml's own strings: a parsel Selector per link would cost more than the rest of this
        hrefs = response.selector.root.xpath("//a/@href") if isinstance(response, TextResponse) and \
            may_link_attachments(response.url, response.body, response.encoding) else []
        urls = [response.urljoin(href) for href in map(str.strip, hrefs) if may_name_attachment(href)]
        urls += [entry.url for entry in result if isinstance(entry, Request)]
        return {url: (kind, None) for url in urls if (kind := kind_of_url(url))}

    def _recorded(self, response, result: list) -> list:
        links = self._links(response, result)
        if links:
            self.record(links, found_on=response.url)
        return [entry for entry in result if not (isinstance(entry, Request) and entry.url in links)]

    def process_spider_output(self, response, result):
        return self._recorded(response, list(result))

    async def process_spider_output_async(self, response, result):
        for entry in self._recorded(response, [entry async for entry in result]):
            yield entry


class AttachmentResponses(_Recorder):
    """Downloader middleware: a response that is a file, not a page, is recorded and goes no
    further (the spider's errback sees NotAnArticle, which is not an error)."""

    def process_response(self, request, response, spider=None):
        content_type = response.headers.get("Content-Type")
        content_type = content_type.decode("latin-1") if content_type else None
        kind = kind_of_content_type(content_type)
        if response.status != 200 or kind is None:
            return response
        referer = request.headers.get("Referer")
        self.record({response.url: (kind, content_type)}, found_on=referer.decode("latin-1") if referer else "")
        # Settled for good: the next run must not take it from the frontier again.
        Frontier(self.store, self.crawler.spider.name).done((request.meta.get("redirect_urls") or [request.url])[0])
        raise NotAnArticle(f"attachment ({kind}): {response.url}")
