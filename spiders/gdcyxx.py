"""广东产业信息 (demo): a Z-Blog industry-information site.

Modelled on seed 003: GBK bytes with no charset anywhere, "admin1年前 (2024-09-27)" byline,
a WeChat promo block inside the body, 版权声明, 分享给朋友 and a 相关文章 list with snippets.
"""
from crawler.site import SiteSpider


class GdcyxxSpider(SiteSpider):
    name = "gdcyxx"
    allowed_domains = ["www.gdcyxx.test"]
    start_urls = ["http://www.gdcyxx.test/category-1.html"]

    article_links = ".post-list h2 a"
    next_page = ".pagebar a.next"
    fields = {
        "title": "h1.post-title",
        "published": ".post-meta .time",
        "body": ".post-content",
    }
    drop = (".wx-promo",)
