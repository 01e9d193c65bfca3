"""Distributed mode end to end: a real redis-server on loopback, `crawler worker` processes and
one `crawler writer` crawl the demo sites; the store they fill must equal a single-process
`crawler demo` crawl, also when a worker and the writer are killed mid-run and restarted.

Which copy of a republished article is the stored original depends on which page arrived
first, in one process as in many, so articles are compared as clusters: the (site, url) of
every copy, with the full content of articles that have no copy and the body of those that do.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
import redis

from conftest import ROOT, connect, copy_database, run_crawler
from crawler.demo.server import DemoHandler, DemoServer
from crawler.demo.sites import SITES
from scrapy import Request

from crawler.distributed.cluster import FRONTIER_KEY, RECORDS_KEY, WORKERS_GROUP, FrontierQueue, Writer, record_message
from crawler.distributed.localredis import LocalRedis, RedisUnavailable
from crawler.distributed.politeness import FULL, Limits, SiteBudgets
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


@pytest.fixture(scope="module")
def two_workers_crawl(redis_url, demo_proxy, tmp_path_factory):
    """Two workers and a writer crawl the demo sites into an empty store: the store, and the
    frontier keys left in Redis once they are done."""
    server = redis.Redis.from_url(redis_url)
    server.flushall()
    db = tmp_path_factory.mktemp("distributed") / "distributed.db"
    writer = start_writer(redis_url, db)
    workers = [start_worker(f"w{n}", redis_url, demo_proxy, db) for n in (1, 2)]
    finish(server, writer, workers)
    return db, sorted(key.decode() for key in server.keys("crawler:*:*") if server.type(key) != b"hash")


def test_distributed_two_workers_and_a_writer_store_what_the_demo_crawl_stores(two_workers_crawl, demo_db):
    db, left_in_redis = two_workers_crawl
    expected = stored(demo_db)
    assert len(expected) >= 50 and any(len(copies) > 1 for copies in expected)
    assert stored(db) == expected
    # every frontier drained (the stream stays, empty, with its consumer group), round closed
    assert left_in_redis == sorted(f"crawler:{site}:frontier" for site in SITES)


def _runs(db) -> dict:
    with connect(db) as conn:
        return {row["site"]: dict(row) for row in conn.execute("SELECT * FROM crawl_runs")}


def test_distributed_rounds_are_recorded_and_reported_like_local_runs(two_workers_crawl, demo_db):
    db, _ = two_workers_crawl
    runs = _runs(db)
    # the demo crawl also crawls the scripted sites where Chromium is installed; the workers do not
    local = {site: run for site, run in _runs(demo_db).items() if site in SITES}
    assert runs.keys() == local.keys() == SITES.keys()  # one run per site
    for site, run in runs.items():
        for column in ("status", "finish_reason", "list_pages", "article_links", "http_errors", "empty_bodies",
                       "errors", "retries", "fallbacks", "skipped_known"):
            assert run[column] == local[site][column], (site, column)
        # which copy of a republished article is the original depends on the order pages come in
        assert run["articles_new"] + run["duplicates"] == local[site]["articles_new"] + local[site]["duplicates"]
        # each worker reads the site's robots.txt once
        assert local[site]["pages_fetched"] <= run["pages_fetched"] <= local[site]["pages_fetched"] + 1
        assert run["finished_at"] and run["duration_s"] > 0
    assert sum(run["articles_new"] for run in runs.values()) == sum(run["articles_new"] for run in local.values())
    with connect(db) as conn:  # each article belongs to its site's run, as in a local crawl
        assert conn.execute("SELECT COUNT(*) FROM articles a JOIN crawl_runs r ON r.id = a.run_id "
                            "AND r.site = a.site").fetchone()[0] == conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    report = run_crawler("report", "--db", str(db), "--json")
    assert report.returncode == 0, report.stderr
    assert [site["site"] for site in json.loads(report.stdout)["sites"]] == sorted(SITES)


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
    messages = [json.loads(fields[b"counts"]) for _id, fields in server.xrange(RECORDS_KEY)]  # no record
    assert {m["site"] for m in messages if m["stats"].get("errors/http") and m["over"]} == set(SITES)  # for the runs
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


def test_distributed_counts_delivered_again_are_added_once(server, tmp_path):
    """A writer killed after its commit and before its acknowledgement: the next one gets the
    same counts messages again, and the same round's later ones."""
    store = Store(tmp_path / "counts.db")
    first = Writer(store, server)
    counts = {"site": "laowu", "round": "r1", "stats": {"response_received_count": 3, "list_pages/parsed": 1,
                                                        "list_pages/article_links": 2}, "over": ""}
    server.xadd(RECORDS_KEY, {"counts": json.dumps(counts)})
    first.commit(server.xreadgroup("writer", "writer-before-kill", {RECORDS_KEY: ">"})[0][1])  # then killed
    server.xadd(RECORDS_KEY, {"counts": json.dumps({**counts, "stats": {"response_received_count": 2},
                                                     "over": "finished"})})

    Writer(Store(tmp_path / "counts.db"), server).run(idle_exit=0.5)

    run = _runs(tmp_path / "counts.db")["laowu"]
    assert (run["pages_fetched"], run["list_pages"], run["article_links"], run["status"], run["invocation"]) == \
        (5, 1, 2, "ok", "r1")


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
    db = copy_database(demo_db, tmp_path / "known.db")
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
    with connect(db) as conn:  # the round has its runs, which know what they skipped
        rounds = conn.execute("SELECT SUM(skipped_known), SUM(articles_new), SUM(empty_bodies), COUNT(*) "
                              "FROM crawl_runs WHERE id > (SELECT MAX(id) FROM crawl_runs WHERE log_file IS NOT NULL)")
        assert tuple(rounds.fetchone()) == (skipped, 0, 1, len(SITES))


# --- one politeness budget per site, for all workers together ------------------------------------
class CountingHandler(DemoHandler):
    """The demo sites, answered after `latency` seconds, counting the requests in flight per host;
    the first request for `server.refuse_path` is answered 429 with Retry-After."""

    def do_GET(self):
        stats, host = self.server, urlsplit(self.path).hostname or ""
        with stats.lock:
            stats.in_flight[host] = stats.in_flight.get(host, 0) + 1
            stats.peak[host] = max(stats.peak.get(host, 0), stats.in_flight[host])
            stats.starts.append((time.monotonic(), host, urlsplit(self.path).path))
            refuse = urlsplit(self.path).path == stats.refuse_path and not stats.refused
            stats.refused = stats.refused or refuse
        try:
            time.sleep(stats.latency)
            if refuse:
                stats.refused_at = time.monotonic()
                self.send_response(429)
                self.send_header("Retry-After", str(stats.retry_after))
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                super().do_GET()
        finally:
            with stats.lock:
                stats.in_flight[host] -= 1


class CountingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, latency: float, refuse_path: str = "", retry_after: int = 0):
        super().__init__(("127.0.0.1", 0), CountingHandler)
        self.latency, self.refuse_path, self.retry_after = latency, refuse_path, retry_after
        self.lock = threading.Lock()
        self.in_flight, self.peak, self.starts = {}, {}, []
        self.refused, self.refused_at = False, 0.0

    def __enter__(self):
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def _crawl_laowu(workers: int, redis_url, proxy, tmp_path, **settings) -> None:
    procs = [_crawler("worker", "laowu", "--redis", redis_url, "--name", f"w{n}", "--idle-exit", "1",
                      *(f"-s{key}={value}" for key, value in {"PROXY_URL": proxy, **settings}.items()))
             for n in range(workers)]
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_distributed_workers_together_keep_to_one_sites_concurrency(server, redis_url, tmp_path, workers):
    limit = 2
    with CountingServer(latency=0.2) as site:
        _crawl_laowu(workers, redis_url, site.url, tmp_path, CONCURRENT_REQUESTS_PER_DOMAIN=limit,
                     DOWNLOAD_DELAY=0, AUTOTHROTTLE_ENABLED="False")
    host = SITES["laowu"].host
    assert len([s for s in site.starts if s[1] == host]) > 10  # the whole site was crawled
    assert site.peak[host] == limit  # never more, and the budget is used


def test_distributed_a_sites_retry_after_pauses_every_worker(server, redis_url, tmp_path):
    laowu = SITES["laowu"]
    refused = laowu.url_of(laowu.articles[0])
    with CountingServer(latency=0.1, refuse_path=refused, retry_after=2) as site:  # 10 pages/s at most:
        _crawl_laowu(2, redis_url, site.url, tmp_path, CONCURRENT_REQUESTS_PER_DOMAIN=2,  # a second's work left
                     DOWNLOAD_DELAY=0.1, AUTOTHROTTLE_ENABLED="False")
    assert site.refused
    after = [start - site.refused_at for start, host, _path in site.starts if host == laowu.host and start > site.refused_at]
    assert len(after) > 5  # articles were still queued when the site said to wait
    # no worker asked before the time was up (but a request granted while the 429 was on its way)
    assert not [wait for wait in after if 0.5 < wait < 1.9]
    assert any(path == refused for start, _host, path in site.starts if start > site.refused_at)  # retried


def _budgets(server, **limits) -> SiteBudgets:
    defaults = {"concurrency": 1, "delay": 0.0, "autothrottle": False, "start_delay": 1.0, "max_delay": 30.0,
                "target_concurrency": 2.0, "lease": 30.0, "backoff_cap": 60.0}
    return SiteBudgets(server, Limits(**{**defaults, **limits}))


def test_distributed_a_dead_workers_leases_lapse(server):
    budgets = _budgets(server, lease=0.3)
    assert budgets.acquire("a.test", "dead:1") == 0  # then the worker dies, never releasing it
    assert budgets.acquire("a.test", "live:1") == FULL
    assert budgets.acquire("b.test", "live:2") == 0  # another site has its own budget
    time.sleep(0.35)
    assert budgets.acquire("a.test", "live:1") == 0


def test_distributed_autothrottle_delay_is_learnt_from_every_workers_responses(server):
    one, other = _budgets(server, concurrency=4, autothrottle=True, start_delay=0.1), \
        _budgets(server, concurrency=4, autothrottle=True, start_delay=0.1)
    assert one.acquire("slow.test", "w1:1") == 0
    one.release("slow.test", "w1:1", latency=4.0, status=200)  # a slow answer: delay -> 4 / 2 = 2 s
    time.sleep(0.15)  # the start delay
    assert other.acquire("slow.test", "w2:1") == 0  # the new delay counts from this start
    assert 1.5 < other.acquire("slow.test", "w2:2") <= 2.0
