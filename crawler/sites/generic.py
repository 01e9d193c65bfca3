"""Crawling a site that has no site module: article links and list pages found by their looks.

Government CMSs give their article pages recognisable URLs (TRS `t20220817_123.html`, Hanweb
`art_1229_5.html`, `content_5705.htm`, dated folders such as `/2022-08/17/` or `/20220817/`),
and the next list page is found by whichever pager the page has (crawler.sites.pagers: 下一页
links, TRS script pagers, Hanweb jpage data, 跳转 boxes and forms, numbered page URLs). A link
with a long Chinese anchor to an HTML page on the same host is taken as an article too; Hanweb
records kept in the page's XML are read as links. Everything stays on the
start URL's host; articles go through the generic extraction chain.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import scrapy

from crawler.article.extract import cjk_len
from crawler.article.items import Page
from crawler.sites.pagers import PAGER_STAT, ListDoc, detect_next
from crawler.sites.spider import SiteSpider, first_links, list_doc, note_browser_signs, use_browser

DEFAULT_MAX_LIST_PAGES = 5
_ARTICLE_URL = re.compile(
    r"/t(?:19|20)\d{6}_\d+\.s?html?$"                      # TRS: t20220817_123456.html
    r"|/art_\d+_\d+\.html$"                                 # Hanweb: art_1229_5.html
    r"|/content_\d+\.s?html?$"                              # content_5705.htm
    r"|/(?:19|20)\d{2}-?\d{2}/\d{2}/[^/]+\.s?html?$"        # /2022-08/17/x.html, /202208/17/x.html
    r"|/(?:19|20)\d{6}/[^/]+\.s?html?$"                     # /20220817/x.html
    r"|/(?:19|20)\d{2}/\d{1,2}/\d{1,2}/[^/]+\.s?html?$"      # /2021/1/4/x.html, Hanweb /art/2022/8/17/art_1_1.html
    r"|/(?:article|articleinfo|newsinfo|info|detail|details|show|view)[-_]\d+\.s?html?$"  # articleinfo-373.html
    r"|/info/\d+/\d+\.s?html?$"                            # VSB/WebPlus: /info/1023/12345.htm
    r"|/(?:19|20)\d{2}/\d{4}/c\d+a\d+/page\.s?html?$"        # WebPlus: /2022/0817/c1234a5678/page.htm
    r"|/post_\d+\.html$"                                     # Guangdong gkmlpt: /content/post_3812345.html
    r"|/c\d+/content\.s?html?$"                              # /n2588025/c27357372/content.html
    r"|/(?:19|20)\d{2}(?:0[1-9]|1[0-2])/(?!index|list|default)[^/]+\.s?html?$",  # /202208/a1b2c3d4e5.shtml
    re.IGNORECASE,
)
_PAGE_FILE = re.compile(r"\.(?:s?html?|jhtml|jsp|php|aspx?|do)$", re.IGNORECASE)
_LIST_URL = re.compile(r"/(?:index|list|default)(?:_\d+)?\.s?html?$|/$", re.IGNORECASE)
MIN_ANCHOR_CJK = 8  # a link with this many Chinese characters to an HTML page reads as a headline


def _same_host(url: str, host: str) -> bool:
    return (urlsplit(url).hostname or "").lower() == host


def article_links(doc: ListDoc) -> list[str]:
    """The article URLs of a list page, in page order, on the page's host."""
    host = (urlsplit(doc.url).hostname or "").lower()
    articles: list[str] = []
    for link in doc.links:  # hrefs, and the URLs of onclick="openDetail('...')" links
        if not _same_host(link.url, host) or link.url == doc.url:
            continue
        path = urlsplit(link.url).path
        if _ARTICLE_URL.search(path) or (
                cjk_len(link.label) >= MIN_ANCHOR_CJK and _PAGE_FILE.search(path) and not _LIST_URL.search(path)):
            articles.append(link.url)
    return list(dict.fromkeys(articles))


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
        """A list page: follow article-looking links, then the next list page, by whichever pager
        the page has (counted per pager in the run stats), while allowed."""
        self.list_pages += 1
        if not isinstance(response, scrapy.http.TextResponse):
            return
        doc, left_out = list_doc(response, self.settings.getint("CRAWLER_MAX_LINKS_PER_PAGE"))
        articles = article_links(doc)
        if not articles:
            note_browser_signs(self, response)
        for url in first_links(self, response, articles, left_out):
            yield scrapy.Request(url, self.parse_article, meta={"article": True}, errback=self.on_error)
        url, pager = detect_next(doc)
        if url and _same_host(url, self.allowed_domains[0]) and self.list_pages < self.max_list_pages:
            self.crawler.stats.inc_value(PAGER_STAT + pager)
            yield scrapy.Request(url, self.parse, errback=self.on_error)

    def parse_article(self, response):
        yield Page.from_response(response, site=self.name)

    on_error = SiteSpider.on_error
