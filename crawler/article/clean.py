"""Raw extracted fields -> the article record that is stored.

Steps in a fixed order: whitespace, pinyin annotations (before script conversion), Traditional
-> Simplified (recording the original script), 导读 lines to `summary`, boilerplate lines out,
dates to ISO 8601, `来源:` labels to their value.
"""
from __future__ import annotations

import re
from datetime import datetime

from crawler.article.dates import date_from_url, parse_date
from crawler.article.document import clean_document
from crawler.article.items import RawArticle
from crawler.article.text import (convert_like, drop_boilerplate, labelled_value, normalize_space, script_of, strip_pinyin,
                          uses_pinyin_annotations)

RECORD_FIELDS = ("url", "site", "extractor", "title", "published", "source", "author", "summary", "body", "script",
                 "document")
_SUMMARY_LABEL = re.compile(r"^[【\[]?(?:导读|导语|摘要|内容提要|核心提示)[】\]]?\s*[:：]\s*")
_SOURCE_LABELS = ("来源", "稿源", "信息来源", "文章来源", "出处")
_AUTHOR_LABELS = ("作者", "记者", "撰稿", "文")


def _prepare(text: str | None, toneless_pinyin: bool = False) -> str:
    return strip_pinyin(normalize_space(text or ""), toneless=toneless_pinyin)


def _labelled_or_plain(text: str, labels: tuple[str, ...]) -> str | None:
    """`来源：泰州日报 发布时间…` -> `泰州日报`; a bare short value is taken as it is."""
    if not text:
        return None
    value = labelled_value(text, labels)
    if value:
        return value
    return text if len(text) <= 40 and not re.search(r"[:：]", text) else None


def clean_article(raw: RawArticle, fetched_at: datetime | None = None) -> dict:
    """The stored record of one page: DESIGN.md's fields, `body` as paragraphs joined by `\\n`."""
    page = "\n".join(filter(None, [raw.title, *raw.body, raw.summary]))
    toneless = uses_pinyin_annotations(page)
    title = _prepare(raw.title, toneless)
    lines = [strip_pinyin(line.strip(), toneless=toneless) for line in normalize_space("\n".join(raw.body)).split("\n")]
    lines = [line for line in lines if line]
    script = script_of("\n".join([title, *lines]))

    def simplified(text: str | None) -> str | None:
        return convert_like(text, script) if text else None

    title = simplified(title)
    lines = simplified("\n".join(lines)).split("\n") if lines else []
    summary = simplified(_prepare(raw.summary, toneless))
    summary = _SUMMARY_LABEL.sub("", summary) if summary else None
    kept = []
    for line in lines:
        if _SUMMARY_LABEL.match(line):  # a 导读 inside the body container becomes the summary
            summary = summary or _SUMMARY_LABEL.sub("", line)
            continue
        if line == title and not kept:  # the headline repeated at the top of the body
            continue
        kept.append(line)
    kept = drop_boilerplate(kept)

    url_date = date_from_url(raw.url, now=fetched_at)
    year = int(url_date[:4]) if url_date else None
    published = parse_date(_prepare(raw.published), now=fetched_at, year=year) or url_date
    return {
        "url": raw.url,
        "site": raw.site,
        "extractor": raw.extractor,
        "title": title or None,
        "published": published,
        "source": _labelled_or_plain(simplified(_prepare(raw.source)) or "", _SOURCE_LABELS),
        "author": _labelled_or_plain(simplified(_prepare(raw.author)) or "", _AUTHOR_LABELS),
        "summary": summary or None,
        "body": "\n".join(kept),
        "script": script,
        "document": clean_document(raw.document, fetched_at),
    }
