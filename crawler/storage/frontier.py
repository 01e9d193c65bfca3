"""What a crawl still has to fetch, and what list pages looked like last time, kept in SQLite.

Why not Scrapy's JOBDIR: its disk queue writes its head/tail pointers and its seen-requests
file only when the spider closes cleanly, so after kill -9 the queue is stale or unreadable and
requests marked seen may never have been fetched. Here every discovered request is committed
to the `frontier` table before Scrapy schedules it and removed only once its page is handled
(its article stored, its list page's links recorded), so a run killed at any moment leaves
exactly the unfinished work behind, and the next run starts with it.
"""
from __future__ import annotations

import json
import sqlite3

from crawler.article.dates import utc_now
from crawler.storage.store import Store

MAX_ATTEMPTS = 3  # runs that may try a frontier entry before it is given up (a page gone for good)


class Frontier:
    """The unfinished requests of one site."""

    def __init__(self, store: Store, site: str):
        self.store = store
        self.site = site

    def add(self, entries: list[dict], done: str | None = None) -> None:
        """Record requests (url, callback, errback, meta) found on a page and, in the same
        transaction, mark that page done: a kill in between loses neither."""
        if not entries and not done:
            return
        with self.store.transaction():
            for entry in entries:
                self.store.db.execute(
                    "INSERT OR IGNORE INTO frontier (site, url, callback, errback, meta, attempts, added_at) "
                    "VALUES (?, ?, ?, ?, ?, 1, ?)",
                    [self.site, entry["url"], entry.get("callback"), entry.get("errback"),
                     json.dumps(entry.get("meta") or {}), utc_now()])
            if done:
                self._remove(done)

    def done(self, url: str) -> None:
        with self.store.transaction():
            self._remove(url)

    def _remove(self, url: str) -> None:
        self.store.db.execute("DELETE FROM frontier WHERE site = ? AND url = ?", [self.site, url])

    def resume(self) -> list[dict]:
        """The entries left by earlier runs, counted as one more attempt; entries that used up
        their attempts are dropped and not returned."""
        with self.store.transaction():
            self.store.db.execute("DELETE FROM frontier WHERE site = ? AND attempts >= ?", [self.site, MAX_ATTEMPTS])
            self.store.db.execute("UPDATE frontier SET attempts = attempts + 1 WHERE site = ?", [self.site])
            rows = self.store.db.execute(
                "SELECT url, callback, errback, meta FROM frontier WHERE site = ? ORDER BY added_at, url",
                [self.site]).fetchall()
        return [{"url": url, "callback": callback, "errback": errback, "meta": json.loads(meta)}
                for url, callback, errback, meta in rows]


def validators_of(db: sqlite3.Connection, url: str) -> tuple[str | None, str | None]:
    """(ETag, Last-Modified) the server sent for this list page the last time it was followed."""
    row = db.execute("SELECT etag, last_modified FROM list_validators WHERE url = ?", [url]).fetchone()
    return (row[0], row[1]) if row else (None, None)


def save_validators(store: Store, url: str, etag: str | None, last_modified: str | None) -> None:
    with store.transaction():
        if etag or last_modified:
            store.db.execute("INSERT OR REPLACE INTO list_validators (url, etag, last_modified, checked_at) "
                             "VALUES (?, ?, ?, ?)", [url, etag, last_modified, utc_now()])
        else:
            store.db.execute("DELETE FROM list_validators WHERE url = ?", [url])
