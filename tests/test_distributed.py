"""Distributed mode end to end: a real redis-server on loopback, `crawler worker` processes and
one `crawler writer` crawl the demo sites; the store they fill must equal a single-process
`crawler demo` crawl, also when a worker and the writer are killed mid-run and restarted.

Which copy of a republished article is the stored original depends on which page arrived
first, in one process as in many, so articles are compared as clusters: the (site, url) of
every copy, with the full content of articles that have no copy and the body of those that do.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
import redis

from conftest import ROOT, connect
from crawler.demo.server import DemoServer
from crawler.demo.sites import SITES
from scrapy import Request

from crawler.distributed.cluster import FRONTIER_KEY, RECORDS_KEY, WORKERS_GROUP, FrontierQueue, Writer, record_message
from crawler.distributed.localredis import LocalRedis, RedisUnavailable
from crawler.chain.process import admit
from crawler.storage.store import Store

FAST = {"AUTOTHROTTLE_ENABLED": "False", "DOWNLOAD_DELAY": "0", "CONCURRENT_REQUESTS_PER_DOMAIN": "8"}


@pytest.fixture(scope="module")
def redis_url():
    try:
        with LocalRedis() as url:
            yield url
    except RedisUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))


@pytest.fixture
def server(redis_url):
    client = redis.Redis.from_url(redis_url)
    client.flushall()
    return client


@pytest.fixture(scope="module")
def demo_proxy():
    with DemoServer() as demo:
        yield demo.url


def _crawler(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "crawler.cli", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def start_worker(name, redis_url, proxy, db, **settings) -> subprocess.Popen:
    options = [f"-s{key}={value}" for key, value in {**FAST, "PROXY_URL": proxy, **settings}.items()]
    return _crawler("worker", *sorted(SITES), "--redis", redis_url, "--name", name, "--db", str(db),
                    "--idle-exit", "2", *options)


def start_writer(redis_url, db) -> subprocess.Popen:
    return _crawler("writer", "--redis", redis_url, "--db", str(db))


def finish(server, writer, workers) -> None:
    """Wait for the workers to leave, then for the writer to drain the stream; stop it."""
    for worker in workers:
        out, err = worker.communicate(timeout=180)
        assert worker.returncode == 0, err
    deadline = time.monotonic() + 60
    while server.xlen(RECORDS_KEY) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.xlen(RECORDS_KEY) == 0, "the writer did not drain the records stream"
    writer.send_signal(signal.SIGTERM)
    out, err = writer.communicate(timeout=30)
    assert writer.returncode == 0, err


def stored(db) -> dict:
    """Each stored article of the demo sites the workers crawl (the demo crawl also stores the
    scripted sites' where Chromium is installed) as {copies: content}, copies being the (site,
    url) of the article and of its duplicates; content is the whole record for a lone article,
    the body for a cluster."""
    with connect(db) as conn:
        result = {}
        for row in conn.execute(f"SELECT * FROM articles WHERE site IN ({', '.join('?' * len(SITES))})", list(SITES)):
            copies = {(row["site"], row["url"])} | {
                (d["site"], d["url"]) for d in conn.execute("SELECT * FROM duplicates WHERE duplicate_of = ?", [row["id"]])}
            lone = len(copies) == 1
            content = tuple(row[c] for c in ("title", "published", "source", "author", "summary", "body", "script")) \
                if lone else row["body"]
            result[frozenset(copies)] = content
        return result


def test_distributed_two_workers_and_a_writer_store_what_the_demo_crawl_stores(
        server, redis_url, demo_proxy, demo_db, tmp_path):
    db = tmp_path / "distributed.db"
    writer = start_writer(redis_url, db)
    workers = [start_worker(f"w{n}", redis_url, demo_proxy, db) for n in (1, 2)]
    finish(server, writer, workers)

    expected = stored(demo_db)
    assert len(expected) >= 50 and any(len(copies) > 1 for copies in expected)
    assert stored(db) == expected
    for site in SITES:  # every frontier drained and its round closed
        assert server.xlen(f"crawler:{site}:frontier") == 0
        assert not server.exists(f"crawler:{site}:seen")


def _pending(server, consumer: str) -> int:
    """Frontier entries the worker holds (taken, not finished)."""
    held = 0
    for site in SITES:
        key = f"crawler:{site}:frontier"
        if server.exists(key):
            held += sum(c["pending"] for c in server.xinfo_consumers(key, WORKERS_GROUP)
                        if c["name"] in (consumer, consumer.encode()))
    return held


def test_distributed_killing_a_worker_and_the_writer_mid_run_loses_nothing(
        server, redis_url, demo_proxy, demo_db, tmp_path):
    db = tmp_path / "killed.db"
    slow = {"DOWNLOAD_DELAY": "0.3", "CONCURRENT_REQUESTS_PER_DOMAIN": "1"}  # long enough to kill mid-run
    writer = start_writer(redis_url, db)
    workers = {"w1": start_worker("w1", redis_url, demo_proxy, db, **slow)}
    _wait_until(lambda: _pending(server, "w1"), [writer, *workers.values()])
    workers["w2"] = start_worker("w2", redis_url, demo_proxy, db, **slow)
    _wait_until(lambda: _pending(server, "w1") and _count(db) >= 5, [writer, *workers.values()])
    held = _pending(server, "w1")
    workers["w1"].kill()
    writer.kill()
    workers["w1"].communicate()
    writer.communicate()
    assert held > 0 and _count(db) < len(stored(demo_db)), "killed too late to test anything"

    writer = start_writer(redis_url, db)
    workers["w1"] = start_worker("w1", redis_url, demo_proxy, db, **slow)
    finish(server, writer, workers.values())
    assert stored(db) == stored(demo_db)


def _wait_until(condition, processes, timeout: float = 180) -> None:
    """Poll until `condition()` holds; fail at once if one of the processes died."""
    deadline = time.monotonic() + timeout  # Python processes start slowly on a busy machine
    while not condition():
        for process in processes:
            assert process.poll() is None, process.communicate()[1][-2000:]
        assert time.monotonic() < deadline, "the crawl never got going"
        time.sleep(0.05)


def _count(db) -> int:
    try:
        with connect(db) as conn:
            return conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    except Exception:  # the writer has not created the schema yet
        return 0


def test_distributed_failed_requests_are_retired_not_retried_forever(server, redis_url, tmp_path):
    """Every request fails (the proxy is not there): each is retired after Scrapy's own retries,
    so the frontier empties and the worker leaves."""
    dead_proxy = f"http://127.0.0.1:{_closed_port()}"
    worker = start_worker("w1", redis_url, dead_proxy, tmp_path / "none.db", RETRY_TIMES="0")
    out, err = worker.communicate(timeout=120)
    assert worker.returncode == 0, err
    for site in SITES:
        assert server.xlen(f"crawler:{site}:frontier") == 0
    assert server.xlen(RECORDS_KEY) == 0
    assert "errors" in out.splitlines()[0]


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_distributed_redelivered_records_are_stored_once(server, tmp_path):
    """A writer killed after its commit and before its XACK gets the same records again, and a
    worker killed after publishing and before retiring its page publishes them twice."""
    record = {
        "url": "http://www.example.test/a/1.html", "site": "laowu", "title": "标题", "published": "2024-07-24",
        "source": None, "author": None, "summary": None, "body": "第一段正文内容。\n第二段正文内容。",
        "script": "hans", "extractor": "site:laowu", "fetched_at": "2026-01-01T00:00:00+00:00",
    }
    copy = {**record, "url": "http://www.other.test/b/2.html", "site": "czgx"}
    store = Store(tmp_path / "once.db")
    admit(store, record, b"<html>1</html>", "text/html")  # committed before the kill
    for message in (record, record, copy, copy):
        server.xadd(RECORDS_KEY, record_message(message, b"<html>page</html>", "text/html"))

    counts = Writer(store, server).run(idle_exit=0.5)

    assert counts == {"new": 0, "duplicate": 1, "known": 3, "empty": 0}
    assert store.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 1
    assert store.db.execute("SELECT url FROM duplicates").fetchall() == [(copy["url"],)]
    assert server.xlen(RECORDS_KEY) == 0


def test_distributed_writer_takes_back_records_a_killed_writer_held(server, tmp_path):
    record = {"url": "http://www.example.test/a/9.html", "site": "laowu", "title": "标题",
              "body": "一段足够长的正文内容。", "script": "hans", "fetched_at": "2026-01-01T00:00:00+00:00"}
    store = Store(tmp_path / "reclaim.db")
    Writer(store, server)  # creates the consumer group
    server.xadd(RECORDS_KEY, record_message(record, b"<p>x</p>", None))
    server.xreadgroup("writer", "writer-before-kill", {RECORDS_KEY: ">"})  # read, never acknowledged

    counts = Writer(store, server).run(idle_exit=0.5)

    assert counts["new"] == 1
    assert not server.xpending(RECORDS_KEY, "writer")["pending"]


def _frontier_of(server, redis_url, worker: str, reclaim_after: float) -> FrontierQueue:
    from scrapy import Spider
    from scrapy.utils.test import get_crawler
    from scrapy_redis import picklecompat

    crawler = get_crawler(Spider, {"REDIS_URL": redis_url, "DISTRIBUTED_WORKER_NAME": worker,
                                   "DISTRIBUTED_RECLAIM_AFTER": reclaim_after})
    spider = Spider.from_crawler(crawler, name="laowu")
    return FrontierQueue(server, spider, FRONTIER_KEY, picklecompat, seen_key="crawler:laowu:seen")


def test_distributed_held_requests_come_back_to_a_restarted_worker_or_to_another(server, redis_url):
    first = _frontier_of(server, redis_url, "w1", reclaim_after=3600)
    assert first.push(Request("http://www.szlaowu.test/news/"), fingerprint="list-1")
    assert first.push(Request("http://www.szlaowu.test/news/show-1.html"), fingerprint="article-1")
    assert not first.push(Request("http://www.szlaowu.test/news/"), fingerprint="list-1")  # seen this round
    held = [first.pop().url, first.pop().url]  # w1 takes both, then is killed

    other = _frontier_of(server, redis_url, "w2", reclaim_after=3600)
    assert other.pop() is None  # held by w1, not for the taking yet
    restarted = _frontier_of(server, redis_url, "w1", reclaim_after=3600)
    assert [restarted.pop().url, restarted.pop().url] == held  # w1 again: its own entries first
    assert restarted.pop() is None

    impatient = _frontier_of(server, redis_url, "w2", reclaim_after=0)
    assert impatient.pop().url == held[0]  # w1 is gone for good: XAUTOCLAIM
    assert len(impatient) == 2  # both still queued or in flight: nothing retired


def test_distributed_workers_skip_articles_the_store_already_has(server, redis_url, demo_proxy, demo_db, tmp_path):
    db = tmp_path / "known.db"
    shutil.copy(demo_db, db)
    before = stored(db)
    writer = start_writer(redis_url, db)
    worker = start_worker("w1", redis_url, demo_proxy, db)
    out, err = worker.communicate(timeout=180)
    assert worker.returncode == 0, err
    finish(server, writer, [])

    sites = [line.split() for line in out.splitlines()[1:]]
    skipped, published = sum(int(s[3]) for s in sites), sum(int(s[2]) for s in sites)
    assert skipped == sum(len(copies) for copies in before)  # every stored article and copy
    assert published == 1  # investchn's empty page, never stored, so never known
    assert stored(db) == before
