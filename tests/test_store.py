import sqlite3

import pytest

from crawler.chain.process import admit
from crawler.storage.store import SCHEMA_VERSION, Store, StoreError


def record(url="http://a.test/1.html", body="海陵区举行项目观摩活动，推进项目建设。", **extra):
    return {"url": url, "site": "a", "extractor": "site:a", "title": "标题", "published": "2022-07-18",
            "source": None, "author": None, "summary": None, "body": body, "script": "hans",
            "fetched_at": "2026-01-01T00:00:00+00:00", **extra}


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "t.db")
    yield s
    s.close()


def test_schema_is_explicit_versioned_and_in_wal_mode(store):
    db = store.db
    assert set(db.table_names()) >= {"articles", "duplicates", "crawl_runs", "raw_pages", "meta"}
    assert set(db["articles"].columns_dict) == {
        "id", "url", "canonical_url", "site", "title", "published", "source", "author", "summary", "body",
        "script", "content_hash", "extractor", "fetched_at", "run_id"}
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.schema_version() == SCHEMA_VERSION
    assert {"url", "canonical_url"} <= {i.columns[0] for i in db["articles"].indexes if i.unique}


def test_admit_stores_new_then_exact_duplicate_then_known(store):
    first = admit(store, record(), b"<html>")
    copy = admit(store, record(url="http://b.test/copy.html", body="海陵区举行项目观摩活动,推进项目建设。"))
    again = admit(store, record(url="https://www.a.test/1.html#x"))
    assert (first.kind, copy.kind, again.kind) == ("new", "duplicate", "known")
    row = store.db.execute("SELECT duplicate_of, kind, similarity FROM duplicates").fetchone()
    assert row == (first.article_id, "exact", 1.0)
    assert admit(store, record(url="http://c.test/e.html", body="  ")).kind == "empty"
    assert store.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 1


def test_hostile_titles_are_stored_verbatim(store):
    title = "'); DROP TABLE articles;--"
    admit(store, record(title=title))
    assert store.db.execute("SELECT title FROM articles").fetchone()[0] == title


def test_a_failed_write_leaves_no_half_article(store):
    with pytest.raises(sqlite3.Error):
        with store.transaction():
            store._insert("articles", {**{k: v for k, v in record().items()}, "canonical_url": "x", "content_hash": "h"})
            store._insert("raw_pages", {"article_id": 999, "url": "x"})  # foreign key violation
    assert store.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 0


def test_unusable_path_is_a_clear_error(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(StoreError, match="cannot use database"):
        Store(tmp_path / "file" / "x.db")


def test_a_newer_schema_is_refused(tmp_path):
    Store(tmp_path / "t.db").db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="newer"):
        Store(tmp_path / "t.db")


def test_a_record_missing_a_required_field_is_an_error_not_a_known_article(store):
    with pytest.raises(sqlite3.IntegrityError):
        admit(store, record(site=None))
    assert store.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 0
