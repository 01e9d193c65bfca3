"""Re-extraction: run the current site modules over the raw pages kept in the store and update the
stored articles in place, without fetching anything.

An article keeps its id, URL and the duplicates that point to it, even when its body (and so its
content hash) changes: it is still the same page. When a repaired body turns out to equal another
stored article's body, both rows stay and the pair is reported (`same_body_as`), because merging
two articles would drop a row that readers may already hold. Pages are extracted in `jobs`
worker processes (crawler.chain.workers), in order, and the workers send back everything the
update needs (record, content hash, near-duplicate fingerprint): this process only reads the
pages, compares, and hands the changes to a writes thread (crawler.storage.storethread), which
updates the rows and their search-index entries in batched transactions while sqlite3 lets
go of the GIL, so the writes overlap the next pages' reading and comparing.
"""
from __future__ import annotations

from collections import Counter, deque
from concurrent.futures import Future
from dataclasses import dataclass, field

from crawler.article.dedup import Fingerprint
from crawler.article.items import Page
from crawler.chain.process import MIN_STORED_CHARS, keyed_record_of
from crawler.storage.store import Store, StoreError
from crawler.storage.storethread import StoreThread
from crawler.chain.workers import results_in_order

MAX_QUEUED = 200  # updates handed to the writes thread and not yet done
REEXTRACTED = ("title", "published", "source", "author", "summary", "body", "script", "content_hash", "extractor",
               "document")


@dataclass
class Report:
    examined: Counter = field(default_factory=Counter)  # by site
    changed: Counter = field(default_factory=Counter)  # by site
    fields: Counter = field(default_factory=Counter)  # how many rows changed each field
    generic: Counter = field(default_factory=Counter)  # by site: articles of sites without a module
    failed: list[str] = field(default_factory=list)  # "url: why", rows left as they were
    same_body_as: list[tuple[int, int]] = field(default_factory=list)  # (article, other article)


def new_values(row: dict, record: dict, content_hash: str) -> dict:
    """The stored fields that the fresh record (whose body has this hash) changes."""
    fresh = {**{name: record.get(name) for name in REEXTRACTED}, "content_hash": content_hash}
    return {name: value for name, value in fresh.items() if value != row[name]}


def reextract(store: Store, sites: dict[str, type], site: str | None = None, jobs: int = 1) -> Report:
    """Re-extract the stored articles (of one site, or all) in `jobs` processes. `sites` maps
    names to site spider classes; an article whose site has no module goes through the
    generic chain."""
    report = Report()
    rows = deque()  # the rows of the pages handed out, in order: results come back in that order

    def pages():
        for article_id in store.stored_ids(site):
            row, html = store.stored_page(article_id)
            rows.append(row)
            yield Page(url=row["url"], site=row["site"], body=html, content_type=row["raw_content_type"],
                       fetched_at=row["fetched_at"]), sites.get(row["site"])

    # Many pages per commit (an update is milliseconds, a commit with its fsync as long again);
    # a kill loses at most the last batch, which a rerun does again.
    writes = StoreThread(store, max_writes=500, max_seconds=5.0)
    try:
        _reextract_all(writes, sites, report, rows, results_in_order(pages(), jobs, keyed_record_of))
    finally:
        writes.stop()
    if store.failure:  # the last batch could not be committed (a full disk)
        raise StoreError(store.failure)
    return report


def _reextract_all(writes: StoreThread, sites: dict[str, type], report: Report, rows: deque, results) -> None:
    updates: deque[Future] = deque()  # submitted to the writes thread; the first failure stops the run
    for result in results:
        row = rows.popleft()
        report.examined[row["site"]] += 1
        if row["site"] not in sites:
            report.generic[row["site"]] += 1
        if isinstance(result, Exception):  # one page that breaks the extractor must not stop the others
            report.failed.append(f"{row['url']}: {type(result).__name__}: {result}")
            continue
        record, keys = result
        if len(record["body"]) < MIN_STORED_CHARS:
            report.failed.append(f"{row['url']}: the extractor finds no body now; row left as it was")
            continue
        changes = new_values(row, record, keys.content_hash)
        if not changes:
            continue
        updates.append(writes.submit(_update, writes.store, report, row["id"], row["site"], changes, keys.fingerprint))
        # at most MAX_QUEUED waiting: if the writes are the slower side, memory stays flat anyway
        while updates and (updates[0].done() or len(updates) > MAX_QUEUED):
            updates.popleft().result()
    for update in updates:
        update.result()


def _update(store: Store, report: Report, article_id: int, site: str, changes: dict,
            found: Fingerprint | None) -> None:
    """On the writes thread, after the updates before it (so a body that another article has
    just been given is found)."""
    store.update_article(article_id, changes, found)
    report.changed[site] += 1
    report.fields.update(changes.keys())
    if "content_hash" in changes:
        other = store.article_with_hash(changes["content_hash"], other_than=article_id)
        if other is not None:
            report.same_body_as.append((article_id, other))
