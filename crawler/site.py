"""The base of every site module in `spiders/`, and the registry that finds them.

A site module declares how to crawl (start URLs, article links, next list page) and, where the
generic extractor is not enough, how to extract (selectors per field, elements to drop). Any
field it leaves out is filled by the generic chain of `crawler.extract`.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import scrapy
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.project import get_project_settings

from crawler.extract import select
from crawler.items import Page


class SiteSpider(scrapy.Spider):
    # --- crawling: CSS or XPath selectors of <a> elements (or of their href attributes)
    article_links: str = ""
    next_page: str | None = None
    # --- extraction: selectors by field name ("title", "published", "source", "author",
    # "summary", "body"); a text field may instead be a @staticmethod `extract_<field>(sel)`.
    fields: dict[str, str] = {}
    drop: tuple[str, ...] = ()  # elements removed from the body before it becomes text

    def parse(self, response):
        """A list page: follow article links and the next list page."""
        for href in _hrefs(response, self.article_links):
            yield response.follow(href, self.parse_article, meta={"article": True}, errback=self.on_error)
        if self.next_page:
            for href in _hrefs(response, self.next_page)[:1]:
                yield response.follow(href, self.parse, errback=self.on_error)

    def parse_article(self, response):
        yield Page.from_response(response, site=self.name)

    def on_error(self, failure):
        """A request that failed for good (HTTP error after retries, DNS, timeout): count it."""
        self.crawler.stats.inc_value("errors/http")
        request = getattr(failure, "request", None)
        self.logger.warning("fetch failed: %s (%s)", getattr(request, "url", "?"), failure.getErrorMessage())


def _hrefs(response, query: str) -> list[str]:
    if not query:  # a freshly scaffolded site module has no selectors yet
        return []
    hrefs = (n.root if isinstance(n.root, str) else n.attrib.get("href", "") for n in select(response.selector, query))
    return [href.strip() for href in hrefs if href.strip() and not href.startswith(("javascript:", "#"))]


def site_classes() -> dict[str, type[SiteSpider]]:
    """All site modules in `spiders/`, by name."""
    loader = SpiderLoader.from_settings(get_project_settings())
    return {name: loader.load(name) for name in loader.list()}


def site_for_url(url: str) -> type[SiteSpider] | None:
    """The site module whose allowed domains cover the URL's host, if any."""
    host = (urlsplit(url).hostname or "").lower()
    for spider in site_classes().values():
        for domain in getattr(spider, "allowed_domains", None) or ():
            if host == domain or host.endswith("." + domain):
                return spider
    return None
