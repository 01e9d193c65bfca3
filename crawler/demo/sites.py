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
from urllib.parse import parse_qsl

import opencc

HERE = Path(__file__).parent
PER_PAGE = 5
HANWEB_PROXY, HANWEB_COLUMN, HANWEB_UNIT = "/module/web/jpage/dataproxy.jsp", "1229", "2571"
# The pager TRS WCM list templates write with document.write (currentPage counts from 0).
TRS_WRITE = """<script language="JavaScript">
var currentPage = CURRENT;//所在页从0开始
var prevPage = currentPage-1//上一页
var nextPage = currentPage+1//下一页
var countPage = COUNT//共多少页
//设置上一页代码
if(countPage>1&&currentPage!=0&&currentPage!=1)
	document.write("<a href=\\"index"+"_" + prevPage + "."+"html\\">上一页</a>&nbsp;");
else if(countPage>1&&currentPage!=0&&currentPage==1)
	document.write("<a href=\\"index.html\\">上一页</a>&nbsp;");
else
	document.write("上一页&nbsp;");
//设置下一页代码
if(countPage>1&&currentPage!=(countPage-1))
	document.write("<a href=\\"index"+"_" + nextPage + "."+"html\\" >下一页</a>&nbsp;");
else
	document.write("下一页&nbsp;");
</script>"""
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
    list_path: str  # path of list page n >= 2, with {n} (or {i} = n - 1, as TRS numbers them)
    article_path: str  # with {slug} and {ymd}, {ym}, or {y}/{m}/{d} unpadded (Hanweb)
    paragraph: str  # HTML of one paragraph, with {}
    list_item: str  # HTML of one list entry, with {url}, {title}, {date}
    date_format: str | None  # how the page prints the publication date
    republish: tuple[tuple[str, str], ...] = ()  # (site, slug) of articles copied from elsewhere
    faulty: bool = False  # also links a missing, an empty and a broken article
    content: str = ""  # whose content file it publishes (default: its own)
    looks: str = ""  # whose templates it uses (default: its own)
    # How a list page gives the next: "links" (下一页), "trs" (a createPageHTML script), "trs-write"
    # (countPage/currentPage and document.write), "hanweb" (jpage XML, then its data proxy),
    # "onclick" (a JEECMS-style location.href handler), "select" (a 跳转 box), "query" (?page=N).
    pager: str = "links"
    list_api: str = ""  # path of a JSON list endpoint with {n} (page number), as newer portals have

    # --- content ---------------------------------------------------------------------------
    @cached_property
    def articles(self) -> list[Article]:
        own = all_articles(self.content or self.name)
        own = own[:-1] if self.faulty else own
        copies = [next(a for a in all_articles(site) if a.slug == slug) for site, slug in self.republish]
        return sorted(own + copies, key=lambda a: (a.published or "", a.slug), reverse=True)

    def url_of(self, article: Article) -> str:
        return self.article_path_of(article.slug, article.day)

    def article_path_of(self, slug: str, day: datetime | None) -> str:
        if day is None:
            return self.article_path.format(slug=slug, ymd="0", ym="0", y=0, m=0, d=0)
        return self.article_path.format(slug=slug, ymd=day.strftime("%Y%m%d"), ym=day.strftime("%Y%m"),
                                        y=day.year, m=day.month, d=day.day)

    def page_text(self, text: str | None, article: Article) -> str:
        if not text:
            return ""
        return traditional_page_text(text) if self.script == "hant" and not article.verbatim else text

    # --- pages -------------------------------------------------------------------------------
    def template(self, name: str) -> Template:
        return Template((HERE / "templates" / (self.looks or self.name) / f"{name}.html").read_text("utf-8"))

    def page(self, title: str, content: str, head: str = "") -> bytes:
        html = self.template("layout").substitute(page_title=title, content=content, head=head)
        return html.encode(self.codec, "xmlcharrefreplace")

    def list_page(self, n: int) -> bytes | None:
        chunk = self.articles[(n - 1) * PER_PAGE: n * PER_PAGE]
        pages = -(-len(self.articles) // PER_PAGE)
        if not chunk:
            return None
        items = self.list_items(chunk)
        if self.faulty and n == 1:
            items += [self.list_item.format(url=self.article_path_of(slug, None), title=title, date="")
                      for slug, title in (("missing", "已删除的文章"), ("empty", "空白页面"), ("broken", "残缺页面"))]
        content = self.template("list").substitute(items="\n".join(items), pager=self.pager_html(n, pages),
                                                   total=len(self.articles))
        return self.page("新闻列表", content)

    def list_items(self, articles: list[Article]) -> list[str]:
        return [self.list_item.format(url=self.url_of(a), title=self.page_text(a.title, a),
                                      date=a.day.strftime("%Y-%m-%d") if a.day else "") for a in articles]

    def pager_html(self, n: int, pages: int) -> str:
        """The pager of list page n of `pages`, as this site's CMS writes it."""
        if self.pager == "trs":
            return f'<script type="text/javascript">\n\tcreatePageHTML({pages}, {n - 1}, "index", "html");\n</script>'
        if self.pager == "trs-write":
            return TRS_WRITE.replace("CURRENT", str(n - 1)).replace("COUNT", str(pages))
        if self.pager == "select":
            options = "".join(f'<option value="{self.list_url(i)}"{" selected" * (i == n)}>第{i}页</option>'
                              for i in range(1, pages + 1))
            return f'转到<select name="page" onchange="location.href=this.value">{options}</select>'
        if self.pager == "onclick":  # JEECMS: every page link is a script
            return " ".join(f'<a href="javascript:void(0);" onclick="location.href=encodeURI(\'{self.list_url(i)}\');">'
                            f'{label}</a>' for i, label in ((1, "首页"), (max(n - 1, 1), "上一页"),
                                                            (min(n + 1, pages), "下一页"), (pages, "尾页")))
        pager = " ".join(f'<a href="{self.list_url(i)}">{i}</a>' if i != n else f"<b>{i}</b>"
                         for i in range(1, pages + 1))
        if n < pages and self.pager == "links":
            pager += f' <a class="next" href="{self.list_url(n + 1)}">下一页</a>'
        return pager

    def list_url(self, n: int) -> str:
        return self.first_list if n == 1 else self.list_path.format(n=n, i=n - 1)

    def is_api(self, path: str) -> bool:
        return bool(self.list_api) and path.startswith(self.list_api.split("?", 1)[0] + "?")

    def content_type_of(self, path: str) -> str:
        if path == "/robots.txt":
            return "text/plain"
        return "application/json;charset=UTF-8" if self.is_api(path) else self.content_type

    def api_answer(self, path: str) -> tuple[int, bytes]:
        """The JSON list endpoint: {"code": 200, "data": {"total": N, "list": [{title, url, publishTime}]}}."""
        number = next((n for n in range(1, len(self.articles) // PER_PAGE + 3) if path == self.list_api.format(n=n)), None)
        if number is None:
            return 404, b'{"code": 404, "msg": "not found"}'
        chunk = self.articles[(number - 1) * PER_PAGE: number * PER_PAGE]
        listed = [{"title": a.title, "url": self.url_of(a), "publishTime": a.day.strftime("%Y-%m-%d %H:%M") if a.day else ""}
                  for a in chunk]
        answer = {"code": 200, "data": {"total": len(self.articles), "pageNo": number, "list": listed}}
        return 200, json.dumps(answer, ensure_ascii=False).encode("utf-8")

    def data_proxy_answer(self, items: list[str], pages: int) -> bytes:
        """What the Hanweb jpage data proxy answers: the asked records in the same XML."""
        return (f'<?xml version="1.0" encoding="UTF-8"?><datastore>\n<totalrecord>{len(self.articles)}</totalrecord>\n'
                f'<totalpage>{pages}</totalpage>\n<recordset>\n' + "\n".join(items)
                + "\n</recordset>\n</datastore>\n").encode(self.codec, "xmlcharrefreplace")

    def data_proxy(self, query: str) -> tuple[int, bytes]:
        """`/module/web/jpage/dataproxy.jsp?startrecord=6&endrecord=10&perpage=5&columnid=...`:
        records start..end of the column; without the column's ids, none (as the real proxy)."""
        asked = dict(parse_qsl(query))
        if asked.get("columnid") != HANWEB_COLUMN or asked.get("unitid") != HANWEB_UNIT:
            return 200, self.data_proxy_answer([], 0)
        start, end = int(asked.get("startrecord", "1")), int(asked.get("endrecord", "0"))
        return 200, self.data_proxy_answer(self.list_items(self.articles[start - 1:end]), -(-len(self.articles) // PER_PAGE))

    def article_page(self, article: Article) -> bytes:
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
        head = f'<meta name="ContentSource" content="{values["source"]}">' if article.source else ""
        return self.page(values["title"], self.template("article").substitute(values), head)

    def respond(self, path: str) -> tuple[int, bytes]:
        """(status, body) for a path on this site."""
        if path == "/robots.txt":
            return 200, b"User-agent: *\nDisallow: /admin/\n"
        if self.pager == "hanweb" and path.startswith(HANWEB_PROXY + "?"):
            return self.data_proxy(path.split("?", 1)[1])
        if self.is_api(path):
            return self.api_answer(path)
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
        DemoSite(  # a county government portal on TRS WCM: a script writes the pager, no 下一页 link
            name="qingxi", host="www.qingxi.gov.test", codec="utf-8", content_type="text/html; charset=utf-8",
            script="hans", first_list="/xwdt/qxyw/", list_path="/xwdt/qxyw/index_{i}.html",
            article_path="/xwdt/qxyw/{ym}/t{ymd}_{slug}.html", paragraph='<p style="text-indent: 2em;">{}</p>',
            list_item='<li><a href="{url}" target="_blank" title="{title}">{title}</a><span>{date}</span></li>',
            date_format="%Y-%m-%d %H:%M", pager="trs", list_api="/api/qxyw/list?pageNo={n}&pageSize=5",
        ),
        DemoSite(  # a city government portal on Hanweb: list records in the page's XML, more from its data proxy
            name="lanshan", host="www.lanshan.gov.test", codec="utf-8", content_type="text/html;charset=UTF-8",
            script="hans", first_list="/col/col1229/index.html", list_path="/col/col1229/index.html",
            article_path="/art/{y}/{m}/{d}/art_1229_{slug}.html", paragraph='<p style="text-indent:2em;">{}</p>',
            list_item='<record><![CDATA[\n<li><a href="{url}" target="_blank" title="{title}">{title}</a>'
                      '<span>{date}</span></li>\n]]></record>',
            date_format="%Y-%m-%d %H:%M", pager="hanweb",
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
            first_list="/xwzx/gzdt/", list_path="/xwzx/gzdt/index_{i}.html",
            article_path="/xwzx/gzdt/{ymd}/t{ymd}_{slug}.html", paragraph='<p style="text-indent:2em">{}</p>',
            list_item='<li><a href="{url}" title="{title}">{title}</a><span>{date}</span></li>',
            date_format="%Y-%m-%d", content="laowu", pager="trs-write",
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
        # linhu's pages on other CMSs' list pagers: what `crawl --url` must follow by itself.
        *(DemoSite(name=name, host=f"www.{name}.gov.test", codec="utf-8", content_type="text/html; charset=utf-8",
                   script="hans", first_list=first, list_path=path, article_path=article,
                   paragraph='<p style="text-indent: 2em;">{}</p>',
                   list_item='<li><a href="{url}" title="{title}" target="_blank">{title}</a><span class="date">{date}'
                             '</span></li>',
                   date_format="%Y-%m-%d %H:%M", content="linhu", looks="linhu", pager=pager)
          for name, pager, first, path, article in (
              ("shuinan", "onclick", "/xwzx/index.jhtml", "/xwzx/index_{n}.jhtml", "/xwzx/{slug}.jhtml"),
              ("beicheng", "select", "/zwdt/index.html", "/zwdt/index_{i}.html", "/zwdt/{ym}/t{ymd}_{slug}.html"),
              ("xishan", "query", "/list.jsp?catid=12", "/list.jsp?catid=12&page={n}", "/content.jsp?id={slug}"),
          )),
    )
}
SITES_BY_HOST = {site.host: site for site in (*SITES.values(), *NEW_SITES.values(), *GENERIC_SITES.values())}
