"""The five demo sites, rendered from article content and per-site HTML templates.

Each site is modelled on one seed page (its kind of site, markup style, encoding and junk).
Article text lives in `content/`: `seeds.json` holds the seed articles exactly as their pages
show them; `<site>.json` holds other articles in Simplified Chinese, which Traditional-script
sites convert (OpenCC s2t) and annotate with pinyin the way the real portals do. Some sites
republish another site's articles, and investchn serves a 404, an empty and a broken page.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property, lru_cache
from pathlib import Path
from string import Template

import opencc

HERE = Path(__file__).parent
PER_PAGE = 5
REFERENCE_DAY = date(2025, 10, 15)  # "today" of the blog site's relative dates, fixed for stable pages

# Characters that the Traditional portals annotate with pinyin, as in the seed pages.
PINYIN = {
    "區": "qū", "產": "chǎn", "業": "yè", "發": "fā", "時": "shí", "關": "guān", "評": "píng",
    "轉": "zhuǎn", "導": "dǎo", "讀": "dú", "項": "xiàng", "堅": "jiān", "設": "shè", "經": "jīng",
    "濟": "jì", "現": "xiàn", "會": "huì", "動": "dòng", "進": "jìn", "書": "shū", "爭": "zhēng",
    "報": "bào", "鏈": "liàn", "縣": "xiàn", "務": "wù", "質": "zhì", "級": "jí", "優": "yōu",
    "聽": "tīng", "環": "huán", "線": "xiàn", "聞": "wén", "頁": "yè", "須": "xū", "費": "fèi",
}


@lru_cache(maxsize=1)
def _s2t() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


def traditional_page_text(text: str) -> str:
    """Simplified text as a Traditional portal shows it: `产业` -> `產(chǎn)業(yè)`."""
    converted = _s2t().convert(text)
    return "".join(f"{c}({PINYIN[c]})" if c in PINYIN else c for c in converted)


@dataclass(frozen=True)
class Article:
    slug: str
    title: str
    paragraphs: tuple[str, ...]
    published: str | None = None
    source: str | None = None
    summary: str | None = None
    verbatim: bool = False  # text is exactly as the page shows it (seed pages)
    home: str = ""  # the site that first published it

    @property
    def day(self) -> datetime | None:
        return datetime.fromisoformat(self.published) if self.published else None


@dataclass(frozen=True)
class DemoSite:
    name: str
    host: str
    codec: str  # how the page bytes are encoded
    content_type: str  # the Content-Type header (with or without a charset)
    script: str  # hans | hant
    first_list: str  # path of list page 1
    list_path: str  # path of list page n >= 2, with {n}
    article_path: str  # with {slug} and {ymd}
    paragraph: str  # HTML of one paragraph, with {}
    list_item: str  # HTML of one list entry, with {url}, {title}, {date}
    date_format: str | None  # how the page prints the publication date
    republish: tuple[tuple[str, str], ...] = ()  # (site, slug) of articles copied from elsewhere
    faulty: bool = False  # also links a missing, an empty and a broken article
    content: str = ""  # whose content file it publishes (default: its own)

    # --- content ---------------------------------------------------------------------------
    @cached_property
    def articles(self) -> list[Article]:
        own = all_articles(self.content or self.name)
        own = own[:-1] if self.faulty else own
        copies = [next(a for a in all_articles(site) if a.slug == slug) for site, slug in self.republish]
        return sorted(own + copies, key=lambda a: (a.published or "", a.slug), reverse=True)

    def url_of(self, article: Article) -> str:
        ymd = article.day.strftime("%Y%m%d") if article.day else "0"
        return self.article_path.format(slug=article.slug, ymd=ymd)

    def page_text(self, text: str | None, article: Article) -> str:
        if not text:
            return ""
        return traditional_page_text(text) if self.script == "hant" and not article.verbatim else text

    # --- pages -------------------------------------------------------------------------------
    def template(self, name: str) -> Template:
        return Template((HERE / "templates" / self.name / f"{name}.html").read_text("utf-8"))

    def page(self, title: str, content: str, head: str = "") -> bytes:
        html = self.template("layout").substitute(page_title=title, content=content, head=head)
        return html.encode(self.codec, "xmlcharrefreplace")

    def list_page(self, n: int) -> bytes | None:
        chunk = self.articles[(n - 1) * PER_PAGE: n * PER_PAGE]
        pages = -(-len(self.articles) // PER_PAGE)
        if not chunk:
            return None
        items = [self.list_item.format(url=self.url_of(a), title=self.page_text(a.title, a),
                                       date=a.day.strftime("%Y-%m-%d") if a.day else "") for a in chunk]
        if self.faulty and n == 1:
            items += [self.list_item.format(url=self.article_path.format(slug=slug, ymd="0"), title=title, date="")
                      for slug, title in (("missing", "已删除的文章"), ("empty", "空白页面"), ("broken", "残缺页面"))]
        pager = " ".join(f'<a href="{self.list_url(i)}">{i}</a>' if i != n else f"<b>{i}</b>"
                         for i in range(1, pages + 1))
        if n < pages:
            pager += f' <a class="next" href="{self.list_url(n + 1)}">下一页</a>'
        content = self.template("list").substitute(items="\n".join(items), pager=pager)
        return self.page("新闻列表", content)

    def list_url(self, n: int) -> str:
        return self.first_list if n == 1 else self.list_path.format(n=n)

    def article_page(self, article: Article) -> bytes:
        values = self.article_values(article)
        head = f'<meta name="ContentSource" content="{values["source"]}">' if article.source else ""
        return self.page(values["title"], self.template("article").substitute(values), head)

    def article_values(self, article: Article) -> dict[str, str]:
        """What the article template is filled with."""
        paragraphs = "\n".join(self.paragraph.format(self.page_text(p, article)) for p in article.paragraphs)
        day = article.day
        values = {
            "title": self.page_text(article.title, article),
            "date": day.strftime(self.date_format) if day and self.date_format else "",
            "ago": _ago(day.date()) if day else "",
            "source": self.page_text(article.source, article),
            "summary": self.page_text(article.summary, article),
            "paragraphs": paragraphs,
            "views": str(100 + sum(map(ord, article.slug)) % 900),
        }
        index = self.articles.index(article) if article in self.articles else 0
        neighbours = [self.articles[i] for i in (index - 1, index + 1) if 0 <= i < len(self.articles)]
        values["prev"], values["next"] = [
            f'<a href="{self.url_of(a)}">{self.page_text(a.title, a)}</a>' for a in (neighbours + neighbours)[:2]]
        return values

    def content_type_of(self, path: str) -> str:
        """The Content-Type header of a path on this site."""
        return "text/plain" if path == "/robots.txt" else self.content_type

    def respond(self, path: str) -> tuple[int, bytes]:
        """(status, body) for a path on this site."""
        if path == "/robots.txt":
            return 200, b"User-agent: *\nDisallow: /admin/\n"
        for n in range(1, len(self.articles) // PER_PAGE + 2):
            if path == self.list_url(n):
                body = self.list_page(n)
                return (200, body) if body else (404, b"")
        for article in self.articles:
            if path == self.url_of(article):
                return 200, self.article_page(article)
        if self.faulty and path == self.article_path.format(slug="empty", ymd="0"):
            return 200, self.article_page(Article(slug="empty", title="空白页面", paragraphs=()))
        if self.faulty and path == self.article_path.format(slug="broken", ymd="0"):
            return 200, self.broken_page()
        return 404, self.page("页面不存在", "<h1>404 页面不存在</h1>")

    def broken_page(self) -> bytes:
        """The site's last article, held back from the list pages, with mangled markup (no
        closing tags) and bytes that stop in the middle of a character, as truncated downloads do."""
        article = all_articles(self.name)[-1]
        html = self.article_page(article).decode(self.codec)
        html = re.sub(r"</(p|div|span|ul|li)>", "", html)
        body = html.encode(self.codec, "xmlcharrefreplace")
        cut = body.index("上一条".encode(self.codec)) + 1  # inside a two-byte character
        return body[:cut]


def _ago(day: date) -> str:
    days = (REFERENCE_DAY - day).days
    if days >= 365:
        return f"{days // 365}年前"
    return f"{max(days // 30, 1)}个月前"


def _load(name: str) -> dict:
    return json.loads((HERE / "content" / f"{name}.json").read_text("utf-8"))


def _article(entry: dict, home: str) -> Article:
    return Article(slug=entry["slug"], title=entry["title"], paragraphs=tuple(entry["paragraphs"]),
                   published=entry.get("published"), source=entry.get("source"),
                   summary=entry.get("summary"), verbatim=entry.get("verbatim", False), home=home)


def _seed(site: str) -> Article:
    return _article(_load("seeds")[site], site)


def _content(site: str) -> list[Article]:
    return [_article(entry, site) for entry in _load(site)["articles"]]


def all_articles(site: str) -> list[Article]:
    """The articles a site publishes itself (seed first), without the ones it republishes."""
    return ([_seed(site)] if site in _load("seeds") else []) + _content(site)


SITES = {
    site.name: site
    for site in (
        DemoSite(
            name="laowu", host="www.szlaowu.test", codec="utf-8", content_type="text/html; charset=utf-8",
            script="hans", first_list="/news/", list_path="/news/list_{n}.html",
            article_path="/news/show-{slug}.html", paragraph="<p>{}</p>",
            list_item='<li><a href="{url}" title="{title}">{title}</a><span class="date">{date}</span></li>',
            date_format="%Y年%m月%d日", republish=(("investchn", "i1003"), ("investchn", "i1004")),
        ),
        DemoSite(
            name="investchn", host="www.investchn.test", codec="gbk",
            content_type="text/html; charset=gb2312", script="hans", first_list="/kfqnews/taizhou/",
            list_path="/kfqnews/taizhou/list_{n}.html", article_path="/kfqnews/taizhou/{ymd}/{slug}.html",
            paragraph="<p>　　{}</p>",
            list_item='<li><span class="time">[{date}]</span><a href="{url}" target="_blank">{title}</a></li>',
            date_format="%Y-%m-%d", faulty=True,
        ),
        DemoSite(
            name="huaian", host="www.d7760.test", codec="utf-8", content_type="text/html", script="hant",
            first_list="/news/", list_path="/news/index_{n}.html", article_path="/news/{slug}.html",
            paragraph="<p>{}</p>",
            list_item='<dl><dt><a href="{url}">{title}</a></dt><dd>{date}</dd></dl>',
            date_format="%Y-%m-%d %H:%M",
        ),
        DemoSite(
            name="gdcyxx", host="www.gdcyxx.test", codec="gbk", content_type="text/html", script="hans",
            first_list="/category-1.html", list_path="/category-1_{n}.html", article_path="/post/{slug}.html",
            paragraph="<p>　　{}</p>",
            list_item='<article class="item"><h2><a href="{url}">{title}</a></h2><span>{date}</span></article>',
            date_format="%Y-%m-%d", republish=(("huaian", "h1002"),),
        ),
        DemoSite(
            name="czgx", host="www.czgx.test", codec="utf-8", content_type="text/html; charset=utf-8",
            script="hant", first_list="/news/", list_path="/news/index_{n}.shtml",
            article_path="/news/{slug}.shtml", paragraph="<p>{}</p>",
            list_item='<li><a href="{url}">{title}</a></li>', date_format=None,
            republish=(("huaian", "h1003"),),
        ),
    )
}
# Demo sites with no module in spiders/, for operators to practise adding a site on (docs/operators.md,
# "Add a site"). `crawler demo` does not crawl them. duodao is the district government portal
# whose news laowu republishes.
NEW_SITES = {
    site.name: site
    for site in (
        DemoSite(
            name="duodao", host="www.duodao.gov.test", codec="gbk", content_type="text/html", script="hans",
            first_list="/xwzx/gzdt/", list_path="/xwzx/gzdt/index_{n}.html",
            article_path="/xwzx/gzdt/{ymd}/t{ymd}_{slug}.html", paragraph='<p style="text-indent:2em">{}</p>',
            list_item='<li><a href="{url}" title="{title}">{title}</a><span>{date}</span></li>',
            date_format="%Y-%m-%d", content="laowu",
        ),
    )
}
# Demo sites without a site module, crawled with `crawler crawl --url` and the generic chain
# (not part of `crawler demo`, which crawls the site modules).
GENERIC_SITES = {
    site.name: site
    for site in (
        DemoSite(  # a county government portal on a TRS-style CMS
            name="linhu", host="www.linhu.gov.test", codec="utf-8", content_type="text/html; charset=utf-8",
            script="hans", first_list="/xwzx/zwdt/", list_path="/xwzx/zwdt/index_{n}.html",
            article_path="/xwzx/zwdt/t{ymd}_{slug}.html", paragraph='<p style="text-indent: 2em;">{}</p>',
            list_item='<li><a href="{url}" title="{title}" target="_blank">{title}</a><span class="date">{date}</span></li>',
            date_format="%Y-%m-%d %H:%M",
        ),
    )
}
SITES_BY_HOST = {site.host: site for site in (*SITES.values(), *NEW_SITES.values(), *GENERIC_SITES.values())}

# The 信息公开 demo site is a DemoSite of its own kind, which adds itself to SITES (it builds on
# the above, so it is imported last).
import crawler.demo.documents  # noqa: E402,F401
