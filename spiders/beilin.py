"""北林区人民政府信息公开 (demo): government documents under a TRS 信息公开 header.

Its pages print 索引号, 分类, 发文机关, 成文日期, 发文字号, 发布日期 and 有效性 in a table (read by
the generic document fields of crawler.article.document), the 文号 again above the text, and
link their attachments (PDF, Word, Excel), whose text is downloaded and stored.
"""
from crawler.site import SiteSpider


class BeilinSpider(SiteSpider):
    name = "beilin"
    allowed_domains = ["www.beilin.gov.test"]
    start_urls = ["http://www.beilin.gov.test/zwgk/zcwj/"]

    article_links = "ul.xxgk_list li a"
    next_page = ".page_turn a.next"
    fields = {
        "title": ".zlynr_tit",
        "body": ".TRS_Editor",
        "doc_number": ".zlynr_wh",  # the 文号 as printed above the text
    }
    fetch_attachments = True
