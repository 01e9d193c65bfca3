"""Sites that need a browser: real crawls of the two scripted demo sites (a list drawn from a
JSON API, a 412 cookie challenge) through Debian's Chromium, and what plain HTTP makes of them.

The crawls need /usr/bin/chromium (`make browser-deps`): without it they skip with the reason,
except in CI, where it must be there.
"""
from __future__ import annotations

import re
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from parsel import Selector

from conftest import connect, copy_project, run_crawler
from crawler.sites.browser_signs import browser_signs
from crawler.demo.scripted import SCRIPTED_SITES, ChallengedSite, ScriptedPortal
from crawler.demo.server import DemoServer
from crawler.demo.sites import SITES


class _Headers(dict):
    """Request headers as the demo server hands them to a site (http.client's message: .get)."""


def _reply(site, path: str, **headers) -> tuple[int, str, bytes, dict]:
    return site.reply(path, _Headers(headers))


YUNXI: ScriptedPortal = SCRIPTED_SITES["yunxi"]
YJJ: ChallengedSite = SCRIPTED_SITES["yjj"]


# --- what plain HTTP sees --------------------------------------------------------------------------
def test_challenge_answers_412_with_a_seed_cookie_until_the_computed_cookie_comes_back():
    status, _, body, headers = _reply(YJJ, "/gzdt/", **{"User-Agent": "UA/1"})
    assert status == 412 and b"$_ts=window['$_ts']" in body and b"<a " not in body
    seed = headers["Set-Cookie"].split(";")[0]
    assert _reply(YJJ, "/gzdt/", Cookie=seed, **{"User-Agent": "UA/1"})[0] == 412  # no answer cookie
    wrong = f"{seed}; {seed.split('S=')[0]}T=0deadbeef"
    assert _reply(YJJ, "/gzdt/", Cookie=wrong, **{"User-Agent": "UA/1"})[0] == 412


def test_browser_signs_of_a_challenge_page():
    status, _, body, _ = _reply(YJJ, "/gzdt/")
    assert browser_signs(Selector(text=body.decode()), status).startswith("a script challenge (HTTP 412")


def test_browser_signs_of_an_inline_cookie_challenge_answered_521():
    # 加速乐's first answer: one inline script that writes the clearance cookie and reloads.
    page = ("<html><body><script>document.cookie=('_')+('_')+('jsl_clearance_s=')+(+new Date())+"
            "'; max-age=3600; path=/';location.href=location.pathname+location.search</script></body></html>")
    assert browser_signs(Selector(text=page), 521).startswith("a script challenge")
    assert browser_signs(Selector(text=page), 200).startswith("a script challenge")  # by its script alone


def test_browser_signs_of_a_list_drawn_from_a_json_api():
    status, _, body, _ = _reply(YUNXI, "/xwzx/qxyw/")
    assert status == 200
    assert browser_signs(Selector(text=body.decode()), status) == (
        "an empty list container (ul#newsList) and a script that loads data (XMLHttpRequest)")


def test_browser_signs_of_framework_templates():
    vue = ('<html><body><div id="app"><ul><li v-for="item in list"><a :href="item.url">{{ item.title }}</a>'
           '</li></ul></div><script src="/js/vue.min.js"></script></body></html>')
    assert browser_signs(Selector(text=vue), 200).startswith("a list template filled by script")


@pytest.mark.parametrize("name", sorted(SITES))
def test_no_browser_signs_on_plain_demo_pages(name):
    site = SITES[name]
    for path in (site.first_list, site.url_of(site.articles[0])):
        status, body = site.respond(path)
        assert browser_signs(Selector(text=body.decode(site.codec)), status) is None, path


def test_an_empty_layout_div_beside_a_script_is_no_sign():
    page = ('<html><body><div class="clear"></div><p>本站暂无内容</p>'
            '<script>$.ajax({url: "/count"})</script></body></html>')
    assert browser_signs(Selector(text=page), 200) is None


# --- which crawlers render ------------------------------------------------------------------------
def test_only_a_rendering_site_gets_the_rendering_handler():
    from scrapy.utils.project import get_project_settings

    from crawler.sites.spider import site_classes

    sites = site_classes()
    for name, spider in sites.items():
        settings = get_project_settings()
        spider.update_settings(settings)
        handlers = settings.getdict("DOWNLOAD_HANDLERS")
        if name in SCRIPTED_SITES:
            assert handlers == {scheme: "crawler.crawl.rendering.RenderingHandler" for scheme in ("http", "https")}
        else:  # Scrapy's own handlers, as before rendering existed
            assert handlers == {}, name


def test_a_bad_render_value_is_refused_when_the_site_module_loads():
    from crawler.site import SiteSpider

    with pytest.raises(ValueError, match='render must be True, False or "lists", not \'yes\''):
        type("Bad", (SiteSpider,), {"name": "bad", "render": "yes"})


# --- real crawls -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server():
    with DemoServer() as running:
        yield running


def _crawl(server, *args, db):
    return run_crawler("crawl", *args, "--proxy", server.url, "--db", str(db))


def _stored(db, site: str) -> dict[str, dict]:
    with connect(db) as conn:
        return {row["title"]: dict(row) for row in conn.execute("SELECT * FROM articles WHERE site = ?", [site])}


def _last_run(db, site: str) -> dict:
    with connect(db) as conn:
        return dict(conn.execute("SELECT * FROM crawl_runs WHERE site = ? ORDER BY id DESC", [site]).fetchone())


@pytest.fixture(scope="module")
def rendered(server, tmp_path_factory, chromium):
    """Both scripted sites crawled with their site modules (`render = True`)."""
    db = tmp_path_factory.mktemp("rendered") / "rendered.db"
    result = _crawl(server, "yunxi", "yjj", db=db)
    assert result.returncode == 0, result.stdout + result.stderr
    return db


@pytest.mark.parametrize("name", sorted(SCRIPTED_SITES))
def test_site_crawls_fully_with_render(rendered, name):
    site = SCRIPTED_SITES[name]
    stored = _stored(rendered, name)
    assert sorted(stored) == sorted(a.title for a in site.articles)
    for article in site.articles:
        row = stored[article.title]
        assert row["body"].split("\n") == list(article.paragraphs)
        assert row["published"] == article.published
        assert row["extractor"].startswith("site:")
    run = _last_run(rendered, name)
    assert run["status"] == "ok" and run["http_errors"] == 0
    assert run["rendered"] == len(site.articles) + 2  # every list and article page, robots.txt not
    assert run["article_links"] == len(site.articles)


def test_raw_html_is_kept_as_the_browser_drew_it(rendered):
    with connect(rendered) as conn:
        raw = conn.execute("SELECT p.html_zlib FROM raw_pages p JOIN articles a ON a.id = p.article_id "
                           "WHERE a.site = 'yunxi' LIMIT 1").fetchone()
    html = zlib.decompress(raw[0]).decode("utf-8")
    assert re.search(r'<div class="TRS_Editor" id="zoom"><p style="text-indent:2em">', html)  # the shell was empty


def test_second_rendered_run_skips_known_articles(rendered, server):
    again = _crawl(server, "yunxi", "yjj", db=rendered)
    assert again.returncode == 0, again.stderr
    for name in SCRIPTED_SITES:
        run = _last_run(rendered, name)
        assert run["articles_new"] == 0 and run["skipped_known"] == 5
        assert run["rendered"] == 1  # list page 1 only: every article on it is known, paging stops


@pytest.mark.parametrize("name,start", [("yunxi", "http://www.yunxi.gov.test/xwzx/qxyw/"),
                                        ("yjj", "http://www.yjj.gov.test/gzdt/")])
def test_plain_crawl_is_flagged_needs_a_browser_and_render_crawls_it(server, tmp_path, chromium, name, start):
    db = tmp_path / "plain.db"
    host = SCRIPTED_SITES[name].host
    plain = _crawl(server, "--url", start, db=db)
    assert "needs a browser" in plain.stderr
    assert _stored(db, host) == {}
    report = run_crawler("report", "--db", str(db))
    assert report.returncode == 1
    assert f"FLAGGED {host}: needs_browser: needs a browser" in report.stdout

    rendered = _crawl(server, "--url", start, "--render", db=db)
    assert rendered.returncode == 0, rendered.stderr
    assert len(_stored(db, host)) == len(SCRIPTED_SITES[name].articles)
    report = run_crawler("report", "--db", str(db))
    assert report.returncode == 0, report.stdout


# --- a page that hangs -----------------------------------------------------------------------------
HANGING_LIST = ('<html><body><ul>' + "".join(
    f'<li><a href="/news/content_{n}.html">临湖县第{n}号通知发布</a></li>' for n in (1, 2, 3)) + '</ul></body></html>')
ARTICLE = ('<html><head><title>{title}</title></head><body><h1>{title}</h1><div class="TRS_Editor">'
           '<p>县政府办公室发布第{n}号通知，要求各乡镇做好秋季防火和安全生产工作，落实值班值守制度。</p>'
           '<p>通知强调，各单位要加强隐患排查，确保人民群众生命财产安全。</p></div>{script}</body></html>')
# The same two first links, drawn by a script (as on the scripted demo sites, without a server round trip).
DRAWN_LIST = ('<html><body><ul id="list"></ul><script>document.getElementById("list").innerHTML = ' + repr(
    "".join(f'<li><a href="/news/content_{n}.html">临湖县第{n}号通知发布</a></li>' for n in (1, 2))) +
    ';</script></body></html>')
# After the page has loaded, a script that never yields: the renderer can no longer answer.
HANG = "<script>setTimeout(function () { for (;;) {} }, 0);</script>"


class _HangingSite(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/robots.txt":
            body = b"User-agent: *\nAllow: /\n"
        elif self.path == "/news/":
            body = HANGING_LIST.encode()
        elif self.path == "/drawn/":
            body = DRAWN_LIST.encode()
        elif (match := re.fullmatch(r"/news/content_(\d)\.html", self.path)):
            n = int(match.group(1))
            body = ARTICLE.format(title=f"临湖县第{n}号通知发布", n=n, script=HANG if n == 3 else "").encode()
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def hanging_site():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _HangingSite)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_render_lists_draws_list_pages_only(hanging_site, tmp_path, chromium):
    db = tmp_path / "lists.db"
    result = run_crawler("crawl", "--url", f"{hanging_site}/drawn/", "--render", "lists", "--db", str(db))
    assert result.returncode == 0, result.stderr
    with connect(db) as conn:
        titles = sorted(row[0] for row in conn.execute("SELECT title FROM articles"))
        run = dict(conn.execute("SELECT * FROM crawl_runs").fetchone())
    assert titles == ["临湖县第1号通知发布", "临湖县第2号通知发布"]
    assert run["rendered"] == 1 and run["pages_fetched"] == 4  # robots.txt and the articles: plain HTTP


def test_a_hanging_page_is_closed_at_the_timeout_and_counted(hanging_site, tmp_path, chromium):
    db = tmp_path / "hang.db"
    project = copy_project(tmp_path / "project")
    settings = project / "crawler" / "settings.py"
    settings.write_text(settings.read_text("utf-8").replace("RENDER_TIMEOUT = 30.0", "RENDER_TIMEOUT = 8.0").replace(
        "RENDER_WAIT = 10.0", "RENDER_WAIT = 1.0").replace("RETRY_TIMES = 2", "RETRY_TIMES = 0"), "utf-8")
    result = run_crawler("crawl", "--url", f"{hanging_site}/news/", "--render", "--db", str(db), "--log-level", "INFO",
                         cwd=project, timeout=120)
    assert "'finish_reason': 'finished'" in result.stderr, result.stderr[-3000:]
    with connect(db) as conn:
        titles = sorted(row[0] for row in conn.execute("SELECT title FROM articles"))
        run = dict(conn.execute("SELECT * FROM crawl_runs").fetchone())
    assert titles == ["临湖县第1号通知发布", "临湖县第2号通知发布"], result.stderr[-3000:]
    assert run["timeouts"] == 1 and run["http_errors"] == 1 and run["status"] == "partial"
    stats = result.stderr[result.stderr.rindex("Dumping Scrapy stats"):]
    assert "'render/timeouts': 1" in stats
    opened, closed = (int(re.search(rf"'playwright/page_count{key}': (\d+)", stats).group(1)) for key in ("", "/closed"))
    assert opened == closed == 4  # the list page and three articles: every page closed, the hung one too


# --- no browser on this machine --------------------------------------------------------------------
def test_demo_without_a_browser_skips_the_scripted_sites_in_one_line_each(tmp_path):
    project = copy_project(tmp_path / "project")
    settings = project / "crawler" / "settings.py"
    settings.write_text(settings.read_text("utf-8").replace(
        'RENDER_BROWSER = "/usr/bin/chromium"', 'RENDER_BROWSER = "/nonexistent/chromium"'), "utf-8")
    db = tmp_path / "demo.db"
    result = run_crawler("demo", "--db", str(db), cwd=project)
    assert result.returncode == 0, result.stderr
    for name in SCRIPTED_SITES:
        assert (f"crawler: site {name} needs a browser (render = True) and /nonexistent/chromium is not installed "
                f"(run `make browser-deps`): skipped") in result.stderr.splitlines()
    with connect(db) as conn:
        assert sorted(row[0] for row in conn.execute("SELECT site FROM crawl_runs")) == sorted(SITES)
    crawl = run_crawler("crawl", "yunxi", "--db", str(db), cwd=project)
    assert crawl.returncode == 3
    assert crawl.stderr.strip() == ("crawler crawl: rendering needs a browser, and /nonexistent/chromium is not "
                                    "installed (run `make browser-deps`)")


def test_fixture_save_warns_that_it_fetches_a_rendering_site_as_plain_http(server, tmp_path):
    project = copy_project(tmp_path / "project")
    url = f"http://{YUNXI.host}{YUNXI.url_of(YUNXI.articles[0])}"
    result = run_crawler("fixture", "save", url, "--proxy", server.url, cwd=project)
    assert result.stderr.splitlines()[0].startswith(
        "warning: yunxi has render = True, and fixture save fetches plain HTTP, not the page as the browser draws it")
