"""Page work in worker processes: the same records as in the crawl process, in order, errors in
their place, and nothing lost when a worker dies."""
from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

from conftest import run_crawler
from crawler.demo.sites import SITES
from crawler.article.items import Page
from crawler.chain.process import dedup_keys, keyed_record_of, record_of
from crawler.sites.spider import site_classes
from crawler.chain.workers import SharedPool, results_in_order
from newsroom import Newsroom
from test_incremental import count_articles, crawl, rows, start_crawl, stored_articles, wait_for


class ExplodingSite:
    """A site module whose title extractor fails on every page (importable by the workers)."""
    name = "exploding"
    fields = {}

    @staticmethod
    def extract_title(sel):
        raise ValueError("selector bug")


class DiesOnce:
    """A site module whose extraction kills its worker the first time (the flag file named by
    the page's <title> does not exist yet), as a segfault or the OOM killer would."""
    name = "dies-once"
    fields = {}

    @staticmethod
    def extract_title(sel):
        flag = Path(sel.css("title::text").get())
        if not flag.exists():
            flag.touch()
            os._exit(1)
        return "survived"


def demo_jobs():
    classes = site_classes()
    jobs = []
    for site in SITES.values():
        for article in site.articles[:4]:
            status, body = site.respond(site.url_of(article))
            assert status == 200
            url = f"http://{site.host}{site.url_of(article)}"
            jobs.append((Page(url=url, site=site.name, body=body, content_type=site.content_type,
                              fetched_at="2025-10-15T00:00:00+00:00"), classes[site.name]))
    return jobs


def test_two_workers_give_the_in_process_results_in_order_with_errors_in_place():
    jobs = demo_jobs()
    unreadable = OSError("cannot read page.html")
    jobs.insert(3, (unreadable, None))
    jobs.insert(7, (jobs[0][0], ExplodingSite))
    results = list(results_in_order(jobs, 2, keyed_record_of))
    assert len(results) == len(jobs)
    assert results[3] is unreadable
    assert isinstance(results[7], ValueError) and "selector bug" in str(results[7])
    for (page, site), result in zip(jobs, results):
        if not isinstance(page, Exception) and site is not ExplodingSite:
            record, keys = result
            assert record == record_of(page, site), page.url
            expected = dedup_keys(record)
            assert (keys.canonical_url, keys.content_hash) == (expected.canonical_url, expected.content_hash)
            assert (keys.fingerprint and keys.fingerprint.keys) == (expected.fingerprint and expected.fingerprint.keys)
    in_process = list(results_in_order(jobs, 1))
    assert in_process[3] is unreadable and isinstance(in_process[7], ValueError)
    assert in_process[0] == results[0][0]


def test_extract_command_with_jobs_prints_the_same_lines(tmp_path):
    site = SITES["huaian"]
    files = []
    for article in site.articles:
        path = tmp_path / f"{article.slug}.html"
        path.write_bytes(site.respond(site.url_of(article))[1])
        files.append(str(path))
    files.insert(2, str(tmp_path / "missing.html"))
    one = run_crawler("extract", "--site", "huaian", "--jobs", "1", *files)
    two = run_crawler("extract", "--site", "huaian", "--jobs", "2", *files)
    assert one.returncode == two.returncode == 1  # the missing file
    assert one.stdout == two.stdout
    lines = [json.loads(line) for line in two.stdout.splitlines()]
    assert [line["file"] for line in lines] == files
    assert "error" in lines[2] and all(line["body"] for i, line in enumerate(lines) if i != 2)


def test_bad_jobs_value_is_a_usage_error():
    for command in (("extract", "x.html"), ("reextract",)):
        result = run_crawler(*command, "--jobs", "-2")
        assert result.returncode == 2
        assert "--jobs" in result.stderr and "Traceback" not in result.stderr


def test_a_page_whose_worker_dies_is_tried_again_in_a_fresh_pool(tmp_path):
    flag = tmp_path / "died"
    page = Page(url="http://x.test/1.html", site="dies-once",
                body=f"<html><title>{flag}</title><body><p>正文正文正文正文正文</p></body></html>".encode())

    async def extract_one():
        pool = SharedPool()
        pool.acquire(1)
        try:
            return await pool.keyed_record(page, DiesOnce)
        finally:
            pool.release()

    record, keys = asyncio.run(extract_one())
    assert flag.exists()  # the first worker did die
    assert record["title"] == "survived" and keys.canonical_url == "http://x.test/1.html"


def test_site_classes_made_at_run_time_stay_in_the_crawl_process():
    pool = SharedPool()
    pool.acquire(1)
    try:
        assert pool.can_take(site_classes()["huaian"]) and pool.can_take(None)
        assert not pool.can_take(type("Generated", (), {"name": "generated"}))
    finally:
        pool.release()


def _descendants(pid: int) -> list[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # ended meanwhile
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        parent_pid = frontier.pop()
        children = [child for child, parent in parents.items() if parent == parent_pid]
        found += children
        frontier += children
    return found


def test_a_worker_killed_mid_crawl_loses_nothing(tmp_path):
    with Newsroom(articles=30) as site:
        reference = tmp_path / "reference.db"
        assert crawl(site, reference).returncode == 0
        db = tmp_path / "news.db"
        site.hold_articles(after=6)  # the crawl stalls after 6 articles: the kill lands mid-crawl
        crawler = start_crawl(site, db)
        wait_for(lambda: count_articles(db) >= 6)
        workers = [pid for pid in _descendants(crawler.pid)
                   if b"forkserver" in Path(f"/proc/{pid}/cmdline").read_bytes() and
                   Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1] != str(crawler.pid)]
        assert workers, "no worker processes"
        os.kill(workers[0], signal.SIGKILL)
        site.release()
        out, err = crawler.communicate(timeout=120)
        assert crawler.returncode == 0, err[-3000:]
    assert stored_articles(db) == stored_articles(reference)
    assert rows(db, "SELECT status, errors, articles_new FROM crawl_runs") == [("ok", 0, 30)]
    assert rows(db, "SELECT COUNT(*) FROM frontier") == [(0,)]
