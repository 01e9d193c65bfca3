"""The plain rules behind fault handling: retry waits, trap patterns, attachment kinds,
which failures are errors, and loading site modules one by one."""
from datetime import datetime, timezone

import pytest
from scrapy.exceptions import (
    DownloadCancelledError, DownloadFailedError, DownloadTimeoutError, IgnoreRequest, ResponseDataLossError,
)

from crawler.crawl.attachments import kind_of_content_type, kind_of_url, may_link_attachments, may_name_attachment
from crawler.sites.failures import NotAnArticle, failure_kind, retry_after_seconds
from crawler.crawl.retry import retry_delay
from crawler.crawl.traps import query_pattern

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("header, seconds", [
    ("5", 5.0), (" 120 ", 120.0), ("Thu, 01 Jan 2026 12:00:30 GMT", 30.0),
    ("Thu, 01 Jan 2026 11:00:00 GMT", 0.0), ("", None), (None, None), ("soon", None), ("-3", None),
])
def test_retry_after_header(header, seconds):
    assert retry_after_seconds(header, now=NOW) == seconds


def test_retry_delay_doubles_honours_retry_after_and_is_capped():
    assert [retry_delay(n, None, base=1.0, cap=60) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    assert retry_delay(1, 7.0, base=1.0, cap=60) == 7.0
    assert retry_delay(9, None, base=1.0, cap=60) == 60
    assert retry_delay(1, 3600.0, base=1.0, cap=60) == 60


@pytest.mark.parametrize("a, b, same", [
    ("http://x.test/cal?date=2024-01-01", "http://x.test/cal?date=2031-05-09", True),
    ("http://x.test/list?page=2&col=5", "http://x.test/list?col=9&page=300", True),
    ("http://x.test/list?page=2", "http://x.test/list?page=2&col=5", False),
    ("http://x.test/list?page=2", "http://x.test/other?page=2", False),
    ("http://x.test/list?page=2", "http://y.test/list?page=2", False),
])
def test_query_patterns(a, b, same):
    assert (query_pattern(a) == query_pattern(b)) is same


def test_a_url_without_query_has_no_pattern():
    assert query_pattern("http://x.test/news/2024/07/01/a.html") is None


@pytest.mark.parametrize("url, kind", [
    ("http://x.test/files/公告.PDF", "pdf"), ("http://x.test/a/b.docx?v=2", "docx"), ("http://x.test/t.xls#p1", "xls"),
    ("http://x.test/img/1.jpeg", "jpeg"), ("http://x.test/w/1.ofd", "ofd"), ("http://x.test/a.zip", "zip"),
    ("http://x.test/art/2024/7/1/art_1_2.html", None), ("http://x.test/content.jsp?id=3", None),
    ("http://x.test/download?file=a.pdf", None), ("http://x.test/pdf/", None),
])
def test_attachment_kind_of_url(url, kind):
    assert kind_of_url(url) == kind


@pytest.mark.parametrize("page", ["http://x.test/news/a.html", "http://x.test/files/b.pdf", "http://x.test/dir/"])
@pytest.mark.parametrize("href", [
    "公告.PDF", "/a/b.docx?v=2", "t.xls#p1", "../img/1.jpeg", "http://y.test/w/1.ofd", "a.zip", "art_1_2.html",
    "content.jsp?id=3", "download?file=a.pdf", "/pdf/", "x.pdfa", "?page=2", "#top", "", ".", "a.tar.gz",
    "javascript:void(0)", "mailto:a@b.test",
])
def test_a_link_skipped_before_joining_it_names_no_attachment(page, href):
    """The cheap look at a link's text (see crawler.crawl.attachments) never hides an attachment."""
    from urllib.parse import urljoin

    if kind_of_url(urljoin(page, href)):
        assert may_name_attachment(href)


@pytest.mark.parametrize("page, body, may", [
    ("http://x.test/a.html", '<a href="/news/1.html">新闻</a><img src="/logo.png">', False),
    ("http://x.test/a.html", '<a href="/files/1.PDF">附件</a>', True),
    ("http://x.test/a.html", "<A HREF = '/files/my file.docx'>附件</A>", True),
    ("http://x.test/a.html", '<a href=/files/1.xls>附件</a>', True),
    ("http://x.test/a.html", '<a href="/download?f=1&#46;zip">附件</a>', True),
    ("http://x.test/a.html", '<base href="http://x.test/files/b.pdf"><a href="#p2">下页</a>', True),
    ("http://x.test/files/b.pdf", '<a href="?page=2">下页</a>', True),
    ("http://x.test/a.html", '<a href="/1.html">一</a><a href="/2.html">二</a><a href="/3.doc">三</a>', True),
    ("http://x.test/a.html", '<a href="/x.">一</a><a href="pdf">二</a>', False),  # no extension across two links
    ("http://x.test/a.html", '<a href="/files/a.&#80;DF">附件</a>', True),  # an entity unescapes to upper case
])
@pytest.mark.parametrize("encoding", ["utf-8", "gb18030", "big5"])
def test_a_page_is_parsed_for_attachment_links_only_when_its_text_may_hold_one(page, body, may, encoding):
    assert may_link_attachments(page, body.encode(encoding, "xmlcharrefreplace"), encoding) is may


def test_a_page_in_an_encoding_unlike_ascii_is_always_parsed_for_attachment_links():
    """UTF-16 markup is not its ASCII bytes: the undecoded page cannot be searched."""
    body = '<a href="/news/1.html">新闻</a>'.encode("utf-16")
    assert may_link_attachments("http://x.test/a.html", body, "utf-16")


@pytest.mark.parametrize("content_type, kind", [
    ("text/html; charset=gb2312", None), ("TEXT/HTML", None), ("application/xhtml+xml", None), (None, None),
    ("text/plain", None), ("application/pdf", "pdf"), ("application/msword", "doc"),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    ("image/png", "png"), ("image/jpeg", "jpg"), ("application/octet-stream", "octet-stream"),
])
def test_attachment_kind_of_content_type(content_type, kind):
    assert kind_of_content_type(content_type) == kind


@pytest.mark.parametrize("exc, kind", [
    (DownloadTimeoutError("took longer"), "timeouts"),
    (DownloadCancelledError("larger than download max size"), "oversize"),
    (ResponseDataLossError(), "truncated"),
    (DownloadFailedError("connection reset"), "http"),
    (IgnoreRequest("max redirections reached"), "http"),
    (IgnoreRequest("Forbidden by robots.txt"), None),
    (IgnoreRequest("Filtered offsite request to 'localhost'"), None),
    (NotAnArticle("attachment (pdf): http://x.test/d?id=1"), None),
])
def test_which_failures_are_errors(exc, kind):
    assert failure_kind(exc) == kind


def test_a_broken_site_module_is_reported_and_the_others_load(tmp_path, monkeypatch):
    from scrapy.settings import Settings

    from crawler.sites.loader import SiteLoader

    package = tmp_path / "loader_sites"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "good.py").write_text("from crawler.site import SiteSpider\nclass Good(SiteSpider):\n    name = 'good'\n")
    (package / "bad.py").write_text("class Bad(:\n")
    (package / "missing.py").write_text("import no_such_module_here\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    loader = SiteLoader(Settings({"SPIDER_MODULES": ["loader_sites"]}))
    assert loader.list() == ["good"]
    assert set(loader.broken) == {"loader_sites.bad", "loader_sites.missing"}
    assert loader.broken["loader_sites.bad"].startswith("SyntaxError: ")
    assert "\n" not in loader.broken["loader_sites.bad"]
    assert loader.broken["loader_sites.missing"].startswith("ModuleNotFoundError: ")


@pytest.mark.parametrize("head, encoding, target", [
    ('<META HTTP-EQUIV="Refresh" CONTENT="0; URL=/news/moved.html">', "gb18030", "http://x.test/news/moved.html"),
    ('<meta http-equiv="refresh" content="0;url=/news/moved.html">', "utf-16", "http://x.test/news/moved.html"),
    ('<meta http-equiv="refresh" content="600">', "utf-8", None),  # reloads itself: not a redirect
    ('<meta name="description" content="政务公开">', "gb18030", None),
    ('<meta name="keywords" content="重启刷新">', "utf-16", None),
])
def test_a_meta_refresh_is_followed_and_a_page_without_one_is_let_through(head, encoding, target):
    """crawler.crawl.middlewares.MetaRefresh skips Scrapy's scan only where no refresh can be."""
    from scrapy import Request, Spider
    from scrapy.http import HtmlResponse
    from scrapy.utils.test import get_crawler

    from crawler.crawl.middlewares import MetaRefresh

    middleware = MetaRefresh.from_crawler(get_crawler(Spider))
    html = f'<html><head><meta charset="{encoding}">{head}<title>通知</title></head><body>{"正文" * 3000}</body></html>'
    request = Request("http://x.test/news/1.html")
    response = HtmlResponse(request.url, body=html.encode(encoding), encoding=encoding, request=request)
    result = middleware.process_response(request, response)
    if target is None:
        assert result is response
    else:
        assert isinstance(result, Request) and result.url.startswith(target)  # (Scrapy adds %FF%FE to UTF-16's)
