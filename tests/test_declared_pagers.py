"""Site modules that declare their pager in one line: a URL template, a JSON list endpoint with
JMESPath expressions. Written into a copy of the project the way an operator writes them (no
core edit, no `parse`), crawled for real through the demo server."""
from __future__ import annotations

import json

import pytest

from conftest import connect, copy_project, crawl_through
from crawler.demo.server import DemoServer
from crawler.demo.sites import SITES

SITE = SITES["qingxi"]
MODULES = {
    "qingxi_template": '''
from crawler.site import SiteSpider


class QingxiTemplateSpider(SiteSpider):
    name = "qingxi_template"
    allowed_domains = ["www.qingxi.gov.test"]
    start_urls = ["http://www.qingxi.gov.test/xwdt/qxyw/"]

    article_links = "ul.doc-list li a"
    next_page = "index_{i}.html"
''',
    "qingxi_api": '''
from crawler.site import JsonList, SiteSpider


class QingxiApiSpider(SiteSpider):
    name = "qingxi_api"
    allowed_domains = ["www.qingxi.gov.test"]

    list_json = JsonList("http://www.qingxi.gov.test/api/qxyw/list?pageNo={n}&pageSize=5",
                         links="data.list[].url", titles="data.list[].title", dates="data.list[].publishTime")
''',
}


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("declared") / "project")
    for name, text in MODULES.items():
        (project / "spiders" / f"{name}.py").write_text(text, "utf-8")
    results = {}
    with DemoServer() as server:
        for name in MODULES:
            db = project / f"{name}.db"
            results[name] = (crawl_through(server.url, name, db, cwd=project), db)
    return results


# The template's page after the last answers 404 (not a list page read); the API's lists nothing.
@pytest.mark.parametrize(("name", "pager", "list_pages"), [("qingxi_template", "template", 3), ("qingxi_api", "json", 4)])
def test_a_declared_pager_reaches_every_article_and_stops_after_the_last_page(crawled, name, pager, list_pages):
    result, db = crawled[name]
    assert result.returncode == 0, result.stderr
    with connect(db) as conn:
        rows = {row["url"]: row for row in conn.execute("SELECT * FROM articles")}
        run = conn.execute("SELECT * FROM crawl_runs").fetchone()
    assert set(rows) == {f"http://{SITE.host}{SITE.url_of(article)}" for article in SITE.articles}
    assert all(row["title"] and row["body"] for row in rows.values())
    # Three pages of articles, then one past the end: not an error, and nothing left for the next run.
    assert run["status"] == "ok" and run["errors"] == 0 and run["list_pages"] == list_pages
    assert json.loads(run["pagers"]) == {pager: 3}
    with connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM frontier").fetchone()[0] == 0


def test_a_json_list_needs_a_page_number_in_its_url_and_valid_jmespath():
    from crawler.sites.jsonlist import JsonList
    with pytest.raises(ValueError, match="needs"):
        JsonList("http://www.example.gov.test/api/list", links="data[].url")
    with pytest.raises(Exception):
        JsonList("http://www.example.gov.test/api/list?page={n}", links="data[.url")


def test_a_json_lists_title_and_date_fill_what_the_article_page_lacks():
    from crawler.article.items import Page
    from crawler.chain.process import record_of

    site = SITES["czgx"]  # its pages print no date
    article = site.articles[0]
    page = Page(url=f"http://{site.host}{site.url_of(article)}", site="czgx", body=site.article_page(article),
                content_type=site.content_type, fetched_at="2025-10-15T04:00:00+00:00",
                listed={"published": "2024-09-27 08:30", "title": "列表里的标题"})
    record = record_of(page)
    assert record["published"] == "2024-09-27T08:30:00+08:00"
    assert record["title"] != "列表里的标题"  # the page's own title wins
