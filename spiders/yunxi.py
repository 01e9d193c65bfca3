"""云溪区人民政府 (demo): a district portal drawn by script from a JSON API.

Its list and article pages arrive as empty shells (`<ul id="newsList"></ul>`,
`<div id="zoom"></div>`) that an XMLHttpRequest to `/api/cms/article/...` fills in: only a
browser sees the links and the text.
"""
from crawler.site import SiteSpider


class YunxiSpider(SiteSpider):
    name = "yunxi"
    allowed_domains = ["www.yunxi.gov.test"]
    start_urls = ["http://www.yunxi.gov.test/xwzx/qxyw/"]
    render = True

    article_links = "#newsList li > a"
    next_page = "#pageBar a.next"
    fields = {
        "title": "#artTitle",
        "published": "#artTime",
        "source": "#artSource",
        "body": "#zoom",
    }
