"""`crawler fixture save` against the demo server, and the fixture helpers it shares with the
fixture test."""
from __future__ import annotations

import json

import pytest

from conftest import copy_project, run_crawler
from crawler.demo.server import DemoServer
from crawler.demo.sites import SITES
from crawler.sites.fixtures import differences, page_name


@pytest.fixture
def project(tmp_path):
    return copy_project(tmp_path / "project")


def test_saves_the_bytes_as_served_and_the_record_as_sorted_utf8_json(project):
    site = SITES["gdcyxx"]  # GBK bytes, no charset anywhere
    article = site.articles[0]
    url = f"http://{site.host}{site.url_of(article)}"
    with DemoServer() as server:
        result = run_crawler("fixture", "save", url, "--name", "page", "--proxy", server.url, cwd=project)
    assert result.returncode == 0, result.stderr
    assert "saved tests/sites/gdcyxx/page.html" in result.stdout  # site chosen by the URL's domain
    folder = project / "tests" / "sites" / "gdcyxx"
    assert (folder / "page.html").read_bytes() == site.respond(site.url_of(article))[1]
    text = (folder / "page.expected.json").read_text("utf-8")
    record = json.loads(text)
    assert list(record) == sorted(record) and article.title in text  # not \u-escaped
    assert record["body"] == list(article.paragraphs) and record["extractor"] == "site:gdcyxx"
    meta = json.loads((folder / "page.meta.json").read_text("utf-8"))
    assert meta["url"] == url and meta["content_type"] == "text/html" and meta["fetched_at"]


def test_a_page_that_cannot_be_fetched_writes_nothing_and_exits_1(project):
    site = SITES["laowu"]
    with DemoServer() as server:
        missing = run_crawler("fixture", "save", f"http://{site.host}/news/nosuch.html", "--proxy", server.url,
                              cwd=project)
        stopped_url = server.url
    down = run_crawler("fixture", "save", f"http://{site.host}/news/show-l1001.html", "--proxy", stopped_url,
                       cwd=project)
    for result in (missing, down):
        assert result.returncode == 1 and "cannot fetch" in result.stderr and "Traceback" not in result.stderr
    assert "HTTP 404" in missing.stderr
    assert not list((project / "tests" / "sites" / "laowu").glob("nosuch*"))
    assert not list((project / "tests" / "sites" / "laowu").glob("show-l1001*"))


def test_a_url_no_site_module_covers_needs_site(project):
    result = run_crawler("fixture", "save", "http://www.elsewhere.test/a.html", cwd=project)
    assert result.returncode == 3 and "no site module covers" in result.stderr


@pytest.mark.parametrize(("url", "name"), [
    ("http://www.investchn.test/kfqnews/taizhou/20220718/i0718.html", "i0718"),
    ("http://www.czgx.test/news/c0226.shtml", "c0226"),
    ("http://www.x.test/art/2022/8/17/art_1_2.html?id=3", "art_1_2"),
    ("http://www.x.test/xwzx/", "xwzx"),
    ("http://www.x.test/", "index"),
    ("http://www.x.test/新闻/详情.html", "index"),
])
def test_page_name_is_a_plain_file_name(url, name):
    assert page_name(url) == name


def test_differences_name_each_field_and_diff_the_body_by_paragraph():
    expected = {"title": "标题", "published": "2022-08-17", "body": ["第一段。", "第二段。", "第三段。"]}
    actual = {"title": "您现在的位置:首页", "published": "2022-08-17", "body": ["第一段。", "分享到:微信", "第三段。"]}
    body, title = differences(expected, actual)  # in field name order
    assert title == "title: expected '标题', extracted '您现在的位置:首页'"
    assert body.startswith("body:\n") and "-第二段。" in body and "+分享到:微信" in body
    assert differences(expected, dict(expected)) == []
