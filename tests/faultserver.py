"""A hostile web site for tests and the soak benchmark: one host on 127.0.0.1 that serves good
article pages next to every fault a real government site shows.

Routes (`n` is any number):
- `/list/{k}.html`           list pages: `ul.news li a` article links, `a.next` to the next one
- `/news/{kind}/{n}.html`    good articles (each must end up stored): `utf8`, `gbk-as-utf8` (GBK
                             bytes declared UTF-8), `utf8-as-gbk` (the reverse), `big5`,
                             `malformed` (broken markup), `hostile` (SQL in the title), `slow`
                             (trickled, within the timeout), `flaky` (503 twice first),
                             `retry-after` (429 with Retry-After: 1 first)
- `/fault/{kind}/{n}.html`   never an article: `500`, `502`, `503`, `reset` (TCP reset),
                             `timeout` (no answer), `trickle` (bytes slower than the timeout),
                             `loop` (endless redirects), `self-redirect` (to itself),
                             `loop-two` (to a second page that redirects back),
                             `offsite` (redirect to another host),
                             `offsite-after-503` (the same, once it has been retried),
                             `huge` (30 MB, Content-Length given), `huge-stream` (30 MB, none),
                             `truncated` (body shorter than its Content-Length),
                             `gzip-bomb` (30 KB of gzip that inflate to 30 MB)
- `/files/{n}.{ext}`, `/download?id=n`   attachments linked as articles (the latter without a
                             file name, answering application/pdf)
- `/private/{n}.html`        disallowed by robots.txt
- `/calendar?date=D`, `/search?q=..&page=N`, `/archive/{n}/`   endless list-page traps

The server is bounded: it stops by itself after `lifetime` seconds or `max_requests` requests,
and every wait in a handler ends when it stops. It records each request (path, host, time) so
tests can check what the crawler asked for.
"""
from __future__ import annotations

import gzip
import html
import re
import socket
import struct
import threading
import time
import zlib
from collections import Counter, defaultdict
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from opencc import OpenCC

GOOD_KINDS = ("utf8", "gbk-as-utf8", "utf8-as-gbk", "big5", "malformed", "hostile", "slow", "flaky", "retry-after")
FAULT_KINDS = ("500", "502", "503", "reset", "timeout", "trickle", "loop", "self-redirect", "loop-two", "offsite",
               "offsite-after-503", "huge", "huge-stream", "truncated", "gzip-bomb")
ATTACHMENT_LINKS = ("/files/{n}.pdf", "/files/{n}.jpg", "/files/{n}.docx", "/files/{n}.xlsx", "/download?id={n}")
TRAP_STARTS = ("/calendar?date=2024-01-01", "/search?q=%E9%80%9A%E7%9F%A5&page=1", "/archive/1/")
HOSTILE_TITLE = "'); DROP TABLE articles;--"
HUGE_BYTES = 30 * 1024 * 1024
GZIP_BOMB = gzip.compress(b"<html><body><p>" + b"0" * HUGE_BYTES, 9)
SLOW_SECONDS = 0.4      # the `slow` article takes this long: under any sane timeout
STALL_SECONDS = 30.0    # `timeout` and `trickle` never finish before the crawler gives up
_TO_TRADITIONAL = OpenCC("s2tw")  # Taiwan forms: what Big5 pages use


def good_article(kind: str, n: int) -> dict:
    """The record a crawl must store for `/news/{kind}/{n}.html` (title, published, body)."""
    title = HOSTILE_TITLE if kind == "hostile" else f"政务公开工作推进会第{n}号通报"
    body = [
        f"第{n}号通报：市政府召开政务公开工作推进会，总结上一阶段工作，部署下一阶段重点任务。",
        f"会议要求各部门按期更新政府网站栏目，及时发布政策文件，第{n}项任务限期办结。",
        "会议强调，要认真回应群众关切，做好政策解读和舆情回应工作。",
    ]
    if kind == "hostile":
        body.append("输入原样保存：Robert'); DROP TABLE students;-- 与 \" OR \"1\"=\"1 以及 <script>alert(1)</script>")
    return {"url_path": f"/news/{kind}/{n}.html", "title": title, "published": f"2024-07-{1 + n % 28:02d}",
            "source": "测试市政府办公室", "body": "\n".join(body)}


def _article_html(kind: str, n: int, charset: str) -> str:
    record = good_article(kind, n)
    paragraphs = "".join(f"<p>{html.escape(line, quote=False)}</p>" for line in record["body"].split("\n"))
    title = html.escape(record["title"], quote=False)
    head = f'<meta charset="{charset}"><title>{title}_测试市人民政府</title>'
    info = f'<div class="info">发布时间：{record["published"]} 来源：{record["source"]}</div>'
    attachment = f'<div class="attach">附件：<a href="/files/annex-{n}.pdf">附件{n}.pdf</a></div>'
    chrome = ('<div class="top">政务服务热线 12345 | 无障碍 | 长者模式</div>'
              '<div class="share">分享到：微信 微博 <a href="javascript:print()">打印</a></div>'
              '<div class="footer"><a href="/">首页</a> <a href="/private/1.html">内部</a> 版权所有 测试市人民政府</div>')
    if kind == "malformed":  # unclosed and stray tags, a table cell out of a table, a bare '<'
        return (f'<html><head>{head}<body><div class="main"><span><h1 class="title">{title}</span></h1>'
                f'<font>{info}</div><div class="content"><p>{paragraphs.replace("</p>", "")}'
                f'</td></span></div></div>{attachment}<div>1 < 2 {chrome}')
    return (f'<!DOCTYPE html><html><head>{head}</head><body>{chrome.split("</div>")[0]}</div>'
            f'<h1 class="title">{title}</h1>{info}<div class="content">{paragraphs}</div>{attachment}'
            f'{"</div>".join(chrome.split("</div>")[1:])}</body></html>')


def article_response(kind: str, n: int) -> tuple[str, bytes]:
    """(Content-Type, body bytes) of a good article, in the encoding its kind calls for."""
    if kind == "gbk-as-utf8":
        return "text/html; charset=utf-8", _article_html(kind, n, "utf-8").encode("gbk")
    if kind == "utf8-as-gbk":
        return "text/html; charset=gb2312", _article_html(kind, n, "gb2312").encode("utf-8")
    if kind == "big5":
        page = _TO_TRADITIONAL.convert(_article_html(kind, n, "big5"))
        return "text/html; charset=big5", page.encode("big5")
    return "text/html; charset=utf-8", _article_html(kind, n, "utf-8").encode("utf-8")


def list_page(links: list[tuple[str, str]], next_href: str | None) -> bytes:
    items = "".join(f'<li><a href="{html.escape(href)}">{html.escape(text)}</a></li>' for href, text in links)
    nxt = f'<a class="next" href="{html.escape(next_href)}">下一页</a>' if next_href else ""
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>政务动态</title></head><body>'
            f'<ul class="news">{items}</ul><div class="pages">{nxt}</div></body></html>').encode("utf-8")


class FaultSite:
    """What the site holds: good articles, fault pages and extra links, spread over list pages."""

    def __init__(self, goods: list[tuple[str, int]], faults: list[tuple[str, int]], extras: list[str] = (),
                 per_list: int = 12):
        entries = [f"/news/{kind}/{n}.html" for kind, n in goods]
        entries += [f"/fault/{kind}/{n}.html" for kind, n in faults] + list(extras)
        entries.sort(key=lambda href: zlib.crc32(href.encode()))  # faults mixed in among good pages
        self.goods = goods
        self.lists = [entries[i:i + per_list] for i in range(0, len(entries), per_list)] or [[]]

    @classmethod
    def every_case(cls) -> "FaultSite":
        """One good article of each kind (plus plain ones), one page of each fault, attachments,
        a robots-disallowed page and tracking-parameter copies of good articles."""
        goods = [("utf8", n) for n in range(1, 7)] + [(kind, 10 + i) for i, kind in enumerate(GOOD_KINDS[1:])]
        faults = [(kind, 1) for kind in FAULT_KINDS]
        extras = [link.format(n=n) for n, link in enumerate(ATTACHMENT_LINKS, 1)]
        extras += ["/private/1.html", "/news/utf8/1.html?utm_source=wechat&from=timeline",
                   "/news/utf8/2.html?spm=a2.b3.c4"]
        return cls(goods, faults, extras)

    def good_records(self) -> list[dict]:
        return [good_article(kind, n) for kind, n in self.goods]

    def list_response(self, k: int) -> bytes | None:
        if not 1 <= k <= len(self.lists):
            return None
        links = [(href, f"文章 {href}") for href in self.lists[k - 1]]
        return list_page(links, f"/list/{k + 1}.html" if k < len(self.lists) else None)


class FaultHandler(BaseHTTPRequestHandler):
    server_version = "HostileGov/1.0"
    server: "FaultServer"

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass

    def do_GET(self):
        path = self.path
        hits = self.server.record(path, self.headers.get("Host", ""))
        if self.server.over_budget():
            return self._send(503, b"request budget used up", "text/plain")
        route = urlsplit(path)
        match = re.fullmatch(r"/(news|fault|list|files|private|archive)/(?:([\w-]+)/)?(\d+)(?:\.(\w+)|/)?", route.path)
        if route.path == "/robots.txt":
            return self._send(200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
        if route.path in ("/calendar", "/search", "/download"):
            return self._query_route(route.path, parse_qs(route.query))
        if not match:
            return self._send(404, b"not found", "text/plain")
        section, kind, n = match.group(1), match.group(2), int(match.group(3))
        if section == "list":
            body = self.server.site.list_response(n)
            return self._send(200, body) if body else self._send(404, b"no such list page", "text/plain")
        if section == "news" and kind in GOOD_KINDS:
            return self._good(kind, n, hits)
        if section == "fault" and kind in FAULT_KINDS:
            return self._fault(kind, n, hits)
        if section == "private":
            content_type, body = article_response("utf8", 900 + n)
            return self._send(200, body, content_type)
        if section == "files":
            return self._send(200, b"%PDF-1.4 attachment bytes", "application/octet-stream")
        if section == "archive":
            return self._send(200, list_page([], f"/archive/{n + 1}/"))
        return self._send(404, b"not found", "text/plain")

    # --- routes -------------------------------------------------------------------------------
    def _good(self, kind: str, n: int, hits: int) -> None:
        if kind == "flaky" and hits <= 2:
            return self._send(503, b"busy", "text/plain")
        if kind == "retry-after" and hits <= 1:
            return self._send(429, b"slow down", "text/plain", {"Retry-After": "1"})
        content_type, body = article_response(kind, n)
        if kind == "slow":
            return self._trickle(200, body, content_type, SLOW_SECONDS)
        return self._send(200, body, content_type)

    def _fault(self, kind: str, n: int, hits: int) -> None:
        if kind in ("500", "502", "503"):
            return self._send(int(kind), b"<html><body>Server Error</body></html>")
        if kind == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            return None
        if kind == "timeout":
            self.server.stopped.wait(STALL_SECONDS)
            return None
        if kind == "trickle":
            return self._trickle(200, article_response("utf8", 800 + n)[1], "text/html; charset=utf-8", STALL_SECONDS)
        if kind == "loop":
            return self._redirect(f"/fault/loop/{n + 1}.html")
        if kind == "self-redirect":
            return self._redirect(f"/fault/self-redirect/{n}.html")
        if kind == "loop-two":  # n and n + 1000 redirect to each other
            return self._redirect(f"/fault/loop-two/{n + 1000 if n < 1000 else n - 1000}.html")
        if kind == "gzip-bomb":
            return self._send(200, GZIP_BOMB, extra={"Content-Encoding": "gzip"})
        if kind == "offsite-after-503" and hits == 1:
            return self._send(503, b"busy", "text/plain")
        if kind.startswith("offsite"):
            return self._redirect(f"http://localhost:{self.server.port}/news/utf8/{700 + n}.html")
        if kind in ("huge", "huge-stream"):
            return self._huge(with_length=kind == "huge")
        _, body = article_response("utf8", 600 + n)  # truncated: promise more than is sent
        self._headers(200, "text/html; charset=utf-8", {"Content-Length": str(len(body))})
        self.wfile.write(body[: len(body) // 3])
        self.close_connection = True
        return None

    def _query_route(self, path: str, query: dict) -> None:
        if path == "/download":
            return self._send(200, b"%PDF-1.4 a file served without a file name", "application/pdf")
        if path == "/calendar":  # every day links the next day, and holds nothing
            day = date.fromisoformat(query.get("date", ["2024-01-01"])[0])
            return self._send(200, list_page([], f"/calendar?date={day + timedelta(days=1)}"))
        page = int(query.get("page", ["1"])[0])  # search results: the same two hits on every page
        hits = [("/news/utf8/1.html", "结果一"), ("/news/utf8/2.html", "结果二")]
        return self._send(200, list_page(hits, f"/search?q=%E9%80%9A%E7%9F%A5&page={page + 1}"))

    # --- writing ------------------------------------------------------------------------------
    def _headers(self, status: int, content_type: str, extra: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()

    def _send(self, status: int, body: bytes, content_type: str = "text/html; charset=utf-8",
              extra: dict | None = None) -> None:
        self._headers(status, content_type, {"Content-Length": str(len(body)), **(extra or {})})
        self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self._send(302, b"", "text/plain", {"Location": location})

    def _trickle(self, status: int, body: bytes, content_type: str, seconds: float) -> None:
        self._headers(status, content_type, {"Content-Length": str(len(body))})
        pieces = 8
        step = -(-len(body) // pieces)
        for i in range(0, len(body), step):
            self.wfile.write(body[i:i + step])
            self.wfile.flush()
            if self.server.stopped.wait(seconds / pieces):
                return

    def _huge(self, with_length: bool) -> None:
        chunk = ("<p>" + "超大页面内容" * 5000 + "</p>\n").encode("utf-8")
        self._headers(200, "text/html; charset=utf-8", {"Content-Length": str(HUGE_BYTES)} if with_length else {})
        self.close_connection = True
        sent = 0
        try:
            while sent < HUGE_BYTES and not self.server.stopped.is_set():
                self.wfile.write(chunk[: HUGE_BYTES - sent])
                sent += len(chunk)
        except OSError:  # the crawler hung up once the page was too large: that is the point
            pass


class FaultServer(ThreadingHTTPServer):
    """`with FaultServer(site) as server:` serves `site` on a free 127.0.0.1 port."""

    daemon_threads = True

    def __init__(self, site: FaultSite, lifetime: float = 120.0, max_requests: int = 10_000):
        super().__init__(("127.0.0.1", 0), FaultHandler)
        self.site = site
        self.max_requests = max_requests
        self.stopped = threading.Event()
        self.lock = threading.Lock()
        self.requests = 0
        self.hits: Counter[str] = Counter()
        self.times: defaultdict[str, list[float]] = defaultdict(list)
        self.hosts: Counter[str] = Counter()
        self.thread = threading.Thread(target=self.serve_forever, name="fault-server", daemon=True)
        self.timer = threading.Timer(lifetime, self.stop)
        self.timer.daemon = True

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def record(self, path: str, host: str) -> int:
        with self.lock:
            self.requests += 1
            self.hits[path] += 1
            self.times[path].append(time.monotonic())
            self.hosts[host.split(":")[0]] += 1
            return self.hits[path]

    def over_budget(self) -> bool:
        return self.requests > self.max_requests

    def handle_error(self, request, client_address):
        pass  # a crawler hanging up on a huge or stalled page is expected here

    def __enter__(self) -> "FaultServer":
        self.thread.start()
        self.timer.start()
        return self

    def stop(self) -> None:
        if not self.stopped.is_set():
            self.stopped.set()
            self.shutdown()

    def __exit__(self, *exc) -> None:
        self.timer.cancel()
        self.stop()
        self.server_close()
