"""Re-extraction: run the current site modules over the raw pages kept in the store and update the
stored articles in place, without fetching anything.

An article keeps its id, URL and the duplicates that point to it, even when its body (and so its
content hash) changes: it is still the same page. When a repaired body turns out to equal another
stored article's body, both rows stay and the pair is reported (`same_body_as`), because merging
two articles would drop a row that readers may already hold. Pages are extracted in `jobs`
worker processes (crawler.workers), in order, while this process reads and updates the store.
"""
from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

from crawler.items import Page
from crawler.process import MIN_STORED_CHARS, keyed_record_of
from crawler.store import Store
from crawler.workers import results_in_order

REEXTRACTED = ("title", "published", "source", "author", "summary", "body", "script", "content_hash", "extractor")


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
    store.batch_writes(500, 5.0)
    try:
        _reextract_all(store, sites, report, rows, results_in_order(pages(), jobs, keyed_record_of))
    finally:
        store.batch_writes(0, 0)
    return report


def _reextract_all(store: Store, sites: dict[str, type], report: Report, rows: deque, results) -> None:
    for result in results:
        row = rows.popleft()
        article_id = row["id"]
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
        store.update_article(article_id, changes, keys.fingerprint)
        report.changed[row["site"]] += 1
        report.fields.update(changes.keys())
        if "content_hash" in changes:
            other = store.article_with_hash(changes["content_hash"], other_than=article_id)
            if other is not None:
                report.same_body_as.append((article_id, other))
        store.commit_if_due()
