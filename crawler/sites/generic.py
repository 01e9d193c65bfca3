"""Crawling a site that has no site module: article links and list pages found by their looks.

Government CMSs give their article pages recognisable URLs (TRS `t20220817_123.html`, Hanweb
`art_1229_5.html`, `content_5705.htm`, dated folders such as `/2022-08/17/` or `/20220817/`),
and list pages paginate as `index_1.html` or with a `下一页` link. A link with a long Chinese
anchor to an HTML page on the same host is taken as an article too. Everything stays on the
start URL's host; articles go through the generic extraction chain.
"""
from __future__ import annotations

import re
from urllib.parse import urldefrag, urljoin, urlsplit

import scrapy

from crawler.article.extract import cjk_len
from crawler.article.items import Page
from crawler.sites.spider import SiteSpider, first_links, note_browser_signs, use_browser
from crawler.article.text import normalize_space

DEFAULT_MAX_LIST_PAGES = 5
_ARTICLE_URL = re.compile(
    r"/t(?:19|20)\d{6}_\d+\.s?html?$"                     # TRS: t20220817_123456.html
    r"|/art_\d+_\d+\.html$"                                # Hanweb: art_1229_5.html
    r"|/content_\d+\.s?html?$"                             # content_5705.htm
    r"|/(?:19|20)\d{2}-?\d{2}/\d{2}/[^/]+\.s?html?$"       # /2022-08/17/x.html, /202208/17/x.html
    r"|/(?:19|20)\d{6}/[^/]+\.s?html?$"                    # /20220817/x.html
    r"|/art/(?:19|20)\d{2}/\d{1,2}/\d{1,2}/[^/]+\.html$",  # Hanweb: /art/2022/8/17/art_1_1.html
    re.IGNORECASE,
)
_PAGE_FILE = re.compile(r"\.(?:s?html?|jhtml|jsp|php|aspx?)$", re.IGNORECASE)
_LIST_URL = re.compile(r"/(?:index|list|default)(?:_\d+)?\.s?html?$|/$", re.IGNORECASE)
_NEXT_TEXT = re.compile(r"^(?:下一页|下页|后一页|下一頁|下頁|>|>>|›|»)$")
MIN_ANCHOR_CJK = 8  # a link with this many Chinese characters to an HTML page reads as a headline


def _same_host(url: str, host: str) -> bool:
    return (urlsplit(url).hostname or "").lower() == host


def discover_links(selector, page_url: str) -> tuple[list[str], list[str]]:
    """(article URLs, next list page URLs) of a list page, in page order, on the page's host."""
    host = (urlsplit(page_url).hostname or "").lower()
    articles: list[str] = []
    next_pages: list[str] = []
    for anchor in selector.xpath("//a[@href]"):
        href = anchor.attrib["href"].strip()
        if not href or href.startswith(("javascript:", "#", "mailto:")):
            continue
        url = urldefrag(urljoin(page_url, href))[0]
        if not _same_host(url, host) or url == page_url:
            continue
        text = normalize_space(anchor.xpath("string()").get() or "")
        path = urlsplit(url).path
        if _NEXT_TEXT.match(text):
            next_pages.append(url)
        elif _ARTICLE_URL.search(path) or (
                cjk_len(text) >= MIN_ANCHOR_CJK and _PAGE_FILE.search(path) and not _LIST_URL.search(path)):
            articles.append(url)
    return list(dict.fromkeys(articles)), list(dict.fromkeys(next_pages))


class GenericSpider(scrapy.Spider):
    """`crawler crawl --url START_URL`: one site from one list page, no site module. Named after
    the host, so its `crawl_runs` rows and stored articles carry the host as their site."""

    name = "generic"

    def __init__(self, url: str, max_list_pages: int = DEFAULT_MAX_LIST_PAGES, render: str | None = None, **kwargs):
        max_list_pages = int(max_list_pages)
        host = (urlsplit(url).hostname or "").lower()
        super().__init__(name=host, **kwargs)
        self.start_urls = [url]
        self.allowed_domains = [host]
        self.max_list_pages = max_list_pages
        self.list_pages = 0
        self.render = render or False  # "all" or "lists": pages drawn by a browser (crawler.crawl.rendering)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        """The start URL, list-page limit and rendering come from `-a url=...` or from the
        settings that `crawler crawl --url` sets."""
        kwargs.setdefault("url", crawler.settings.get("GENERIC_START_URL"))
        kwargs.setdefault("max_list_pages", crawler.settings.getint("GENERIC_MAX_LIST_PAGES"))
        kwargs.setdefault("render", crawler.settings.get("GENERIC_RENDER"))
        return super().from_crawler(crawler, *args, **kwargs)

    @classmethod
    def update_settings(cls, settings):
        super().update_settings(settings)
        if settings.get("GENERIC_RENDER"):
            use_browser(settings)

    def parse(self, response):
        """A list page: follow article-looking links, then the next list page while allowed."""
        self.list_pages += 1
        if not isinstance(response, scrapy.http.TextResponse):
            return
        articles, next_pages = discover_links(response.selector, response.url)
        if not articles:
            note_browser_signs(self, response)
        for url in first_links(self, response, articles):
            yield scrapy.Request(url, self.parse_article, meta={"article": True}, errback=self.on_error)
        if next_pages and self.list_pages < self.max_list_pages:
            yield scrapy.Request(next_pages[0], self.parse, errback=self.on_error)

    def parse_article(self, response):
        yield Page.from_response(response, site=self.name)

    on_error = SiteSpider.on_error
