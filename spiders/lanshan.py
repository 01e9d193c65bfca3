"""澜山市人民政府 (demo): a city portal on Hanweb (大汉).

Its list records sit in the page as jpage XML (`<script type="text/xml"><datastore>`), shown
as a `div.jpage-records`; later records come from the jpage data proxy.
"""
from crawler.site import SiteSpider


class LanshanSpider(SiteSpider):
    name = "lanshan"
    allowed_domains = ["www.lanshan.gov.test"]
    start_urls = ["http://www.lanshan.gov.test/col/col1229/index.html"]

    article_links = ".jpage-records li a"
    next_page = "hanweb"
    fields = {
        "title": "h1.title",
        "published": ".main-txt-hd .info",
        "source": ".main-txt-hd .info",
        "body": "#zoom",
    }
