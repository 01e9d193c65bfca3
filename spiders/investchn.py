"""投促中国 (demo): an investment-promotion portal of development-zone news.

Modelled on seed 001: served as GBK with charset=gb2312 declared; breadcrumb, a
"发布时间/来源/发布开发区" line, 上一条/下一条, contact block and copyright footer.
"""
from crawler.site import SiteSpider


class InvestchnSpider(SiteSpider):
    name = "investchn"
    allowed_domains = ["www.investchn.test"]
    start_urls = ["http://www.investchn.test/kfqnews/taizhou/"]

    article_links = "ul.newslist li a"
    next_page = ".pagelist a.next"
    fields = {
        "title": "h2.detail-title",
        "published": ".detail-info",
        "source": ".detail-info",
        "body": ".detail-content",
    }
