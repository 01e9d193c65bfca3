"""青溪县人民政府 (demo): a county portal on TRS WCM.

Its list pages have no 下一页 link in the HTML: a script writes the pager,
`createPageHTML(3, 0, "index", "html")`, and page i + 1 is `index_i.html`.
"""
from crawler.site import SiteSpider


class QingxiSpider(SiteSpider):
    name = "qingxi"
    allowed_domains = ["www.qingxi.gov.test"]
    start_urls = ["http://www.qingxi.gov.test/xwdt/qxyw/"]

    article_links = "ul.doc-list li a"
    next_page = "trs"
    fields = {
        "title": ".xl-tit",
        "published": ".xl-info",
        "source": ".xl-info",
        "body": ".TRS_Editor",
    }
