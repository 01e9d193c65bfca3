"""淮安114网 (demo): a city portal in Traditional script with pinyin annotations.

Modelled on seed 002: 導讀 lead repeating the first paragraph (kept as summary), 关注度/评论/
转发 toolbar, 声明 footer; the source is only in the ContentSource meta tag.
"""
from crawler.site import SiteSpider


class HuaianSpider(SiteSpider):
    name = "huaian"
    allowed_domains = ["www.d7760.test"]
    start_urls = ["http://www.d7760.test/news/"]

    article_links = ".newslist dt a"
    next_page = ".pages a.next"
    fields = {
        "title": "h1.newstitle",
        "published": ".newsinfo",
        "summary": ".daodu",
        "body": ".newstext",
    }
