"""A small news site for the incremental-crawl tests, whose articles and layout a test changes
between runs, plus its site module.

It is served like the demo sites (an HTTP proxy on 127.0.0.1 for the host `www.newsroom.test`),
logs every request it answers, can send ETag and/or Last-Modified and answer 304, and can slow
article pages down or hold them back so that a test can act in the middle of a crawl.
"""
from __future__ import annotations

import hashlib
import threading
import time
from datetime import date, timedelta
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from crawler.site import SiteSpider

HOST = "www.newsroom.test"
PER_PAGE = 5
FIRST_DAY = date(2025, 1, 1)
EPOCH = 1_750_000_000  # Last-Modified of the first content version


class NewsroomSpider(SiteSpider):
    name = "newsroom"
    allowed_domains = [HOST]
    start_urls = [f"http://{HOST}/news/"]

    article_links = "ul.news li a"
    next_page = "a.next"
    fields = {"title": "h1.title", "published": ".meta", "body": ".content"}


def article_path(number: int) -> str:
    return f"/news/n{number:04d}.html"


def article_text(number: int) -> tuple[str, str, list[str]]:
    """(title, published, paragraphs) of article `number`: distinct text for every number."""
    day = FIRST_DAY + timedelta(days=number)
    title = f"第{number}批重点项目集中开工"
    paragraphs = [
        f"{day.month}月{day.day}日，本市第{number}批重点项目集中开工，共涉及{number % 7 + 3}个产业项目，总投资{number * 3 + 7}亿元。",
        f"据介绍，这批项目中有{number % 5 + 1}个属于先进制造业，预计投产后年产值可达{number * 11 + 20}亿元，新增就业岗位{number * 40 + 100}个。",
        f"市发展改革委有关负责人表示，将为第{number}批项目建立专班，全程跟踪服务，确保项目早日建成投产。",
    ]
    return title, day.isoformat(), paragraphs


LAYOUTS = {
    # list item, list container; article title, date line, body container
    "v1": ('<li><a href="{url}">{title}</a><span>{date}</span></li>', '<ul class="news">{}</ul>',
           '<h1 class="title">{}</h1>', '<div class="meta">发布时间：{}</div>', '<div class="content">{}</div>'),
    "v2": ('<div class="entry"><h3><a href="{url}">{title}</a></h3><em>{date}</em></div>', '<div class="items">{}</div>',
           '<h1 class="headline">{}</h1>', '<div class="info">{}</div>', '<div class="article-text">{}</div>'),
}


def _page(title: str, content: str) -> bytes:
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title} - 新闻中心</title></head>'
            f'<body><div class="top">服务热线：12345 | 首页 | 新闻中心</div>{content}'
            f'<div class="footer">版权所有 新闻中心 备案号：京ICP备00000000号</div></body></html>').encode("utf-8")


class Newsroom:
    """`with Newsroom(articles=12) as site:` serves the site on a free loopback port."""

    def __init__(self, articles: int = 12, validators: tuple[str, ...] = ("etag", "last-modified"),
                 article_delay: float = 0.0):
        self.numbers = list(range(1, articles + 1))
        self.validators = validators
        self.article_delay = article_delay
        self.list_layout = self.article_layout = "v1"
        self.blocked = False  # answer 403 to everything, as a site that bans the crawler does
        self.articles_served = 0
        self.article_limit: int | None = None  # article pages answered before the rest are held
        self.released = threading.Event()
        self.version = 0
        self.log: list[dict] = []
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="newsroom", daemon=True)

    # --- what tests change and read ------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def publish(self, count: int) -> list[str]:
        """Add `count` newer articles (they go to the top of list page 1); return their paths."""
        with self._lock:
            new = list(range(max(self.numbers) + 1, max(self.numbers) + 1 + count))
            self.numbers += new
            self.version += 1
        return [article_path(n) for n in new]

    def hold_articles(self, after: int) -> None:
        """Answer `after` more article pages, then hold every other one until release()."""
        self.article_limit, self.articles_served = after, 0
        self.released.clear()

    def release(self) -> None:
        self.released.set()

    def relayout(self, lists: bool = False, articles: bool = False) -> None:
        with self._lock:
            self.list_layout = "v2" if lists else self.list_layout
            self.article_layout = "v2" if articles else self.article_layout
            self.version += 1

    def requests(self, start: int = 0) -> list[dict]:
        with self._lock:
            return self.log[start:]

    # --- pages -----------------------------------------------------------------------------------
    def list_paths(self) -> list[str]:
        pages = -(-len(self.numbers) // PER_PAGE)
        return ["/news/"] + [f"/news/list_{n}.html" for n in range(2, pages + 1)]

    def list_page(self, n: int) -> bytes:
        item, container, *_ = LAYOUTS[self.list_layout]
        newest = sorted(self.numbers, reverse=True)[(n - 1) * PER_PAGE: n * PER_PAGE]
        items = "".join(item.format(url=article_path(k), title=article_text(k)[0], date=article_text(k)[1])
                        for k in newest)
        paths = self.list_paths()
        pager = f'<div class="pages"><a class="next" href="{paths[n]}">下一页</a></div>' if n < len(paths) else ""
        return _page("新闻列表", container.format(items) + pager)

    def article_page(self, number: int) -> bytes:
        *_, heading, dateline, body = LAYOUTS[self.article_layout]
        title, published, paragraphs = article_text(number)
        content = (heading.format(title) + dateline.format(published) + '<div class="share">分享到：微信 微博</div>'
                   + body.format("".join(f"<p>{p}</p>" for p in paragraphs)) + '<div class="prev">上一篇：无</div>')
        return _page(title, content)

    def respond(self, path: str, headers) -> tuple[int, dict, bytes]:
        with self._lock:
            if self.blocked:
                return 403, {"Content-Type": "text/html; charset=utf-8"}, _page("403", "<h1>访问被拒绝</h1>")
            if path == "/robots.txt":
                return 200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /admin/\n"
            if path in self.list_paths():
                return self._conditional(headers, self.list_page(self.list_paths().index(path) + 1))
            number = next((n for n in self.numbers if article_path(n) == path), None)
            if number is None:
                return 404, {"Content-Type": "text/html; charset=utf-8"}, _page("404", "<h1>页面不存在</h1>")
            return 200, {"Content-Type": "text/html; charset=utf-8"}, self.article_page(number)

    def _conditional(self, headers, body: bytes) -> tuple[int, dict, bytes]:
        sent = {"Content-Type": "text/html; charset=utf-8"}
        etag = f'"{hashlib.sha1(body).hexdigest()[:16]}"'
        modified = formatdate(EPOCH + 60 * self.version, usegmt=True)
        if "etag" in self.validators:
            sent["ETag"] = etag
        if "last-modified" in self.validators:
            sent["Last-Modified"] = modified
        if "etag" in self.validators and headers.get("If-None-Match") == etag:
            return 304, sent, b""
        since = headers.get("If-Modified-Since")
        if "last-modified" in self.validators and since and parsedate_to_datetime(since) >= parsedate_to_datetime(modified):
            return 304, sent, b""
        return 200, sent, body

    def __enter__(self) -> "Newsroom":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _handler(site: Newsroom):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            target = urlsplit(self.path)
            if (target.hostname or "") != HOST:
                self._send(403, {"Content-Type": "text/plain"}, b"not the newsroom host")
                return
            if target.path.startswith("/news/n"):
                with site._lock:
                    site.articles_served += 1
                    held = site.article_limit is not None and site.articles_served > site.article_limit
                if held:
                    site.released.wait(timeout=60)  # bounded: a forgotten release() cannot hang a test
                time.sleep(site.article_delay)
            status, headers, body = site.respond(target.path, self.headers)
            with site._lock:
                site.log.append({"path": target.path, "status": status,
                                 "if_none_match": self.headers.get("If-None-Match"),
                                 "if_modified_since": self.headers.get("If-Modified-Since")})
            self._send(status, headers, body)

        def _send(self, status, headers, body):
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
            pass

    return Handler
