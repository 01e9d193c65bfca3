"""A downstream reader that polls the SQLite store while a crawl writes it (tests and the soak
benchmark). Each poll is one read transaction held open for a moment, the worst case for a
writer; it checks that every article it sees is whole: body present, content hash matching
the body, raw page stored with it (the same transaction wrote all three)."""
from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from crawler.article.dedup import content_hash


class PollingReader(threading.Thread):
    def __init__(self, db: Path, hold_seconds: float = 0.02, pause_seconds: float = 0.005):
        super().__init__(name="store-reader", daemon=True)
        self.db = Path(db)
        self.hold, self.pause = hold_seconds, pause_seconds
        self.stop_event = threading.Event()
        self.polls = 0
        self.max_articles_seen = 0
        self.checked_up_to = 0  # articles.id up to which bodies have been checked
        self.errors: list[str] = []       # exceptions: locked, malformed, ...
        self.half_written: list[str] = []  # articles seen without their parts

    def run(self) -> None:
        while not self.db.exists() and not self.stop_event.wait(0.01):
            pass
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=1.0, isolation_level=None)
        try:
            while not self.stop_event.is_set():
                try:
                    self._poll(conn)
                except sqlite3.Error as exc:
                    if "no such table" not in str(exc):  # the crawl has not created the schema yet
                        self.errors.append(f"{type(exc).__name__}: {exc}")
                self.stop_event.wait(self.pause)
        finally:
            conn.close()

    def _poll(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN")
        try:
            total, incomplete = conn.execute(
                "SELECT COUNT(*), COUNT(*) - COUNT(r.article_id) FROM articles a "
                "LEFT JOIN raw_pages r ON r.article_id = a.id").fetchone()
            new_rows = conn.execute(
                "SELECT a.id, a.url, a.body, a.content_hash, r.article_id FROM articles a "
                "LEFT JOIN raw_pages r ON r.article_id = a.id WHERE a.id > ? ORDER BY a.id", [self.checked_up_to]).fetchall()
            time.sleep(self.hold)  # keep the read snapshot open while the crawl writes
        finally:
            conn.execute("COMMIT")
        self.polls += 1
        self.max_articles_seen = max(self.max_articles_seen, total)
        if incomplete:
            self.half_written.append(f"{incomplete} article(s) without their raw page")
        for article_id, url, body, digest, raw in new_rows:  # each row's text checked once
            if not body or raw is None or content_hash(body) != digest:
                self.half_written.append(url)
            self.checked_up_to = article_id

    def stop(self) -> "PollingReader":
        self.stop_event.set()
        self.join(timeout=10)
        return self
