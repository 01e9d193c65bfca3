"""Batched writes: many pages per transaction, yet never half an article, even on kill -9."""
from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from conftest import ROOT, connect
from crawler.article.dedup import canonical_url
from crawler.storage.frontier import Frontier
from crawler.chain.process import Arrival, admit, admit_many
from crawler.storage.store import Store
from crawler.storage.storethread import StoreThread
from newsroom import Newsroom
from test_incremental import crawl, rows, start_crawl, stored_articles


def record(n: int, **extra) -> dict:
    return {"url": f"http://a.test/{n}.html", "site": "a", "extractor": "site:a", "title": f"标题{n}",
            "published": "2022-07-18", "source": None, "author": None, "summary": None,
            "body": f"海陵区举行第{n}次项目观摩活动，推进项目建设。", "script": "hans",
            "fetched_at": "2026-01-01T00:00:00+00:00", **extra}


def count(db_path, table: str) -> int:
    with sqlite3.connect(db_path) as other:  # a reader's own connection, as downstream tools have
        return other.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "t.db")
    s.batch_writes(max_writes=3, max_seconds=3600)
    yield s
    s.close()


def test_a_batch_is_committed_whole_when_full(store):
    admit(store, record(1), b"<html>1")
    admit(store, record(2), b"<html>2")
    assert count(store.path, "articles") == 0  # readers see nothing of an open batch
    assert admit(store, record(2), b"<html>2").kind == "known"  # the writer sees all of it
    admit(store, record(3), b"<html>3")
    assert count(store.path, "articles") == 3
    assert count(store.path, "raw_pages") == 3


def searched(db_path, phrase: str) -> list[int]:
    with sqlite3.connect(db_path) as other:
        return [row[0] for row in other.execute(
            "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rowid", [f'"{phrase}"'])]


def test_batched_articles_reach_the_search_index_when_their_batch_commits(store):
    first = admit(store, record(1), b"<html>1").article_id
    with pytest.raises(RuntimeError):
        with store.transaction():  # a page that fails inside the batch
            admit(store, record(2, body="泰州市召开经济运行分析会议。"), b"<html>2")
            raise RuntimeError("broken page")
    assert searched(store.path, "第1次项目") == []  # not before the batch commits
    store.commit()
    assert searched(store.path, "第1次项目") == [first]
    assert searched(store.path, "经济运行") == []
    third = admit(store, record(3), b"<html>3").article_id
    for n in (4, 5):
        admit(store, record(n), b"<html>")
    assert searched(store.path, "第3次项目") == [third]  # a full batch commits on its own
    store.commit()
    assert len(searched(store.path, "项目观摩")) == 4
    store.db.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)")


def test_commit_flushes_a_partial_batch_and_due_batches_commit_on_time(store):
    admit(store, record(1), b"<html>1")
    store.commit()
    assert count(store.path, "articles") == 1
    admit(store, record(2), b"<html>2")
    store.commit_if_due()  # an hour is not up
    assert count(store.path, "articles") == 1
    store.batch_max_seconds = 0
    store.commit_if_due()
    assert count(store.path, "articles") == 2


def test_an_exception_in_one_page_of_a_batch_undoes_that_page_alone(store):
    admit(store, record(1), b"<html>1")
    with pytest.raises(sqlite3.IntegrityError):  # no site: NOT NULL fails after the page's first row
        admit(store, record(2, site=None), b"<html>2")
    admit(store, record(3), b"<html>3")
    store.commit()
    with connect(store.path) as db:
        assert [r[0] for r in db.execute("SELECT url FROM articles ORDER BY id")] == [
            "http://a.test/1.html", "http://a.test/3.html"]
        assert db.execute("SELECT COUNT(*) FROM raw_pages").fetchone()[0] == 2
        assert db.execute("SELECT COUNT(*) FROM lsh_bands WHERE article_id NOT IN (SELECT id FROM articles)").fetchone()[0] == 0


def test_run_rows_are_visible_at_once_while_articles_wait_in_the_batch(store):
    run_id = store.start_run("a", "inv")
    admit(store, record(1), b"<html>1", run_id=run_id)
    assert count(store.path, "crawl_runs") == 1
    assert count(store.path, "articles") == 0


def test_the_writes_thread_commits_a_slow_trickle_on_time_and_reports_errors(tmp_path):
    store = Store(tmp_path / "t.db")
    writes = StoreThread(store, max_writes=1000, max_seconds=0.3)
    try:
        assert writes.submit(admit, store, record(1), b"<html>1").result(10).kind == "new"
        deadline = time.monotonic() + 10
        while count(store.path, "articles") == 0:  # no more writes come: committed on time anyway
            assert time.monotonic() < deadline, "the open batch was never committed"
            time.sleep(0.05)
        failed = writes.submit(admit, store, record(2, site=None), b"<html>2")
        with pytest.raises(sqlite3.IntegrityError):
            failed.result(10)
        assert writes.submit(admit, store, record(3), b"<html>3").result(10).kind == "new"
    finally:
        writes.stop()
    assert count(store.path, "articles") == 2
    store.close()


def test_pages_waiting_together_on_the_writes_thread_are_admitted_in_one_call_in_order(tmp_path):
    store = Store(tmp_path / "t.db")
    writes = StoreThread(store, max_writes=1000, max_seconds=3600)
    calls, done = [], []
    release = threading.Event()

    def admit_all(arrivals):
        calls.append(len(arrivals))
        return admit_many(store, arrivals)

    try:
        writes.submit(release.wait, 10)  # the thread is busy while the pages queue up behind it
        firsts = [writes.submit_together(admit_all, Arrival(record(n))) for n in (1, 2, 1)]
        writes.post(done.append, "mark")  # not an admit: ends the group, runs after it
        last = writes.submit_together(admit_all, Arrival(record(3)))
        release.set()
        assert [f.result(10).kind for f in firsts] == ["new", "new", "known"]
        assert last.result(10).kind == "new" and done == ["mark"]
        assert calls == [3, 1]
        failing = [writes.submit_together(admit_all, Arrival(record(n, site=None))) for n in (4, 5)]
        for future in failing:  # a failed batch fails each of its pages
            with pytest.raises(sqlite3.IntegrityError):
                future.result(10)
    finally:
        writes.stop()
    store.close()


def test_frontier_marks_posted_after_an_article_commit_with_it_and_lookups_never_wait(tmp_path, caplog):
    store = Store(tmp_path / "t.db")
    frontier = Frontier(store, "a")
    frontier.add([{"url": record(1)["url"]}])  # found on a list page, committed
    writes = StoreThread(store, max_writes=1000, max_seconds=3600)
    url = canonical_url(record(1)["url"])
    try:
        def store_article():  # what the pipeline hands the writes thread
            outcome = admit(store, record(1), b"<html>1")
            writes.stored(outcome.record["canonical_url"])
            return outcome

        assert writes.submit(store_article).result(10).kind == "new"
        writes.post(frontier.done, record(1)["url"])  # as the crawl does once the item is stored
        writes.post(frontier.add, [{}])  # a failing mark (an entry without its URL) is logged, the thread goes on
        writes.submit(int).result(10)  # everything posted before has run
        assert (count(store.path, "articles"), count(store.path, "frontier")) == (0, 1)  # neither committed
        holding, release = threading.Event(), threading.Event()

        def hold_the_connection():  # the writes thread busy, e.g. indexing a batch at its commit
            with store.db.conn.lock:
                holding.set()
                release.wait(10)

        held = writes.submit(hold_the_connection)
        assert holding.wait(10)
        started = time.monotonic()
        assert writes.is_known(url)  # stored by the open batch: seen, without waiting for the writer
        assert not writes.is_known(canonical_url(record(2)["url"]))
        assert time.monotonic() - started < 1
        release.set()
        held.result(10)
        writes.flush().result(10)
        assert (count(store.path, "articles"), count(store.path, "frontier")) == (1, 0)  # together
        assert writes.is_known(url)  # now from the committed rows
    finally:
        release.set()
        writes.stop()
        store.close()
    assert "cannot write to" in caplog.text


WRITER = textwrap.dedent("""
    import sys, time
    from crawler.chain.process import Arrival, admit, admit_many
    from crawler.storage.store import Store
    sys.path.insert(0, {tests!r})
    from test_batched_writes import record
    store = Store(sys.argv[1])
    store.batch_writes(max_writes=1000, max_seconds=3600)
    for n in range(5):
        admit(store, record(n), b"<html>" * 1000)
    store.commit()
    for n in range(5, 400):
        admit(store, record(n), b"<html>" * 1000)
    print("batch open", flush=True)
    time.sleep(60)
""")


def test_kill_9_during_a_batch_loses_the_batch_never_half_an_article(tmp_path):
    db = tmp_path / "killed.db"
    writer = subprocess.Popen([sys.executable, "-c", WRITER.format(tests=str(ROOT / "tests")), str(db)],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "batch open"
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(10)
    with connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 5
        assert conn.execute("SELECT COUNT(*) FROM raw_pages").fetchone()[0] == 5
        orphans = conn.execute("SELECT COUNT(*) FROM articles a LEFT JOIN raw_pages r ON r.article_id = a.id "
                               "WHERE r.article_id IS NULL").fetchone()[0]
        assert orphans == 0


def test_a_crawl_killed_with_an_open_batch_loses_nothing_once_resumed(tmp_path):
    with Newsroom(articles=30) as site:
        reference = tmp_path / "reference.db"
        assert crawl(site, reference).returncode == 0
        db = tmp_path / "news.db"
        mark = len(site.requests())
        site.hold_articles(after=10)
        crawler = start_crawl(site, db)
        deadline = time.monotonic() + 60
        while sum(e["path"].startswith("/news/n") for e in site.requests(mark)) < 10:
            assert time.monotonic() < deadline, "the crawl never fetched 10 articles"
            time.sleep(0.05)
        time.sleep(0.5)  # stored in the open batch (committed every 2 s or 500 writes), not yet committed
        crawler.send_signal(signal.SIGKILL)
        crawler.communicate(timeout=60)
        site.release()
        site.article_delay = 0
        assert crawl(site, db).returncode == 0
    assert stored_articles(db) == stored_articles(reference)
    assert rows(db, "SELECT COUNT(*) FROM raw_pages") == [(30,)]
    assert rows(db, "SELECT COUNT(*) FROM frontier") == [(0,)]
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]


def test_the_demo_crawl_stores_every_article_with_its_page_and_closes_its_runs(demo_db):
    with connect(demo_db) as db:
        assert db.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == \
            db.execute("SELECT COUNT(*) FROM raw_pages").fetchone()[0]
        assert db.execute("SELECT COUNT(*) FROM crawl_runs WHERE status = 'running'").fetchone()[0] == 0
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_page_that_fails_after_replacing_an_article_leaves_the_batch_searchable(store):
    """A replacement indexes the batch's earlier articles inside the failing page's savepoint;
    rolled back with it, they must still be indexed when the batch commits."""
    first = admit(store, record(1), b"<html>1").article_id
    older_copy = record(1, url="http://b.test/1.html", published="2020-01-01")
    with pytest.raises(sqlite3.IntegrityError):
        with store.transaction():  # one page: an older copy takes article 1's place, then a bad record
            admit_many(store, [Arrival(older_copy), Arrival(record(2, body="泰州市召开经济运行分析会议。", site=None))])
    store.commit()
    assert searched(store.path, "第1次项目") == [first]
    store.update_article(first, {"body": "海陵区举行项目观摩活动，推进项目建设。补充说明一句。"})  # re-extraction
    store.commit()
    store.db.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)")
    assert searched(store.path, "补充说明") == [first]
