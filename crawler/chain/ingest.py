"""`crawler ingest`: article records from a JSON-lines file through clean -> dedup -> store.

The records have the fields of `crawler extract` (DESIGN.md). They go through the same
`clean_article` and `admit` as a crawled page, so an import, a merged shard or a re-ingest of
our own output is deduplicated against everything stored. Cleaning is idempotent: a record
that is already clean comes out unchanged (its `script` is kept when it says `hant`, since
its body has already been converted).
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from urllib.parse import urlsplit

from crawler.article.clean import clean_article
from crawler.article.items import RawArticle
from crawler.chain.process import Arrival, admit_many
from crawler.article.dates import utc_now
from crawler.storage.store import Store

TEXT_FIELDS = ("url", "site", "extractor", "title", "published", "source", "author", "summary", "body",
               "script", "fetched_at")
# Records per transaction: a kill loses at most one batch (a few seconds of work), and a page
# of an index that several records of a batch change is written once per commit, not once each.
BATCH_SIZE = 2000


class RecordError(ValueError):
    """A line that is not an article record; the message says why, in a few words."""


def parse_line(line: bytes) -> dict:
    """One JSON-lines line -> a dict with string (or null) fields, a usable URL and a body."""
    try:
        record = json.loads(line.decode("utf-8-sig").rstrip("\r\n"))
    except UnicodeDecodeError as exc:
        raise RecordError(f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise RecordError(f"malformed JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(record, dict):
        raise RecordError("not a JSON object")
    for name in TEXT_FIELDS:
        if record.get(name) is not None and not isinstance(record[name], str):
            raise RecordError(f"field `{name}` is not a string")
    document = record.get("document")
    if document is not None and not (isinstance(document, dict) and all(
            isinstance(value, str) or value is None for value in document.values())):
        raise RecordError("field `document` is not an object of strings")
    if not record.get("url"):
        raise RecordError("no url")
    url = urlsplit(record["url"])
    if url.scheme not in ("http", "https") or not url.hostname:
        raise RecordError(f"url is not an http(s) URL: {record['url'][:80]}")
    if not (record.get("body") or "").strip():
        raise RecordError("no body")
    return record


def clean_record(record: dict) -> dict:
    """The stored form of an article record, as `crawler.chain.process.record_of` makes it for a page."""
    fetched_at = record.get("fetched_at") or utc_now()
    try:
        fetched = datetime.fromisoformat(fetched_at)
    except ValueError:
        raise RecordError(f"fetched_at is not an ISO 8601 time: {fetched_at[:40]}") from None
    raw = RawArticle(
        url=record["url"], site=record.get("site") or urlsplit(record["url"]).hostname,
        extractor=record.get("extractor") or "ingest", title=record.get("title"),
        published=record.get("published"), source=record.get("source"), author=record.get("author"),
        summary=record.get("summary"), body=record["body"].split("\n"),
        document={name: value for name, value in (record.get("document") or {}).items() if value} or None,
    )
    clean = clean_article(raw, fetched_at=fetched)
    if record.get("script") == "hant":
        clean["script"] = "hant"
    clean["fetched_at"] = fetched_at
    return clean


def ingest(store: Store, lines: Iterable[bytes], reject: Callable[[int, str], None],
           committed: Callable[[Counter], None] = lambda counts: None, batch_size: int = BATCH_SIZE) -> Counter:
    """Store every record of `lines`, `batch_size` records per transaction; `reject(line_number,
    reason)` hears about each bad line, and `committed(counts)` about the counts so far each
    time a batch is committed. Returns counts: records, new, exact, near, known, rejected."""
    counts = Counter()
    batch = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        counts["records"] += 1
        batch.append((number, line))
        if len(batch) == batch_size:
            _store_batch(store, batch, counts, reject)
            committed(counts)
            batch = []
    _store_batch(store, batch, counts, reject)
    committed(counts)
    return counts


def _store_batch(store: Store, batch: list[tuple[int, bytes]], counts: Counter,
                 reject: Callable[[int, str], None]) -> None:
    numbers, arrivals = [], []
    for number, line in batch:
        try:
            arrivals.append(Arrival(clean_record(parse_line(line))))
        except RecordError as exc:
            counts["rejected"] += 1
            reject(number, str(exc))
            continue
        except Exception as exc:  # a record that breaks cleaning must not stop the others
            counts["rejected"] += 1
            reject(number, f"cannot be cleaned: {type(exc).__name__}: {exc}")
            continue
        numbers.append(number)
    for number, outcome in zip(numbers, admit_many(store, arrivals)):  # one transaction
        if outcome.kind == "empty":
            counts["rejected"] += 1
            reject(number, "body is empty after cleaning")
        else:
            counts[outcome.match or outcome.kind] += 1
