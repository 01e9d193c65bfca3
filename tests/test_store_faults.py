"""The store under faults: schema upgrade of an existing file, a full disk, attachments."""
import sqlite3

import pytest
import sqlite_utils

from crawler.chain.process import admit
from crawler.storage.store import MIGRATIONS, SCHEMA_VERSION, Store, StoreError


def record(n: int) -> dict:
    return {"url": f"http://a.test/{n}.html", "site": "a", "extractor": "site:a", "title": f"标题{n}",
            "published": "2022-07-18", "source": None, "author": None, "summary": None,
            "body": f"第{n}篇：海陵区举行项目观摩活动，推进项目建设。" * 20, "script": "hans",
            "fetched_at": "2026-01-01T00:00:00+00:00"}


def test_a_version_1_database_is_upgraded_in_place_keeping_its_rows(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    MIGRATIONS[0](sqlite_utils.Database(conn))
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    conn.execute("INSERT INTO crawl_runs (site, started_at, status) VALUES ('a', '2026-01-01', 'ok')")
    conn.close()
    store = Store(path)
    assert store.schema_version() == SCHEMA_VERSION
    run = store.db.execute("SELECT site, retries, attachments FROM crawl_runs").fetchone()
    assert run == ("a", 0, 0)
    assert "attachments" in store.db.table_names()
    # the search index merges in large steps (schema 9), whichever version the file started at
    settings = dict(store.db.execute("SELECT k, v FROM articles_fts_config WHERE k IN ('automerge', 'hashsize')"))
    assert settings == {"automerge": 8, "hashsize": 8 * 1024 * 1024}


def test_attachments_are_recorded_once_per_page(tmp_path):
    store = Store(tmp_path / "t.db")
    row = {"url": "http://a.test/f/1.pdf", "kind": "pdf", "content_type": None, "found_on": "http://a.test/1.html",
           "site": "a", "run_id": None, "found_at": "2026-01-01T00:00:00+00:00"}
    assert store.add_attachments([row, {**row, "found_on": "http://a.test/2.html"}]) == 2
    assert store.add_attachments([row]) == 0
    assert store.db.execute("SELECT COUNT(*) FROM attachments").fetchone()[0] == 2


def test_a_full_database_is_a_store_error_and_leaves_no_half_article(tmp_path):
    store = Store(tmp_path / "t.db")
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages + 3}")
    stored = 0
    with pytest.raises(StoreError, match="database or disk is full"):
        for n in range(1000):
            admit(store, record(n), b"<html>" + bytes(range(256)) * 20)
            stored += 1
    assert store.failure and "full" in store.failure
    assert store.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == stored
    assert store.db.execute("SELECT COUNT(*) FROM raw_pages").fetchone()[0] == stored
    assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_reader_holding_a_snapshot_neither_blocks_writes_nor_sees_them_half_done(tmp_path):
    store = Store(tmp_path / "t.db")
    admit(store, record(1), b"<html>1")
    reader = sqlite3.connect(tmp_path / "t.db", timeout=0, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 1
    store.db.execute("PRAGMA busy_timeout = 0")  # a write blocked by the reader would fail at once
    assert admit(store, record(2), b"<html>2").kind == "new"
    assert reader.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 1  # its snapshot
    reader.execute("COMMIT")
    assert reader.execute("SELECT COUNT(*) FROM articles a JOIN raw_pages r ON r.article_id = a.id").fetchone()[0] == 2
