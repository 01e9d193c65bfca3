"""`crawler crawl --url`: a TRS-style government portal without a site module, crawled for real
through the demo server on 127.0.0.1, with the generic link discovery and extraction chain."""
from __future__ import annotations

import pytest

from conftest import connect, run_crawler
from crawler.demo.server import DemoServer
from crawler.demo.sites import GENERIC_SITES, NEW_SITES, SITES
from crawler.sites.generic import article_links
from crawler.sites.pagers import ListDoc, detect_next

SITE = GENERIC_SITES["linhu"]
START = f"http://{SITE.host}{SITE.first_list}"
JUNK = ("分享到", "扫一扫", "上一篇", "下一篇", "打印", "关闭窗口", "字体", "相关链接", "浏览次数", "发布时间",
        "当前位置", "12345", "ICP", "主办单位", "友情链接", "办事指南")

LIST_PAGE = """<html><body>
<ul class="nav"><li><a href="/">首页</a></li><li><a href="/zwgk/">政务公开</a></li></ul>
<ul class="list">
  <li><a href="./202208/t20220817_123456.html">某某县召开项目推进会</a></li>
  <li><a href="/art/2022/8/17/art_1229_5.html">会议</a></li>
  <li><a href="/xinwen/2022-08/17/content_5705.htm">国务院常务会议</a></li>
  <li><a href="/news/20220816/abc.html">新闻</a></li>
  <li><a href="/col/col1229/detail.jsp?id=9">县政府召开第十二次常务会议研究部署安全生产工作</a></li>
  <li><a href="/zwgk/zcwj/">临湖县人民政府关于印发重点工作责任分工的通知汇总</a></li>
  <li><a href="http://www.other.gov.test/202208/t20220817_1.html">别的网站的文章</a></li>
  <li><a href="javascript:void(0)">打开一个很长的链接文字但不是文章</a></li>
  <li><a href="./202208/t20220817_123456.html#top">重复链接</a></li>
</ul>
<div class="page"><a href="index.html">首页</a> <a href="index_1.html">2</a> <a href="index_1.html">下一页</a></div>
</body></html>"""


def test_list_pages_give_their_articles_and_the_next_page_on_the_same_host():
    base = "http://www.example.gov.test/xwzx/zwdt/"
    doc = ListDoc(LIST_PAGE, base)
    assert article_links(doc) == [
        base + "202208/t20220817_123456.html",                           # TRS
        "http://www.example.gov.test/art/2022/8/17/art_1229_5.html",     # Hanweb
        "http://www.example.gov.test/xinwen/2022-08/17/content_5705.htm",
        "http://www.example.gov.test/news/20220816/abc.html",            # dated folder
        "http://www.example.gov.test/col/col1229/detail.jsp?id=9",       # long Chinese anchor
    ]
    assert detect_next(doc) == (base + "index_1.html", "link")


@pytest.fixture(scope="module")
def generic_crawl(tmp_path_factory):
    """Two crawls of the portal into one database: the first stores it all, the second finds
    every article known."""
    db = tmp_path_factory.mktemp("generic") / "generic.db"
    with DemoServer() as server:
        first = run_crawler("crawl", "--url", START, "--proxy", server.url, "--db", str(db))
        second = run_crawler("crawl", "--url", START, "--proxy", server.url, "--db", str(db))
    return db, first, second


def test_every_article_of_the_portal_matches_its_record(generic_crawl):
    db, first, _ = generic_crawl
    assert first.returncode == 0, first.stderr
    with connect(db) as conn:
        rows = {row["url"]: row for row in conn.execute("SELECT * FROM articles")}
    assert len(rows) == len(SITE.articles) == 12
    for article in SITE.articles:
        row = rows[f"http://{SITE.host}{SITE.url_of(article)}"]
        assert row["site"] == SITE.host and row["extractor"] == "generic"
        assert row["title"] == article.title
        assert row["published"] == article.published
        assert row["source"] == article.source
        assert row["body"].split("\n") == list(article.paragraphs)
        assert row["script"] == "hans"
        for junk in JUNK:
            assert junk not in row["body"] and junk not in row["title"], (junk, article.slug)


def test_the_crawl_stays_on_the_host_and_requests_known_articles_once(generic_crawl):
    db, _, second = generic_crawl
    assert second.returncode == 0, second.stderr
    with connect(db) as conn:
        runs = conn.execute("SELECT * FROM crawl_runs ORDER BY id").fetchall()
    assert [run["site"] for run in runs] == [SITE.host, SITE.host]
    for run in runs:
        assert run["status"] == "ok" and run["errors"] == 0 and run["http_errors"] == 0
    assert (runs[0]["articles_new"], runs[0]["pages_fetched"]) == (12, 1 + 3 + 12)  # robots.txt, lists, articles
    # the second run requests no article page: at most robots.txt and the list pages
    assert runs[1]["articles_new"] == 0 and runs[1]["duplicates"] == 0 and runs[1]["pages_fetched"] <= 1 + 3


def test_max_pages_limits_the_list_pages_followed(tmp_path):
    db = tmp_path / "one.db"
    with DemoServer() as server:
        result = run_crawler("crawl", "--url", START, "--max-pages", "1", "--proxy", server.url, "--db", str(db))
    assert result.returncode == 0, result.stderr
    with connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 5  # one list page of five
        assert conn.execute("SELECT pages_fetched FROM crawl_runs").fetchone()[0] == 1 + 1 + 5


@pytest.mark.parametrize("args, message", [
    (["--url", "ftp://www.example.gov.test/"], "not an http(s) URL"),
    (["--url", "www.example.gov.test/xwzx/"], "not an http(s) URL"),
    (["--url", "http://www.example.gov.test/", "huaian"], "do not name sites"),
    (["--url", "http://www.example.gov.test/", "--max-pages", "0"], "--max-pages must be at least 1"),
])
def test_bad_crawl_url_arguments_give_one_line_errors(tmp_path, args, message):
    result = run_crawler("crawl", *args, "--db", str(tmp_path / "x.db"))
    assert result.returncode == 3
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


# Real CMSs' pagers on demo portals: each must be followed by `crawl --url` alone, to the last
# article, and the summary must name the pager it used.
PAGED_SITES = [(SITES["qingxi"], "trs"), (NEW_SITES["duodao"], "trs"), (SITES["lanshan"], "hanweb"),
               (GENERIC_SITES["shuinan"], "link"), (GENERIC_SITES["beicheng"], "select"),
               (GENERIC_SITES["xishan"], "numbered")]


@pytest.mark.parametrize(("site", "pager"), PAGED_SITES, ids=[site.name for site, _ in PAGED_SITES])
def test_crawl_url_follows_each_cms_pager_to_the_last_list_page(tmp_path, site, pager):
    db = tmp_path / "paged.db"
    with DemoServer() as server:
        result = run_crawler("crawl", "--url", f"http://{site.host}{site.first_list}", "--proxy", server.url,
                             "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].split()[-1] == "pager"
    assert result.stdout.splitlines()[1].split()[-1] == pager
    with connect(db) as conn:
        urls = {row[0] for row in conn.execute("SELECT url FROM articles")}
        run = conn.execute("SELECT * FROM crawl_runs").fetchone()
    assert urls == {f"http://{site.host}{site.url_of(article)}" for article in site.articles}
    assert run["list_pages"] == 3 and run["status"] == "ok"


def test_crawl_help_names_the_pagers():
    result = run_crawler("crawl", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for pager in ("link (", "trs (", "hanweb (", "select (", "numbered (", "form (", "URL template", "JSON list"):
        assert pager in text, pager
