"""One page through the whole chain: extract -> clean -> dedup -> store.

The Scrapy pipeline, `crawler ingest` and re-extraction all call these functions, so a record
is made and admitted the same way whatever brought it in.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from crawler.article.clean import clean_article
from crawler.article.dedup import (LIKELY_SIMILARITY, MAX_CHECKED_CANDIDATES, Fingerprint, candidates, canonical_url, digest,
                           estimated_similarity, fingerprint, is_near_duplicate, normalized_body, sharing_bands, shingles,
                           similarity)
from crawler.article.items import Page
from crawler.storage.store import Store

MIN_STORED_CHARS = 10  # a body shorter than this is an empty page, not an article


@dataclass(frozen=True)
class DedupKeys:
    """What `admit` compares a record by, computed from the record alone (pure CPU work that a
    worker process can do before the record reaches the store). Not the shingles themselves:
    8 bytes per character of text to send back, and only a candidate copy needs
    them (`nearest_copy` makes them again then)."""
    canonical_url: str
    content_hash: str
    fingerprint: Fingerprint | None  # None for a text too short for near-duplicate matching


def dedup_keys(record: dict) -> DedupKeys:
    return _keys(canonical_url(record["url"]), record.get("body") or "")[0]


def _keys(canonical: str, body: str) -> tuple[DedupKeys, np.ndarray]:
    """The keys of a body, and its shingles (which a candidate copy is checked on)."""
    normalized = normalized_body(body)
    shingled = shingles(normalized)
    return DedupKeys(canonical, digest(normalized), fingerprint(shingled)), shingled


@dataclass(frozen=True)
class Outcome:
    kind: str  # new | duplicate | known | empty
    record: dict
    article_id: int | None = None
    match: str | None = None  # exact | near, for a duplicate


def record_of(page: Page, site=None, trace: dict | None = None) -> dict:
    """The clean record of a fetched page; `site` is its site spider class or None. A `trace`
    dict receives the rule that gave each field (see `crawler.article.extract.extract`)."""
    from crawler.article.extract import extract  # here, so that `crawler ingest` starts without lxml and parsel

    raw = extract(page.body, page.url, site=site, content_type=page.content_type, trace=trace)
    if trace is not None:
        trace["body lines"] = len(raw.body)
    raw.site = raw.site or page.site  # a site crawled without a module (`crawl --url`) goes by its host
    fetched = datetime.fromisoformat(page.fetched_at) if page.fetched_at else None
    record = clean_article(raw, fetched_at=fetched)
    record["fetched_at"] = page.fetched_at
    record["lossy_decode"] = raw.lossy
    return record


def keyed_record_of(page: Page, site=None) -> tuple[dict, DedupKeys]:
    """All the CPU work of a fetched page (what a crawl runs in its worker processes): its
    clean record and the keys `admit` dedups it by."""
    record = record_of(page, site)
    return record, dedup_keys(record)


def admit(store: Store, record: dict, raw_html: bytes = b"", content_type: str | None = None,
          run_id: int | None = None, keys: DedupKeys | None = None) -> Outcome:
    """Dedup a clean record against the store and store it as an article or a duplicate.
    `keys`: its `dedup_keys`, if already computed (by a worker process)."""
    if len(record.get("body") or "") < MIN_STORED_CHARS:
        return Outcome("empty", record)
    record = {**record, "canonical_url": keys.canonical_url if keys else canonical_url(record["url"]), "run_id": run_id}
    if store.is_known(record["canonical_url"]):
        return Outcome("known", record)
    shingled = None  # made again by `nearest_copy` if a worker made the keys
    if keys is None:
        keys, shingled = _keys(record["canonical_url"], record["body"])  # the URL is canonical already
    record["content_hash"] = keys.content_hash
    try:
        original = store.article_with_hash(record["content_hash"])
        if original is not None:
            store.add_duplicate(record, original, kind="exact", similarity=1.0)
            return Outcome("duplicate", record, original, "exact")
        found = keys.fingerprint
        members = store.band_members(found.keys) if found else {}
        sharing = sharing_bands(members, MAX_CHECKED_CANDIDATES)
        near = nearest_copy(store, record["body"], likely_copies(store, found, candidates(sharing)), shingled)
        if near is not None:
            store.add_duplicate(record, near[0], kind="near", similarity=round(near[1], 3))
            return Outcome("duplicate", record, near[0], "near")
        return Outcome("new", record, store.add_article(record, raw_html, content_type, found, members))
    except sqlite3.IntegrityError as exc:
        if "UNIQUE" not in str(exc):  # a missing field is a bad record, not a known one
            raise
        return Outcome("known", record)  # another writer stored the same URL a moment ago


def likely_copies(store: Store, found: Fingerprint | None, article_ids: list[int]) -> list[int]:
    """Those of these stored articles whose signature makes them possible originals of the text."""
    if not article_ids:
        return []
    stored = store.signatures(article_ids)
    return [article_id for article_id in article_ids
            if article_id in stored and estimated_similarity(found, *stored[article_id]) >= LIKELY_SIMILARITY]


def nearest_copy(store: Store, body: str, article_ids: list[int],
                 shingled: np.ndarray | None = None) -> tuple[int, float] | None:
    """The most similar of these stored articles (on a tie the first stored) with its
    similarity, if `body` (whose `shingles` are `shingled`, if already made) is a near copy of it."""
    if not article_ids:
        return None
    if shingled is None:
        shingled = shingles(normalized_body(body))
    scores = [(similarity(shingled, shingles(normalized_body(stored))), -article_id)
              for article_id, stored in store.bodies(article_ids).items()]
    score, negated_id = max(scores)
    return (-negated_id, score) if is_near_duplicate(score) else None
