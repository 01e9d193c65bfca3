"""Scrapy wiring of incremental, resumable crawls.

- Article URLs already stored (or recorded as duplicates) are never requested again.
- List pages: paging stops at a page whose article links are all known, and at
  CRAWLER_MAX_LIST_PAGES (the depth of a first run); a list page is requested with the ETag /
  Last-Modified it had the last time, and a 304 ends paging there.
- Every request is handed to the frontier (crawler.storage.frontier) before Scrapy schedules it, in the
  batch that marks its list page done, and removed once handled; a run starts with what the
  last run left, so a killed run resumes.

The frontier's writes go through the crawl's writes thread (crawler.storage.storethread), in order
after the article they belong to, and the lookups to its read connection: the reactor never
waits for SQLite's write lock.
"""
from __future__ import annotations

from scrapy import Request, signals
from scrapy.http import HtmlResponse

from crawler.storage import storethread
from crawler.article.dedup import canonical_url
from crawler.sites.spider import PAST_END
from crawler.storage.frontier import Frontier, save_validators, validators_of
from crawler.storage.store import shared_store

PERSISTED_META = ("article", "list_page")  # what a resumed request needs to be handled like the original


def _original_url(response) -> str:
    """The URL the request was made (and recorded in the frontier) with, before any redirect."""
    return (response.meta.get("redirect_urls") or [response.request.url])[0]


class _WritesUser:
    """A middleware that uses the crawl's writes thread, from its first use to the spider's end."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.store = shared_store(crawler.settings["CRAWLER_DB"])
        self._writes: storethread.StoreThread | None = None
        crawler.signals.connect(self._release_writes, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    @property
    def writes(self) -> storethread.StoreThread:
        if self._writes is None:
            self._writes = storethread.of_crawler(self.crawler)
        return self._writes

    def _release_writes(self) -> None:
        if self._writes is not None:
            self._writes = None
            storethread.release(self.store)


class IncrementalCrawl(_WritesUser):
    """Spider middleware: skip known articles, decide how far to page, keep the frontier."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self.max_list_pages = crawler.settings.getint("CRAWLER_MAX_LIST_PAGES")
        self._frontier: Frontier | None = None
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(self.article_handled, signal=signal)

    @property
    def frontier(self) -> Frontier:
        if self._frontier is None:
            self._frontier = Frontier(self.store, self.crawler.spider.name)
        return self._frontier

    # --- start: the site's list pages, then whatever the last run left unfinished -------------
    async def process_start(self, start):
        spider = self.crawler.spider
        async for entry in start:
            if isinstance(entry, Request) and not entry.meta.get("article"):
                self.stats.inc_value("start/requests")
                entry = entry.replace(meta={**entry.meta, "list_page": 1, "start": True},
                                      errback=entry.errback or getattr(spider, "on_error", None))
            yield entry
        for left in self.frontier.resume():
            callback, errback = (getattr(spider, name, None) if name else None
                                 for name in (left["callback"], left["errback"]))
            known = left["meta"].get("article") and self.writes.is_known(canonical_url(left["url"]))
            if known or (left["callback"] and callback is None):
                # Stored just before the last run was killed, or the site module changed since.
                self.writes.post(self.frontier.done, left["url"])
                continue
            self.stats.inc_value("frontier/resumed")
            yield Request(left["url"], meta=left["meta"], callback=callback, errback=errback)

    # --- what a page yields ----------------------------------------------------------------------
    # A page's output is looked at as a whole (are all its articles known?). If the callback
    # fails part way, what it yielded still goes out, and the page stays in the frontier.
    def process_spider_output(self, response, result):
        entries = []
        try:
            entries.extend(result)
        except Exception:
            yield from self._handle(response, entries, complete=False)
            raise
        yield from self._handle(response, entries)

    async def process_spider_output_async(self, response, result):
        entries = []
        try:
            async for entry in result:
                entries.append(entry)
        except Exception:
            for entry in self._handle(response, entries, complete=False):
                yield entry
            raise
        for entry in self._handle(response, entries):
            yield entry

    def _handle(self, response, entries: list, complete: bool = True) -> list:
        articles = [e for e in entries if isinstance(e, Request) and e.meta.get("article")]
        others = [e for e in entries if isinstance(e, Request) and not e.meta.get("article")]
        items = [e for e in entries if not isinstance(e, Request)]
        unknown = [r for r in articles if not self.writes.is_known(canonical_url(r.url))]
        self.stats.inc_value("articles/skipped_known", len(articles) - len(unknown))
        list_page = response.meta.get("list_page")
        truncated = False
        if list_page is not None:
            # Any other request a list page yields is its next list page.
            others, truncated = self._next_pages(response, list_page, articles, unknown, others)
        requests = unknown + others
        # An article page's entry goes when its item has been stored (article_handled); a page
        # that failed (HTTP error after retries) stays for the next run to try again, but not the
        # 404 after a URL template's last list page (crawler.sites.spider.PAST_END): the list ended.
        past_end = response.status == 404 and response.meta.get(PAST_END)
        handled = complete and not items and (response.status < 400 or past_end)
        if response.meta.get("start") and response.status < 400:
            self.stats.inc_value("start/fetched")  # none of them: the run failed (crawler.crawl.runs)
        self.writes.post(self.frontier.add, [self._entry(r) for r in requests],
                         done=_original_url(response) if handled else None)
        if handled and list_page is not None and response.status == 200:
            etag, modified = (response.headers.get(h) for h in ("ETag", "Last-Modified"))
            # A page whose next page was cut off by the depth limit must be read again next time.
            self.writes.post(save_validators, self.store, _original_url(response), *(
                (None, None) if truncated else (v.decode("latin-1") if v else None for v in (etag, modified))))
        return requests + items

    def _next_pages(self, response, list_page: int, articles: list, unknown: list, pages: list):
        if response.status < 400:  # a list page that failed (its errback's output) was not read
            self.stats.inc_value("list_pages/parsed")
        self.stats.inc_value("list_pages/article_links", len(articles))
        if not pages:
            return [], False
        if articles and not unknown:
            self.stats.inc_value("list_pages/stopped_known")
            self.crawler.spider.logger.info("paging stops at %s: every article on it is known", response.url)
            return [], False
        if self.max_list_pages and list_page >= self.max_list_pages:
            self.stats.inc_value("list_pages/stopped_depth")
            return [], True
        return [r.replace(meta={**r.meta, "list_page": list_page + 1}) for r in pages], False

    def _entry(self, request: Request) -> dict:
        spider = self.crawler.spider

        def name(method):
            return method.__name__ if getattr(method, "__self__", None) is spider else None

        return {"url": request.url, "callback": name(request.callback), "errback": name(request.errback),
                "meta": {key: request.meta[key] for key in PERSISTED_META if key in request.meta}}

    def article_handled(self, item, response, **_):
        if response is not None and response.meta.get("article"):
            # After the page's article in the writes thread's queue: in the same batch or a later one.
            self.writes.post(self.frontier.done, _original_url(response))


class ConditionalListRequests(_WritesUser):
    """Downloader middleware: ask for a list page only if it changed since it was last followed
    (If-None-Match / If-Modified-Since); a 304 reaches the spider as an empty page."""

    def process_request(self, request):
        if request.meta.get("list_page") is None:
            return None
        etag, modified = validators_of(self.writes.reader, request.url)
        if etag:
            request.headers["If-None-Match"] = etag
        if modified:
            request.headers["If-Modified-Since"] = modified
        if etag or modified:
            request.meta["handle_httpstatus_list"] = [*request.meta.get("handle_httpstatus_list", ()), 304]
        return None

    def process_response(self, request, response):
        if response.status != 304 or request.meta.get("list_page") is None:
            return response
        self.stats.inc_value("list_pages/not_modified")
        return HtmlResponse(response.url, status=304, headers=response.headers, body=b"", request=request,
                            encoding="utf-8")
