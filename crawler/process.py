"""One page through the whole chain: extract -> clean -> dedup -> store.

The Scrapy pipeline, `crawler ingest` and re-extraction all call these functions, so a record
is made and admitted the same way whatever brought it in.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from crawler.clean import clean_article
from crawler.dedup import canonical_url, content_hash
from crawler.extract import extract
from crawler.items import Page
from crawler.store import Store

MIN_STORED_CHARS = 10  # a body shorter than this is an empty page, not an article


@dataclass(frozen=True)
class Outcome:
    kind: str  # new | duplicate | known | empty
    record: dict
    article_id: int | None = None


def record_of(page: Page, site=None) -> dict:
    """The clean record of a fetched page; `site` is its site spider class or None."""
    raw = extract(page.body, page.url, site=site, content_type=page.content_type)
    raw.site = raw.site or page.site  # a site crawled without a module (`crawl --url`) goes by its host
    fetched = datetime.fromisoformat(page.fetched_at) if page.fetched_at else None
    record = clean_article(raw, fetched_at=fetched)
    record["fetched_at"] = page.fetched_at
    record["lossy_decode"] = raw.lossy
    return record


def admit(store: Store, record: dict, raw_html: bytes = b"", content_type: str | None = None,
          run_id: int | None = None) -> Outcome:
    """Dedup a clean record against the store and store it as an article or a duplicate."""
    if len(record.get("body") or "") < MIN_STORED_CHARS:
        return Outcome("empty", record)
    record = {**record, "canonical_url": canonical_url(record["url"]),
              "content_hash": content_hash(record["body"]), "run_id": run_id}
    if store.is_known(record["canonical_url"]):
        return Outcome("known", record)
    original = store.article_with_hash(record["content_hash"])
    try:
        if original is not None:
            store.add_duplicate(record, original, kind="exact", similarity=1.0)
            return Outcome("duplicate", record, original)
        return Outcome("new", record, store.add_article(record, raw_html, content_type))
    except sqlite3.IntegrityError:  # another writer stored the same URL a moment ago
        return Outcome("known", record)
