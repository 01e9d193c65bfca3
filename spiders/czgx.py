"""常州新闻网 (demo): a city portal in Traditional script with pinyin annotations.

Modelled on seed 004: no date on the page, 关键词 line and many recommendation lists
(您可能也感兴趣/今日热点/排行/最近更新/今日要闻) beside the article.
"""
from crawler.site import SiteSpider


class CzgxSpider(SiteSpider):
    name = "czgx"
    allowed_domains = ["www.czgx.test"]
    start_urls = ["http://www.czgx.test/news/"]

    article_links = "ul.news-list li a"
    next_page = ".page a.next"
    fields = {
        "title": "h1.article-title",
        "published": ".article-date",  # the portal prints no date: stays empty rather than guessed
        "body": ".article-body",
    }
