"""Pages drawn by a browser: the download handler of a site that says `render = True` (every
page) or `render = "lists"` (list pages only), and of `crawler crawl --url ... --render`.

Rendered pages go through scrapy-playwright and Debian's Chromium (RENDER_BROWSER; Playwright
never downloads a browser of its own); every other request of the site, robots.txt included,
goes through Scrapy's plain HTTP handler, which this one extends. A rendered page is a request
like any other to the rest of the crawl: it takes a download slot (politeness), passes the
same middlewares (incremental skipping, frontier, retries, fault counts) and its HTML, as the
browser has drawn it, goes through the same extraction, cleaning, dedup and store.

- Waiting: until the selector of what the page is fetched for (the site's article links on a
  list page, its body on an article page) holds text, else until the network is idle; at most
  RENDER_WAIT seconds, after which the page is taken as it is (a list without links is then
  counted like any empty list page).
- A page that hangs (a script that never yields, a server that never answers) is closed after
  RENDER_TIMEOUT seconds and fails as a download timeout.
- Open pages are bounded by RENDER_MAX_PAGES per site; every page is closed when read, and the
  browser context (cookies, cache) is replaced every RENDER_CONTEXT_PAGES pages, so memory
  stays flat over a long run.
- The status is that of the document the page ends on: a challenge answered 412 that the
  browser passed (its script set a cookie and reloaded) yields the 200 page behind it.
"""
from __future__ import annotations

import asyncio
import re
import weakref

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout
from scrapy.exceptions import DownloadTimeoutError
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler
from scrapy_playwright.page import PageMethod

from crawler.article.extract import _is_xpath
from crawler.sites.spider import render_mode

# Chromium flags for a crawler: no sandbox (root in containers), no GPU, nothing phoned home.
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--mute-audio"]
# What a page needs to be read; the rest is never fetched (fewer requests to the site, less memory).
SKIPPED_RESOURCES = frozenset({"image", "media", "font", "stylesheet"})
# "At least one node matching the query holds text": CSS or XPath, evaluated in the page.
_HOLDS_TEXT = """([query, xpath]) => {
  if (xpath) {
    const found = document.evaluate(query, document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null);
    for (let i = 0; i < found.snapshotLength; i++) if ((found.snapshotItem(i).textContent || "").trim()) return true;
    return false;
  }
  return Array.from(document.querySelectorAll(query)).some(node => (node.textContent || "").trim());
}"""
_PARSEL_ONLY = re.compile(r"::(?:attr\([^)]*\)|text)$")  # parsel's pseudo-elements: browsers know none
_HANDLERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # crawler -> its RenderingHandler


def browser_query(query: str) -> str:
    """A selector of a site module, as a browser evaluates it."""
    return _PARSEL_ONLY.sub("", query.strip())


class RenderingHandler(ScrapyPlaywrightDownloadHandler):
    lazy = False  # started with the crawl: scrapy-playwright starts Playwright when the engine starts

    @classmethod
    def from_crawler(cls, crawler):
        """One handler for both schemes of a crawler (Scrapy builds one per scheme): one
        Playwright, one browser and one bound on open pages per site."""
        if crawler not in _HANDLERS:
            _HANDLERS[crawler] = cls(crawler)
        return _HANDLERS[crawler]

    def __init__(self, crawler):
        super().__init__(crawler)
        settings = crawler.settings
        self.crawler = crawler
        self.closed = False
        self.timeout = settings.getfloat("RENDER_TIMEOUT")
        self.wait_ms = settings.getfloat("RENDER_WAIT") * 1000
        self.context_pages = settings.getint("RENDER_CONTEXT_PAGES")
        self.rendered = 0
        proxy = settings.get("PROXY_URL")
        self.config.launch_options = {
            "executable_path": settings.get("RENDER_BROWSER"), "headless": True, "args": BROWSER_ARGS,
            **({"proxy": {"server": proxy}} if proxy else {}),
        }
        self.open_pages = asyncio.Semaphore(settings.getint("RENDER_MAX_PAGES"))
        self.config.navigation_timeout_ms = self.timeout * 1000
        # The browser's own headers (cookies the page set included), with the crawl's user agent.
        self.process_request_headers = None
        self.abort_request = _decoration
        self.user_agent = settings.get("USER_AGENT")

    async def close(self) -> None:
        if not self.closed:  # called once per scheme
            self.closed = True
            await super().close()

    def wants_browser(self, request) -> bool:
        if request.meta.get("dont_obey_robotstxt"):  # robots.txt itself
            return False
        mode = render_mode(self.crawler.spider)
        return mode == "all" or (mode == "lists" and not request.meta.get("article"))

    async def download_request(self, request, spider=None):
        if not self.wants_browser(request):
            return await super().download_request(request)
        async with self.open_pages:
            self._prepare(request)
            await self._maybe_launch_browser()  # once per crawl, seconds on a busy machine: not the page's time
            try:
                response = await asyncio.wait_for(self._download_request(request), self.timeout)
            except (asyncio.TimeoutError, PlaywrightTimeout):
                await self._close_hung(request)
                self.stats.inc_value("render/timeouts")
                raise DownloadTimeoutError(f"rendering {request.url} took more than {self.timeout:g} s") from None
            finally:
                request.meta.pop("playwright_page", None)
        self.stats.inc_value("render/pages")
        status = request.meta.pop("render_status", response.status)
        return response.replace(status=status) if status != response.status else response

    def _prepare(self, request) -> None:
        self.rendered += 1
        generation = (self.rendered - 1) // self.context_pages if self.context_pages else 0
        query = self._wait_for(request)
        request.meta.update({
            "playwright": True,
            "playwright_context": f"render-{generation}",
            "playwright_context_kwargs": {"user_agent": self.user_agent, "ignore_https_errors": True},
            "playwright_page_init_callback": self._watch,
            "playwright_page_methods": [PageMethod(self._settle, query)],
            "playwright_include_page": False,
        })
        self._close_idle_contexts(request.meta["playwright_context"])

    def _wait_for(self, request) -> str | None:
        spider = self.crawler.spider
        if request.meta.get("article"):
            query = (getattr(spider, "fields", None) or {}).get("body")
        else:
            query = getattr(spider, "article_links", None)
        return browser_query(query) if query else None

    async def _watch(self, page, request) -> None:
        """Before the page loads: keep a handle to close it by, and follow the status of the
        document it ends on."""
        request.meta["playwright_page"] = page

        def on_response(response):
            if response.request.is_navigation_request() and response.frame == page.main_frame:
                request.meta["render_status"] = response.status

        page.on("response", on_response)

    async def _settle(self, page, query: str | None) -> None:
        """Wait until `query` holds text (across reloads: a challenge reloads the page), else
        for the network to go idle; at most RENDER_WAIT."""
        deadline = asyncio.get_running_loop().time() + self.wait_ms / 1000
        while True:
            left_ms = (deadline - asyncio.get_running_loop().time()) * 1000
            if left_ms <= 0:
                self.stats.inc_value("render/wait_capped")
                return
            try:
                if query:
                    await page.wait_for_function(_HOLDS_TEXT, arg=[query, _is_xpath(query)], timeout=left_ms,
                                                 polling=100)
                else:
                    await page.wait_for_load_state("networkidle", timeout=left_ms)
                return
            except PlaywrightTimeout:
                self.stats.inc_value("render/wait_capped")
                return
            except PlaywrightError as exc:  # the page navigated meanwhile (a challenge reloading it)
                if "context was destroyed" not in str(exc) and "navigat" not in str(exc):
                    raise
                await asyncio.sleep(0.05)

    async def _close_hung(self, request) -> None:
        page = request.meta.get("playwright_page")
        if page is not None and not page.is_closed():
            try:
                await asyncio.wait_for(page.close(), 5)
            except (asyncio.TimeoutError, PlaywrightError):
                return
            self.stats.inc_value("playwright/page_count/closed")  # scrapy-playwright's count of closed pages

    def _close_idle_contexts(self, current: str) -> None:
        """Close the contexts that have been replaced, once their last page is closed."""
        for name, wrapper in list(self.context_wrappers.items()):
            if name != current and not wrapper.context.pages:
                asyncio.ensure_future(_quietly(wrapper.context.close()))


def _decoration(request) -> bool:
    return request.resource_type in SKIPPED_RESOURCES


async def _quietly(awaitable) -> None:
    try:
        await awaitable
    except PlaywrightError:
        pass
