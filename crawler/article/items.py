"""What a spider hands to the pipeline (the fetched page, not yet extracted) and what extraction
makes of it (the raw fields of an article, not yet cleaned).

Extraction happens in the pipeline (and in `crawler extract` / `reextract`) so that one code
path turns page bytes into records, whatever fetched them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from crawler.article.dates import utc_now


@dataclass
class Page:
    url: str
    site: str | None
    body: bytes
    content_type: str | None = None
    status: int = 200
    fetched_at: str = field(default_factory=utc_now)
    # What its list said of the article (a JSON list's title and date), for fields the page lacks.
    listed: dict = field(default_factory=dict)

    @classmethod
    def from_response(cls, response, site: str | None) -> "Page":
        content_type = response.headers.get("Content-Type")
        return cls(
            url=response.url, site=site, body=response.body, status=response.status,
            content_type=content_type.decode("latin-1") if content_type else None,
            listed=response.meta.get("listed") or {},
        )


@dataclass
class RawArticle:
    url: str
    site: str | None
    extractor: str
    title: str | None = None
    published: str | None = None  # text that holds the date; parsed by crawler.article.clean
    source: str | None = None
    author: str | None = None
    summary: str | None = None
    body: list[str] = field(default_factory=list)
    encoding: str = "utf-8"
    lossy: bool = False  # the bytes did not fully decode
    selector_misses: tuple[str, ...] = ()  # fields whose site selector matched nothing
