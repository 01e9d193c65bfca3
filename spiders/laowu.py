"""深圳劳务派遣公司 (demo): a company site that republishes 荆门 district news.

Modelled on seed 000: "Admin - admin 于2022年08月17日发表" byline, a disclaimer inside the
body, share bar, prev/next, and a ~100-link footer farm.
"""
from crawler.site import SiteSpider


class LaowuSpider(SiteSpider):
    name = "laowu"
    allowed_domains = ["www.szlaowu.test"]
    start_urls = ["http://www.szlaowu.test/news/"]

    article_links = "ul.news-list li > a"
    next_page = ".pages a.next"
    fields = {
        "title": "h1.art-title",
        "published": ".art-info",
        "body": ".art-body",
    }
