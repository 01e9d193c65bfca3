"""The base of every site module in `spiders/`, and the registry that finds them.

A site module declares how to crawl (start URLs, article links, the pager of its list pages or a
JSON list endpoint) and, where the
generic extractor is not enough, how to extract (selectors per field, elements to drop). Any
field it leaves out is filled by the generic chain of `crawler.article.extract`.
"""
from __future__ import annotations

import re
from itertools import islice
from pathlib import Path
from urllib.parse import urlsplit

import parsel
import scrapy
from scrapy.http import TextResponse
from scrapy.spiderloader import get_spider_loader
from scrapy.utils.project import get_project_settings

from crawler.article.extract import select
from crawler.sites.browser_signs import browser_signs
from crawler.sites.failures import count_failure
from crawler.sites.jsonlist import JsonList
from crawler.sites.pagers import PAGER_STAT, ListDoc, check_next_page, declared_next, next_by_template
from crawler.article.items import Page


PAST_END = "may_be_past_end"  # request meta: a list page that may be the one after the last


class SiteSpider(scrapy.Spider):
    # --- crawling
    article_links: str = ""  # CSS or XPath selector of the article <a> elements (or of their hrefs)
    # The next list page, one of: a pager by name ("trs", "hanweb", "link", "select", "numbered",
    # "form"; see crawler.sites.pagers), "auto" (whichever the page has, as `crawl --url` does),
    # a URL template with {n} (page number, 2 for the second page) or {i} (zero-based index),
    # or a CSS/XPath selector of the next link. None: the start pages only.
    next_page: str | None = None
    list_json: JsonList | None = None  # a JSON list endpoint instead of HTML list pages
    # --- extraction: selectors by field name ("title", "published", "source", "author",
    # "summary", "body", or a government document's header field: crawler.article.document.FIELDS);
    # a text field may instead be a @staticmethod `extract_<field>(sel)`.
    fields: dict[str, str] = {}
    drop: tuple[str, ...] = ()  # elements removed from the body before it becomes text
    # --- attachments: download the files linked from stored articles after the run's article
    # crawls, and store their text (crawler.crawl.attachment_downloads)
    fetch_attachments: bool = False
    # --- pages a browser must draw: True (every page), "lists" (list pages only), False
    render: bool | str = False

    @classmethod
    def update_settings(cls, settings):
        super().update_settings(settings)
        if cls.render:
            use_browser(settings)

    def __init_subclass__(cls, **kwargs):
        """A site module's pager and render mode are checked when it is loaded; a JSON list starts
        at its page 1."""
        super().__init_subclass__(**kwargs)
        if cls.render not in RENDER_MODES:
            raise ValueError(f"{cls.__name__}.render must be True, False or \"lists\", not {cls.render!r}")
        check_next_page(cls.next_page)
        if cls.list_json is not None and not cls.__dict__.get("start_urls"):
            cls.start_urls = [cls.list_json.first_url]

    def parse(self, response):
        """A list page: follow its article links and its next list page."""
        # 304: unchanged since it was last followed (crawler.crawl.incremental); 404: the page after
        # the last, which a URL template or a JSON list asks for
        if response.status in (304, 404):
            return
        past_end = response.meta.get(PAST_END)
        listed = {}  # article URL -> what the list says of it
        if self.list_json is not None:
            listed = {item.pop("url"): {k: v for k, v in item.items() if v} for item in self.list_json.items(
                response.text, response.url)}
            articles = first_links(self, response, list(listed))
            next_url, pager = (next_by_template(self.list_json.url, response.url), "json") if articles else (None, None)
        else:
            doc, left_out = list_doc(response, self.settings.getint("CRAWLER_MAX_LINKS_PER_PAGE"))
            articles = first_links(self, response, _hrefs(doc, self.article_links), left_out)
            next_url, pager = declared_next(doc, self.next_page)
            if pager == "template" and not articles:  # a template pages on forever: stop at an empty page
                next_url = None
        if not articles and not past_end:  # the site changed its layout, or this is a trap page: flag it, go on
            self.crawler.stats.inc_value("lists/no_article_links")
            self.logger.warning("no article links on list page %s (selector %r)", response.url, self.article_links)
            note_browser_signs(self, response)
        for url in articles:
            yield scrapy.Request(url, self.parse_article, meta={"article": True, "listed": listed.get(url, {})},
                                 errback=self.on_error)
        if next_url:
            self.crawler.stats.inc_value(PAGER_STAT + pager)
            # A template knows no last page: a 404 or an empty list after it ends the list, no failure.
            meta = {PAST_END: True, "handle_httpstatus_list": [404]} if pager in ("template", "json") else {}
            yield scrapy.Request(next_url, self.parse, errback=self.on_error, meta=meta)

    def parse_article(self, response):
        yield Page.from_response(response, site=self.name)

    def on_error(self, failure):
        """A request that failed for good (HTTP error after retries, DNS, timeout): count it."""
        if count_failure(self.crawler.stats, failure.value) is None:
            return
        request = getattr(failure, "request", None)
        response = getattr(failure.value, "response", None)  # an HTTP error: a challenge page, say
        if response is not None and not response.meta.get("article"):
            note_browser_signs(self, response)
        self.logger.warning("fetch failed: %s (%s)", getattr(request, "url", "?"), failure.getErrorMessage())


RENDER_MODES = (True, False, "lists")


def render_mode(spider) -> str | None:
    """Which pages of a spider (or its class) a browser draws: "all", "lists" or None, from its
    `render` (True or "all", "lists", False or None)."""
    mode = getattr(spider, "render", False)
    if mode is True or mode == "all":
        return "all"
    return "lists" if mode == "lists" else None


def browser_missing(settings) -> str | None:
    """Why pages cannot be rendered on this machine, in one line; None when they can."""
    browser = Path(settings.get("RENDER_BROWSER"))
    return None if browser.is_file() else f"{browser} is not installed (run `make browser-deps`)"


def note_browser_signs(spider, response) -> None:
    """A list page without article links that a browser would draw (crawler.sites.browser_signs):
    counted as `lists/needs_browser` for `crawler report`, and the reason logged."""
    if "playwright" in response.flags or not isinstance(response, TextResponse):
        return  # drawn by the browser already
    reason = browser_signs(response.selector, response.status)
    if reason:
        spider.crawler.stats.inc_value("lists/needs_browser")
        spider.logger.warning("list page %s needs a browser: %s (set render = True in the site module, "
                              "or crawl --url with --render)", response.url, reason)


def use_browser(settings) -> None:
    """A crawler of a site that renders: its http(s) requests go to the rendering handler."""
    handlers = {**settings.getdict("DOWNLOAD_HANDLERS"), **settings.getdict("RENDER_DOWNLOAD_HANDLERS")}
    settings.set("DOWNLOAD_HANDLERS", handlers, priority="spider")


# A page with more `<a` than this many times CRAWLER_MAX_LINKS_PER_PAGE is a link farm.
FARM_FACTOR = 4
_ANCHOR = re.compile(r"<a[\s>]", re.IGNORECASE)


def link_selector(response, limit: int) -> tuple[parsel.Selector, int]:
    """The selector to look for a page's first `limit` article links in, and how many links it
    leaves out. On a link farm that is the page's beginning only: libxml2 takes time that grows
    with the square of the matches of a step such as `ul li a` (40,000 links: 11 s, the reactor
    and SIGTERM waiting), and links past the limit are not followed anyway."""
    if not limit:
        return response.selector, 0
    text = response.text
    anchors = [found.start() for found in islice(_ANCHOR.finditer(text), FARM_FACTOR * limit + 1)]
    if len(anchors) <= FARM_FACTOR * limit:
        return response.selector, 0
    return parsel.Selector(text=text[:anchors[-1]]), 1 + sum(1 for _ in _ANCHOR.finditer(text, anchors[-1] + 1))


def first_links(spider, response, links: list[str], left_out: int = 0) -> list[str]:
    """At most CRAWLER_MAX_LINKS_PER_PAGE (0: all) of a page's article links; the rest (and
    `left_out` not looked at) are counted (`trap/links_per_page`, in `trapped`) and logged. A
    link farm of 250,000 links would otherwise hold the reactor, every site of the crawl and
    SIGTERM with it, for minutes while each link becomes a request and goes through the
    middlewares and the frontier."""
    limit = spider.settings.getint("CRAWLER_MAX_LINKS_PER_PAGE")
    if not limit or len(links) + left_out <= limit:
        return links
    spider.crawler.stats.inc_value("trap/links_per_page", max(len(links) - limit, 0) + left_out)
    spider.logger.warning("%d links or more on %s: only the first %d article links are followed",
                          len(links) + left_out, response.url, limit)
    return links[:limit]


def list_doc(response, limit: int = 0) -> tuple[ListDoc, int]:
    """A list page response as the pagers read it (its parsed tree reused), and how many links
    it leaves out (a link farm's end, see `link_selector`)."""
    selector, left_out = link_selector(response, limit)
    return ListDoc(response.text, response.url, selector), left_out


def _hrefs(doc: ListDoc, query: str) -> list[str]:
    if not query:  # a freshly scaffolded site module has no selectors yet
        return []
    hrefs = (n.root if isinstance(n.root, str) else n.attrib.get("href", "") for n in select(doc.selector, query))
    return list(dict.fromkeys(url for url in map(doc.absolute, hrefs) if url))


def site_classes() -> dict[str, type[SiteSpider]]:
    """All site modules in `spiders/`, by name."""
    loader = get_spider_loader(get_project_settings())
    return {name: loader.load(name) for name in loader.list()}


def on_domains(url: str, domains) -> bool:
    """The URL's host is one of `domains` or a subdomain of one (any port)."""
    host = (urlsplit(url).hostname or "").lower()
    return any(host == domain or host.endswith("." + domain) for domain in domains or ())


def site_for_url(url: str) -> type[SiteSpider] | None:
    """The site module whose allowed domains cover the URL's host, if any."""
    for spider in site_classes().values():
        if on_domains(url, getattr(spider, "allowed_domains", None)):
            return spider
    return None
