"""A large generated government news portal for the crawl benchmark, and a fast server for it.

Pages are built like a TRS-based city portal (government meta tags, hotline header, nav,
breadcrumbs, info bar, share bar, `.TRS_Editor` body, 上一篇/下一篇, related list, a footer
link farm), 5-20 KB each, from sentences of the demo sites' articles recombined with a fixed
seed, so every run serves the same bytes. A third of the pages are GBK (`charset=gb2312`),
every tenth is in Traditional script with pinyin annotations, every twentieth republishes an
earlier article's text (an exact duplicate).

The server answers from memory with asyncio and keep-alive connections on 127.0.0.1, so the
benchmark measures the crawler, not the server. It stops by itself after `max_seconds`.
"""
from __future__ import annotations

import asyncio
import json
import random
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import scrapy

from crawler.demo.sites import traditional_page_text
from crawler.sites.spider import SiteSpider

CONTENT = Path(__file__).resolve().parent.parent / "crawler" / "demo" / "content"
PER_LIST_PAGE = 20
FIRST_DAY = datetime(2023, 1, 2, 8, 30)

REGIONS = ("海陵区", "高港区", "姜堰区", "兴化市", "靖江市", "泰兴市", "医药高新区", "市经开区")
ACTIONS = ("召开", "举行", "部署", "推进", "开展", "启动", "召开专题会议研究", "调研督导")
TOPICS = ("安全生产工作", "重点项目建设", "优化营商环境", "乡村振兴", "招商引资", "民生实事项目",
          "文明城市创建", "防汛防旱工作", "科技创新", "稳就业工作", "生态环境保护", "基层治理")
SOURCES = ("泰州日报", "新华社", "市政府办公室", "区融媒体中心", "市发展改革委", "中国江苏网")
NAV = ("首页", "政务公开", "政务服务", "互动交流", "走进泰州", "新闻中心", "政策文件", "专题专栏")

ARTICLE = """<!DOCTYPE html>
<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset={charset}">
<title>{title}_{site}</title>
<meta name="SiteName" content="{site}">
<meta name="SiteDomain" content="www.taizhou.gov.test">
<meta name="SiteIDCode" content="3212000001">
<meta name="ColumnName" content="部门动态">
<meta name="ArticleTitle" content="{title}">
<meta name="PubDate" content="{date}">
<meta name="ContentSource" content="{source}">
<meta name="Keywords" content="{keywords}">
<link rel="stylesheet" href="/images/2023/css/common.css">
<script src="/images/2023/js/jquery-1.12.4.min.js"></script>
</head>
<body>
<div class="top-bar"><div class="w1200"><span>今天是：{day}</span><span class="hotline">政务服务热线：12345</span>
<a href="/wza/">无障碍</a> <a href="/old/">长者模式</a> <a href="/en/">English</a></div></div>
<div class="header"><div class="w1200"><a class="logo" href="/"><img src="/images/logo.png" alt="{site}"></a>
<form class="search" action="/search/"><input name="q" placeholder="请输入关键词"><button>搜索</button></form></div></div>
<div class="nav"><ul class="w1200">{nav}</ul></div>
<div class="w1200 main">
<div class="position">您当前的位置：<a href="/">首页</a> &gt; <a href="/news/">新闻中心</a> &gt; <a href="/news/index.html">部门动态</a></div>
<div class="article">
<h1 class="article-title">{title}</h1>
<div class="article-info"><span class="time">发布时间：{date}</span><span class="source">来源：{source}</span>
<span class="views">浏览次数：{views}</span><span class="font">字号：<a>大</a> <a>中</a> <a>小</a></span></div>
<div class="share-bar">分享到：<a class="wx">微信</a><a class="wb">微博</a><a class="qq">QQ空间</a></div>
<div class="TRS_Editor">
{paragraphs}
</div>
<div class="article-editor">责任编辑：{editor}</div>
<div class="article-tools"><a href="javascript:window.print()">【打印本页】</a> <a href="javascript:window.close()">【关闭窗口】</a></div>
<div class="prev-next"><p>上一篇：{prev}</p><p>下一篇：{next}</p></div>
<div class="related"><h3>相关文章</h3><ul>{related}</ul></div>
</div>
</div>
<div class="footer"><div class="w1200">
<div class="links">{footer}</div>
<p>主办单位：泰州市人民政府办公室　承办单位：泰州市大数据管理局　网站标识码：3212000001</p>
<p>苏ICP备05000001号　苏公网安备 32120202000001号　版权所有 © 泰州市人民政府</p>
</div></div>
</body>
</html>
"""

LIST = """<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"><title>部门动态_{site}</title></head>
<body><div class="nav"><ul>{nav}</ul></div>
<div class="position">您当前的位置：<a href="/">首页</a> &gt; 新闻中心 &gt; 部门动态</div>
<ul class="news-list">
{items}
</ul>
<div class="pagination">{pager}</div>
<div class="footer">{footer}</div>
</body></html>
"""
SITE_NAME = "泰州市人民政府"


@dataclass(frozen=True)
class Page:
    content_type: str
    body: bytes


def _sentences() -> list[str]:
    """The demo articles' sentences (Simplified; the seed pages are left out because some are
    Traditional already): real Chinese news prose to recombine."""
    found: set[str] = set()
    for path in sorted(CONTENT.glob("*.json")):
        if path.stem == "seeds":
            continue
        for article in json.loads(path.read_text("utf-8"))["articles"]:
            for paragraph in article["paragraphs"]:
                found.update(s for s in re.findall(r"[^。！？]+[。！？]", paragraph) if len(s) > 8)
    return sorted(found)


def _footer() -> str:
    departments = [f"{r}{d}" for r in ("市", "区", "县") for d in (
        "发展改革委", "教育局", "科技局", "工信局", "公安局", "民政局", "司法局", "财政局", "人社局",
        "自然资源局", "生态环境局", "住建局", "交通运输局", "水利局", "农业农村局", "商务局", "文广旅局",
        "卫健委", "应急管理局", "审计局", "市场监管局", "统计局", "医保局", "城管局", "信访局", "数据局",
        "外事办", "侨办", "档案馆", "机关事务管理局", "行政审批局", "国资委", "体育局", "退役军人事务局")]
    return " | ".join(f'<a href="http://{i}.gov.test/" target="_blank">{name}</a>' for i, name in enumerate(departments))


def build_site(articles: int = 5000, seed: int = 2024) -> dict[str, Page]:
    """Every page of the portal by path: list pages `/news/index.html`, `/news/index_N.html`
    and `articles` article pages."""
    rng = random.Random(seed)
    sentences = _sentences()
    traditional = {s: traditional_page_text(s) for s in sentences}
    nav = "".join(f'<li><a href="/{i}/">{name}</a></li>' for i, name in enumerate(NAV))
    footer = _footer()
    entries = []
    for i in range(articles):
        day = FIRST_DAY + timedelta(hours=7 * i, minutes=rng.randint(0, 59))
        title = f"{rng.choice(REGIONS)}{rng.choice(ACTIONS)}{rng.choice(TOPICS)}（第{i + 1}期）"
        if i % 20 == 7 and i > 20:  # republished: an earlier article's text under its own title
            paragraphs = entries[i - 13]["paragraphs"]
        else:
            paragraphs = [rng.sample(sentences, rng.randint(1, 4)) for _ in range(rng.randint(2, 12))]
        entries.append({"url": f"/news/{day:%Y%m}/t{day:%Y%m%d}_{100000 + i}.html", "title": title,
                        "day": day, "source": rng.choice(SOURCES), "paragraphs": paragraphs,
                        "views": rng.randint(50, 9000), "editor": rng.choice(("王芳", "李明", "张伟", "陈静"))})
    site: dict[str, Page] = {}
    for i, entry in enumerate(entries):
        hant = i % 10 == 3
        text = (lambda s: traditional[s]) if hant else (lambda s: s)
        gbk = i % 3 == 0
        neighbours = [entries[j] for j in (i - 1, i + 1) if 0 <= j < len(entries)] * 2
        html = ARTICLE.format(
            charset="gb2312" if gbk else "utf-8", site=SITE_NAME, title=entry["title"],
            date=f"{entry['day']:%Y-%m-%d %H:%M}", day=f"{entry['day']:%Y年%m月%d日}", source=entry["source"],
            keywords=",".join(rng.sample(TOPICS, 3)), nav=nav, views=entry["views"], editor=entry["editor"],
            paragraphs="\n".join(f"<p style=\"text-indent:2em;\">{''.join(text(s) for s in p)}</p>"
                                 for p in entry["paragraphs"]),
            prev=f'<a href="{neighbours[0]["url"]}">{neighbours[0]["title"]}</a>',
            next=f'<a href="{neighbours[1]["url"]}">{neighbours[1]["title"]}</a>',
            related="".join(f'<li><a href="{e["url"]}">{e["title"]}</a></li>' for e in rng.sample(entries, 6)),
            footer=footer,
        )
        content_type = "text/html; charset=gb2312" if gbk else "text/html; charset=utf-8"
        site[entry["url"]] = Page(content_type, html.encode("gbk" if gbk else "utf-8", "xmlcharrefreplace"))
    pages = -(-articles // PER_LIST_PAGE)
    for n in range(1, pages + 1):
        chunk = entries[(n - 1) * PER_LIST_PAGE: n * PER_LIST_PAGE]
        items = "\n".join(f'<li><a href="{e["url"]}" target="_blank">{e["title"]}</a><span>{e["day"]:%Y-%m-%d}</span></li>'
                          for e in chunk)
        pager = f'<a class="next" href="/news/index_{n + 1}.html">下一页</a>' if n < pages else ""
        html = LIST.format(site=SITE_NAME, nav=nav, items=items, pager=pager, footer=footer)
        site["/news/index.html" if n == 1 else f"/news/index_{n}.html"] = Page("text/html; charset=utf-8",
                                                                                html.encode("utf-8"))
    return site


# --- the server --------------------------------------------------------------------------------
class PortalServer:
    """`with PortalServer(site) as server:` serves the pages on a free loopback port from a
    thread running its own asyncio loop; it stops on exit or after `max_seconds`. With
    `by_host`, it is a proxy for many sites: pages are keyed `host/path` and asked for by
    absolute URL. Each answer can wait `latency` seconds (a remote server's response time),
    without holding up the others."""

    def __init__(self, site: dict[str, Page], max_seconds: float = 1800, latency: float = 0.0, by_host: bool = False):
        self.site = site
        self.max_seconds = max_seconds
        self.latency = latency
        self.by_host = by_host
        self.port = 0
        self.requests = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), name="portal", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _serve(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=512)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            try:
                await asyncio.wait_for(self._stop.wait(), self.max_seconds)
            except asyncio.TimeoutError:
                pass

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                target = head.split(b" ", 2)[1].decode("latin-1")
                path = re.sub(r"^https?://" if self.by_host else r"^https?://[^/]+", "", target).split("?")[0]
                page = self.site.get(path)
                self.requests += 1
                if self.latency:
                    await asyncio.sleep(self.latency)
                status, content_type, body = (
                    ("200 OK", page.content_type, page.body) if page
                    else ("404 Not Found", "text/plain", b"not found"))
                writer.write(f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
                             f"Content-Length: {len(body)}\r\n\r\n".encode("latin-1") + body)
                await writer.drain()
                if b"connection: close" in head.lower():
                    break
        except (asyncio.IncompleteReadError, ConnectionError, IndexError):
            pass
        finally:
            writer.close()

    def __enter__(self) -> "PortalServer":
        self._thread.start()
        self._ready.wait(30)
        return self

    def __exit__(self, *exc) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


# --- the two spiders the benchmark compares ------------------------------------------------------
class BareSpider(scrapy.Spider):
    """Bare Scrapy: follows the list pages and article links, does nothing with the articles."""
    name = "bare"

    def parse(self, response):
        for href in response.css("ul.news-list li a::attr(href)").getall():
            yield response.follow(href, self.parse_article)
        for href in response.css(".pagination a.next::attr(href)").getall()[:1]:
            yield response.follow(href, self.parse)

    def parse_article(self, response):
        return None


class PortalSpider(SiteSpider):
    """The portal as an operator would add it: site selectors, the generic chain for the rest."""
    name = "portal"
    allowed_domains = ["127.0.0.1"]
    article_links = "ul.news-list li a"
    next_page = ".pagination a.next"
    fields = {"title": "h1.article-title", "published": ".article-info .time", "body": ".TRS_Editor"}
