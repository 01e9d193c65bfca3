"""省药品监督管理局 (demo): a TRS-style department site behind a cookie challenge.

Every page first answers 412 with a script that computes a cookie and reloads (the way a
common anti-crawler product on government sites works); a browser passes, plain HTTP never does.
"""
from crawler.site import SiteSpider


class YjjSpider(SiteSpider):
    name = "yjj"
    allowed_domains = ["www.yjj.gov.test"]
    start_urls = ["http://www.yjj.gov.test/gzdt/"]
    render = True

    article_links = ".list ul li > a"
    next_page = ".pagination a.next"
    fields = {
        "title": ".articleTitle",
        "published": ".articleInfo",
        "body": ".articleCon",
    }
