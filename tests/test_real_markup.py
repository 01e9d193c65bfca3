"""The generic chain on the pages of tests/markup/: each keeps a real CMS template's markup and
one quirk that broke extraction (a stray `</html>`, a generation-time PubDate meta, a date
printed by a script, a two-digit year, a site name where the headline should be, a body
folded at 展开全文...). See tests/markup/README.md."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from crawler.article.extract import extract
from crawler.article.items import Page
from crawler.chain.process import record_of
from crawler.sites.spider import _hrefs, list_doc

PAGES = Path(__file__).parent / "markup"


@pytest.mark.parametrize("name", sorted(path.stem for path in (PAGES / "gold").glob("*.json")))
def test_page(name):
    expected = json.loads((PAGES / "gold" / f"{name}.json").read_text("utf-8"))
    record = record_of(Page(url=expected["url"], site=None, body=(PAGES / "html" / f"{name}.html").read_bytes(),
                            fetched_at="2025-10-15T04:00:00+00:00"))
    assert (record["title"], (record["published"] or "")[:10], record["body"].split("\n")) == (
        expected["title"], expected["published"], expected["body"]), expected["case"]


class UcapSite:
    """A site module selecting by the Kaipu/UCAP container, as one for www.gov.cn would."""
    name = "ucap"
    fields = {"body": "#UCAP-CONTENT", "title": "h1#ti", "published": "//div[@class='pages-date']/text()"}


def test_site_selectors_see_the_content_after_a_stray_closing_html_tag():
    article = extract((PAGES / "html" / "govcn_stray.html").read_bytes(), site=UcapSite)
    assert (article.extractor, article.title, article.published, len(article.body)) == (
        "site:ucap", "全县召开一季度重大项目观摩推进会", "2023-03-01 17:45", 3)


def test_list_links_after_a_stray_closing_html_tag_are_found():
    html = ('<html><head><title>政务动态</title></head><body><div class="top">某某县人民政府</div></body></html>\n'
            '<div class="list"><ul><li><a href="/zwdt/t20240312_1.html">全县召开一季度重大项目观摩推进会</a></li>'
            '<li><a href="/zwdt/t20240311_2.html">县长调研重点项目建设</a></li></ul></div></body></html>')
    response = HtmlResponse("http://www.example.gov.cn/zwdt/", body=html.encode("utf-8"), encoding="utf-8")
    assert _hrefs(list_doc(response)[0], ".list a") == ["http://www.example.gov.cn/zwdt/t20240312_1.html",
                                                     "http://www.example.gov.cn/zwdt/t20240311_2.html"]
