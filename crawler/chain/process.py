"""One page through the whole chain: extract -> clean -> dedup -> store.

The Scrapy pipeline, `crawler ingest` and re-extraction all call these functions, so a record
is made and admitted the same way whatever brought it in.
"""
from __future__ import annotations

import bisect
import sqlite3
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from crawler.article.clean import clean_article
from crawler.article.dedup import (LIKELY_SIMILARITY, MAX_CHECKED_CANDIDATES, Fingerprint, band_keys, candidates,
                                   candidates_of_many, canonical_url, digest, estimated_similarity, fingerprint,
                                   is_near_duplicate, normalized_body, original_rank, sharing_bands, shingles,
                                   similarity, uncrowded)
from crawler.article.items import Page
from crawler.storage.store import ORIGINAL_COLUMNS, ArticleWrite, Store

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
    # A duplicate older than the stored article (`original_rank`): it took the article's place
    # (the row `article_id` is now this record) and the copy stored before is its duplicate.
    took_place: bool = False


@dataclass(frozen=True)
class Arrival:
    """A clean record to admit, with what came with it: its page bytes (none for an ingested
    record), the crawl run, and its `dedup_keys` if already computed (by a worker process)."""
    record: dict
    raw_html: bytes = b""
    content_type: str | None = None
    run_id: int | None = None
    keys: DedupKeys | None = None


def outcome_stats(outcome: Outcome, site_module: bool) -> list[str]:
    """The crawl stats keys an admitted record counts in (crawler.storage.runcounts turns them
    into the run's counts): its outcome, and for a new article whether it lacks a date and whether a
    site module's selectors gave way to the generic extractor."""
    keys = [f"articles/{outcome.kind}"]
    if outcome.kind == "new":
        if not outcome.record["published"]:
            keys.append("articles/missing_date")
        if site_module and not outcome.record["extractor"].startswith("site:"):
            keys.append("articles/fallback")
    return keys


def record_of(page: Page, site=None, trace: dict | None = None) -> dict:
    """The clean record of a fetched page; `site` is its site spider class or None. A `trace`
    dict receives the rule that gave each field (see `crawler.article.extract.extract`)."""
    from crawler.article.extract import extract  # here, so that `crawler ingest` starts without lxml and parsel

    raw = extract(page.body, page.url, site=site, content_type=page.content_type, trace=trace)
    if trace is not None:
        trace["body lines"] = len(raw.body)
    raw.site = raw.site or page.site  # a site crawled without a module (`crawl --url`) goes by its host
    for name, value in page.listed.items():  # the list's title or date, where the page has none
        if value and not getattr(raw, name):
            setattr(raw, name, value)
    fetched = datetime.fromisoformat(page.fetched_at) if page.fetched_at else None
    record = clean_article(raw, fetched_at=fetched)
    record["fetched_at"] = page.fetched_at
    record["lossy_decode"] = raw.lossy
    record["selector_misses"] = list(raw.selector_misses)
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
    return admit_many(store, [Arrival(record, raw_html, content_type, run_id, keys)])[0]


def admit_many(store: Store, arrivals: list[Arrival]) -> list[Outcome]:
    """Dedup clean records against the store and against each other, in order, and store each
    as an article or a duplicate, in one transaction. Each record's outcome is the one it would
    get admitted alone after the ones before it; the store is read and written in a few
    statements per batch instead of several per record."""
    if not arrivals:
        return []
    try:
        return _admit_batch(store, arrivals)
    except sqlite3.IntegrityError as exc:
        if "UNIQUE" not in str(exc):  # a missing field is a bad record, not a known one
            raise
    with store.transaction():  # another writer stored one of these a moment ago: again, holding the write lock
        return _admit_batch(store, arrivals)


def _admit_batch(store: Store, arrivals: list[Arrival]) -> list[Outcome]:
    batch = _Batch(store, arrivals)
    outcomes = [batch.admit(arrival, record, keys, shingled)
                for arrival, record, keys, shingled in zip(arrivals, batch.records, batch.keys, batch.shingled)]
    batch.write()
    return outcomes


class _Batch:
    """The store as the records of one batch see it: what was read from it for the whole batch,
    plus what the batch's earlier records changed, kept in memory until `write`."""

    def __init__(self, store: Store, arrivals: list[Arrival]):
        self.store = store
        self.records = [_stored_form(arrival) for arrival in arrivals]  # None: too short to store
        self.known = store.known_urls(list({record["canonical_url"] for record in self.records if record}))
        self.keys, self.shingled = [], []
        for arrival, record in zip(arrivals, self.records):
            keys = shingled = None
            if record is not None and record["canonical_url"] not in self.known:
                keys = arrival.keys
                if keys is None:  # `nearest_copy` makes the shingles again if a worker made the keys
                    keys, shingled = _keys(record["canonical_url"], record["body"])  # the URL is canonical already
            self.keys.append(keys)
            self.shingled.append(shingled)
        keyed = [keys for keys in self.keys if keys is not None]
        self.hash_ids = store.articles_with_hashes(list({keys.content_hash for keys in keyed}))
        self.members = store.band_members(list({key for keys in keyed if keys.fingerprint
                                                for key in keys.fingerprint.keys}))
        self.signatures: dict[int, tuple[int, np.ndarray] | None] = {}  # None: too short to have one
        self.originals: dict[int, dict] = {}  # body, published, fetched_at
        self.next_id = store.next_article_id()
        self.new: dict[int, ArticleWrite] = {}
        self.replaced: dict[int, ArticleWrite] = {}  # stored articles that an older copy replaces
        self.duplicates: list[dict] = []
        self._likely: dict[int, list[int]] = {}  # id(fingerprint) -> its likely copies among the stored articles
        self._touched: set[int] = set()  # band keys whose members the batch changed
        self._prefetch(keyed)

    def _prefetch(self, keyed: list[DedupKeys]) -> None:
        """Read in two statements what the records will most likely ask for: the signatures of
        the stored articles that share the most bands with each, then the text and dates of
        those that may be its original. (What the batch itself changes can make a record ask
        for another article; that one is read when asked for.)"""
        found = [keys.fingerprint for keys in keyed if keys.fingerprint]
        ranked = list(zip(found, candidates_of_many([each.keys for each in found], self.members)))
        self._read_signatures({article_id for _each, ids in ranked for article_id in ids})
        for each, ids in ranked:
            self._likely[id(each)] = self._likely_copies(each, ids)
        self._read_originals({article_id for likely in self._likely.values() for article_id in likely} |
                             {ids[0] for keys in keyed if (ids := self.hash_ids.get(keys.content_hash))})

    def _candidates(self, found: Fingerprint) -> list[int]:
        members = {key: self.members[key] for key in found.keys if key in self.members}
        return candidates(sharing_bands(members, MAX_CHECKED_CANDIDATES))

    def _read_signatures(self, article_ids) -> None:
        wanted = [article_id for article_id in article_ids if article_id not in self.signatures]
        if wanted:
            found = self.store.signatures(wanted)
            self.signatures.update({article_id: found.get(article_id) for article_id in wanted})

    def _read_originals(self, article_ids) -> None:
        wanted = [article_id for article_id in article_ids if article_id not in self.originals]
        if wanted:
            self.originals.update(self.store.originals(wanted))

    def _likely_copies(self, found: Fingerprint, article_ids: list[int]) -> list[int]:
        """Those of these articles whose signature makes them possible originals of the text."""
        self._read_signatures(article_ids)
        return [article_id for article_id in article_ids if self.signatures[article_id] is not None
                and estimated_similarity(found, *self.signatures[article_id]) >= LIKELY_SIMILARITY]

    def _original_of(self, keys: DedupKeys, body: str, shingled: np.ndarray | None) -> tuple[int, str, float] | None:
        """(article id, exact | near, similarity) of the article this text copies, if any."""
        same_text = self.hash_ids.get(keys.content_hash)
        if same_text:
            return same_text[0], "exact", 1.0
        found = keys.fingerprint
        if found is None:
            return None
        if self._touched.isdisjoint(found.keys):  # no record before it changed its bands' members
            likely = self._likely[id(found)]
        else:
            likely = self._likely_copies(found, self._candidates(found))
            self._read_originals(likely)
        near = nearest_copy({article_id: self.originals[article_id]["body"] for article_id in likely}, body, shingled)
        return None if near is None else (near[0], "near", round(near[1], 3))

    def admit(self, arrival: Arrival, record: dict | None, keys: DedupKeys | None,
              shingled: np.ndarray | None) -> Outcome:
        if record is None:
            return Outcome("empty", arrival.record)
        if record["canonical_url"] in self.known:
            return Outcome("known", record)
        self.known.add(record["canonical_url"])
        record["content_hash"] = keys.content_hash
        match = self._original_of(keys, record["body"], shingled)
        if match is None:
            article_id = self.next_id
            self.next_id += 1
            self.new[article_id] = self._index(article_id, record, arrival, keys.fingerprint)
            return Outcome("new", record, article_id)
        article_id, kind, score = match
        self._read_originals([article_id])
        stored = self.originals[article_id]
        if _rank(record) > _rank(stored):
            self.duplicates.append(_duplicate_row(record, article_id, kind, score))
            return Outcome("duplicate", record, article_id, kind)
        self._replace(article_id, record, arrival, keys.fingerprint, kind, score)
        return Outcome("duplicate", record, article_id, kind, took_place=True)

    def _index(self, article_id: int, record: dict, arrival: Arrival, found: Fingerprint | None) -> ArticleWrite:
        """Make `record` the text of article `article_id` for the records after it."""
        keys = uncrowded(found.keys, self.members) if found else []
        for key in keys:
            self.members[key].append(article_id)
        self._touched.update(keys)
        bisect.insort(self.hash_ids[record["content_hash"]], article_id)
        self.signatures[article_id] = (found.size, found.signature) if found else None
        self.originals[article_id] = {name: record.get(name) for name in ORIGINAL_COLUMNS}
        return ArticleWrite(article_id, record, arrival.raw_html, arrival.content_type, found, keys)

    def _replace(self, article_id: int, record: dict, arrival: Arrival, found: Fingerprint | None,
                 kind: str, score: float) -> None:
        """The older copy `record` takes article `article_id`'s place; the copy stored there
        becomes its duplicate."""
        in_batch = self.new.get(article_id) or self.replaced.get(article_id)
        displaced = in_batch.row if in_batch else self.store.article(article_id)
        self.duplicates.append(_duplicate_row(displaced, article_id, kind, score))
        self._read_signatures([article_id])
        if self.signatures[article_id] is not None:
            for key in band_keys(self.signatures[article_id][1]):
                if article_id in self.members.get(key, ()):
                    self.members[key].remove(article_id)
                    self._touched.add(key)
        if article_id in self.hash_ids.get(displaced["content_hash"], ()):  # read only if a record has that hash
            self.hash_ids[displaced["content_hash"]].remove(article_id)
        write = self._index(article_id, record, arrival, found)
        if article_id in self.new:
            self.new[article_id] = write
        else:
            self.replaced[article_id] = write

    def write(self) -> None:
        if self.new or self.replaced or self.duplicates:
            self.store.write_admitted(list(self.new.values()), list(self.replaced.values()), self.duplicates)


def _stored_form(arrival: Arrival) -> dict | None:
    """The record as stored (canonical URL, run), or None for a body too short to be an article."""
    record = arrival.record
    if len(record.get("body") or "") < MIN_STORED_CHARS:
        return None
    return {**record, "canonical_url": arrival.keys.canonical_url if arrival.keys else canonical_url(record["url"]),
            "run_id": arrival.run_id}


def _rank(copy: dict) -> tuple:
    return original_rank(copy.get("published"), copy.get("fetched_at"), copy["canonical_url"])


def _duplicate_row(copy: dict, article_id: int, kind: str, score: float) -> dict:
    return {"url": copy["url"], "canonical_url": copy["canonical_url"], "duplicate_of": article_id, "kind": kind,
            "similarity": score, "site": copy["site"], "published": copy.get("published"),
            "fetched_at": copy.get("fetched_at"), "run_id": copy.get("run_id")}


def nearest_copy(bodies: dict[int, str], body: str, shingled: np.ndarray | None = None) -> tuple[int, float] | None:
    """The most similar of these articles' `bodies` (on a tie the first stored) with its
    similarity, if `body` (whose `shingles` are `shingled`, if already made) is a near copy of it."""
    if not bodies:
        return None
    if shingled is None:
        shingled = shingles(normalized_body(body))
    scores = [(similarity(shingled, shingles(normalized_body(stored))), -article_id)
              for article_id, stored in bodies.items()]
    score, negated_id = max(scores)
    return (-negated_id, score) if is_near_duplicate(score) else None
