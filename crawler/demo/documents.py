"""The demo's 信息公开 site: government documents under a TRS header table (索引号, 分类,
发文机关, 成文日期, 标题, 发文字号, 发布日期, 有效性, as xxgk pages print it), and their
attachments as real files (crawler.demo.files): PDF with and without a text layer, a locked
PDF, Word and Excel files, a Word file cut short, a lost file (404), an OFD file, and one
behind a robots.txt rule."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property
from html import escape

from crawler.demo.files import CONTENT_TYPES, made_file
from crawler.demo.sites import SITES, SITES_BY_HOST, Article, DemoSite, _load

DISALLOWED = "/xxgk_internal/"  # robots.txt keeps crawlers out of it


@dataclass(frozen=True)
class DocumentSite(DemoSite):
    @cached_property
    def documents(self) -> dict[str, dict]:
        """By slug: the header fields and attachments of each document."""
        return {entry["slug"]: entry for entry in _load(self.content or self.name)["articles"]}

    def attachment_path(self, article: Article, number: int, name: str) -> str:
        folder = DISALLOWED if name.startswith("内部") else f"/zwgk/zcwj/{article.day:%Y%m}/"
        return f"{folder}P0{article.day:%Y%m%d}{article.slug}{number}.{name.rsplit('.', 1)[1]}"

    def article_values(self, article: Article) -> dict:
        document = self.documents[article.slug]
        header = document["document"]
        links = [f'<p><a href="{self.attachment_path(article, n, a["name"])}">{escape(a["name"])}</a></p>'
                 for n, a in enumerate(document["attachments"], start=1)]
        return {
            **super().article_values(article), **header,
            "written": f"{date.fromisoformat(header['written']):%Y年%m月%d日}",
            "attachments": f'<div class="fujian"><p>附件：</p>{"".join(links)}</div>' if links else "",
        }

    @cached_property
    def files(self) -> dict[str, tuple[str, bytes | None]]:
        """Attachment path -> (content type, bytes; None for a file the site has lost)."""
        files = {}
        for article in self.articles:
            for number, attachment in enumerate(self.documents[article.slug]["attachments"], start=1):
                kind = attachment["name"].rsplit(".", 1)[1]
                files[self.attachment_path(article, number, attachment["name"])] = (
                    CONTENT_TYPES[kind], made_file(attachment["made"], attachment["lines"]))
        return files

    def content_type_of(self, path: str) -> str:
        return self.files[path][0] if path in self.files else super().content_type_of(path)

    def respond(self, path: str) -> tuple[int, bytes]:
        if path == "/robots.txt":
            return 200, f"User-agent: *\nDisallow: {DISALLOWED}\n".encode()
        if path in self.files:
            body = self.files[path][1]
            return (200, body) if body is not None else (404, b"")
        return super().respond(path)


BEILIN = DocumentSite(
    name="beilin", host="www.beilin.gov.test", codec="utf-8", content_type="text/html; charset=utf-8",
    script="hans", first_list="/zwgk/zcwj/", list_path="/zwgk/zcwj/index_{n}.html",
    article_path="/zwgk/zcwj/{ymd}/t{ymd}_{slug}.html", paragraph="<p>　　{}</p>",
    list_item='<li><a href="{url}" title="{title}" target="_blank">{title}</a><span>{date}</span></li>',
    date_format="%Y-%m-%d",
)
SITES[BEILIN.name] = SITES_BY_HOST[BEILIN.host] = BEILIN
