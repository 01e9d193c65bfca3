"""Scheduled, incremental, resumable crawls: real `crawler crawl` runs against the test news site
(tests/newsroom.py), whose articles and layout the tests change between runs, and whose request
log shows what each run fetched."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, connect, run_crawler
from newsroom import Newsroom, article_path

TESTS = Path(__file__).resolve().parent
ARTICLE_COLUMNS = ("url", "canonical_url", "site", "title", "published", "source", "author", "summary", "body",
                   "script", "content_hash", "extractor")


def _command(site: Newsroom, db: Path, *args: str) -> tuple[list[str], dict]:
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "newsroom_settings", "NEWSROOM_PROXY": site.url,
           "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    return [sys.executable, "-m", "crawler.cli", "crawl", "newsroom", "--db", str(db), *args], env


def crawl(site: Newsroom, db: Path, *args: str) -> subprocess.CompletedProcess:
    command, env = _command(site, db, *args)
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def start_crawl(site: Newsroom, db: Path, *args: str) -> subprocess.Popen:
    command, env = _command(site, db, *args)
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def rows(db: Path, query: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(query).fetchall()
    finally:
        conn.close()


def stored_articles(db: Path) -> set[tuple]:
    return set(rows(db, f"SELECT {', '.join(ARTICLE_COLUMNS)} FROM articles"))


def article_requests(log: list[dict]) -> list[str]:
    return [entry["path"] for entry in log if entry["path"].startswith("/news/n")]


def list_requests(log: list[dict]) -> list[tuple[str, int]]:
    return [(entry["path"], entry["status"]) for entry in log
            if entry["path"] == "/news/" or entry["path"].startswith("/news/list_")]


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def table_rows(output: str) -> list[dict]:
    """The rows of a table that `crawler crawl` or `crawler report` printed, by header."""
    lines = [line.split() for line in output.splitlines()]
    header = next(i for i, line in enumerate(lines) if line[:1] == ["site"])
    width = len(lines[header])
    return [dict(zip(lines[header], line)) for line in lines[header + 1:] if len(line) >= width - 1]


def count_articles(db: Path) -> int:
    try:
        return rows(db, "SELECT COUNT(*) FROM articles")[0][0]
    except sqlite3.Error:  # not created yet
        return 0


# --- incremental -----------------------------------------------------------------------------------
@pytest.mark.parametrize("validators", [("etag",), ("last-modified",), ()], ids=["etag", "last-modified", "none"])
def test_second_run_requests_no_known_article_and_adds_no_rows(tmp_path, validators):
    db = tmp_path / "news.db"
    with Newsroom(articles=12, validators=validators) as site:
        first = crawl(site, db)
        assert first.returncode == 0, first.stderr
        assert sorted(article_requests(site.requests())) == sorted(article_path(n) for n in range(1, 13))
        stored = stored_articles(db)
        assert len(stored) == 12
        mark = len(site.requests())
        second = crawl(site, db)
        assert second.returncode == 0, second.stderr
        again = site.requests(mark)
    assert article_requests(again) == []
    assert stored_articles(db) == stored
    assert rows(db, "SELECT COUNT(*) FROM duplicates") == [(0,)]
    run = connect(db).execute("SELECT * FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone()
    assert run["articles_new"] == 0 and run["status"] == "ok"
    if validators:  # list page 1 is unchanged: the server says so, and paging ends there
        assert list_requests(again) == [("/news/", 304)]
        assert again[1]["if_none_match" if "etag" in validators else "if_modified_since"]
        assert run["list_pages_not_modified"] == 1 and run["skipped_known"] == 0
        # A 304 is a healthy rerun, not a list page without links: no warning, counted apart.
        assert "no article links" not in second.stderr and run["empty_lists"] == 0
        assert table_rows(second.stdout)[0]["not_modified"] == "1"
        assert table_rows(report(db).stdout)[0]["not_modified"] == "1"
    else:  # list page 1 holds only known articles: paging ends there
        assert list_requests(again) == [("/news/", 200)]
        assert run["skipped_known"] == 5 and run["article_links"] == 5


def test_new_articles_are_found_and_only_they_are_fetched(tmp_path):
    db = tmp_path / "news.db"
    with Newsroom(articles=12) as site:
        assert crawl(site, db).returncode == 0
        before = stored_articles(db)
        added = site.publish(3)
        mark = len(site.requests())
        result = crawl(site, db)
        assert result.returncode == 0, result.stderr
        log = site.requests(mark)
    assert sorted(article_requests(log)) == sorted(added)
    # Page 1 now shows 3 new and 2 known articles, page 2 only known ones: paging stops there.
    assert list_requests(log) == [("/news/", 200), ("/news/list_2.html", 200)]
    after = stored_articles(db)
    assert before < after and len(after) == 15
    assert {row[0].split("newsroom.test")[1] for row in after - before} == set(added)
    run = connect(db).execute("SELECT * FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone()
    assert (run["articles_new"], run["skipped_known"], run["article_links"]) == (3, 7, 10)


def test_first_run_pages_only_as_deep_as_max_list_pages(tmp_path):
    db = tmp_path / "news.db"
    with Newsroom(articles=12) as site:
        result = crawl(site, db, "--max-list-pages", "2")
        assert result.returncode == 0, result.stderr
        log = site.requests()
    assert [path for path, _ in list_requests(log)] == ["/news/", "/news/list_2.html"]
    assert len(stored_articles(db)) == 10
    # The cut-off page keeps no validators, so the next run reads it again rather than trusting a 304.
    assert [url for (url,) in rows(db, "SELECT url FROM list_validators")] == ["http://www.newsroom.test/news/"]


def test_bad_max_list_pages_is_a_usage_error(tmp_path):
    result = run_crawler("crawl", "--all", "--max-list-pages", "lots", "--db", str(tmp_path / "x.db"))
    assert result.returncode == 2 and "not a whole number" in result.stderr
    assert "Traceback" not in result.stderr


# --- resume --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> set[tuple]:
    """The rows of an uninterrupted crawl of the 30-article site."""
    db = tmp_path_factory.mktemp("reference") / "reference.db"
    with Newsroom(articles=30) as site:
        assert crawl(site, db).returncode == 0
    return stored_articles(db)


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT], ids=["kill", "term", "int"])
def test_killed_run_then_rerun_ends_with_the_rows_of_an_uninterrupted_run(tmp_path, uninterrupted, signum):
    assert len(uninterrupted) == 30
    with Newsroom(articles=30) as site:
        db = tmp_path / "killed.db"
        site.hold_articles(after=6)  # the crawl stalls after 6 articles: the signal lands mid-crawl
        crawler = start_crawl(site, db)
        wait_for(lambda: count_articles(db) >= 6)
        crawler.send_signal(signum)
        site.release()  # SIGTERM/SIGINT: Scrapy finishes the requests in flight, then stops
        crawler.communicate(timeout=60)
        at_kill = {row[0] for row in rows(db, "SELECT url FROM articles")}
        assert 6 <= len(at_kill) < 30
        status = rows(db, "SELECT status FROM crawl_runs")[0][0]
        assert status == ("running" if signum == signal.SIGKILL else "interrupted")

        site.article_delay = 0
        mark = len(site.requests())
        rerun = crawl(site, db)  # a lock left by a killed process does not block this run
        assert rerun.returncode == 0, rerun.stderr
        fetched_again = {f"http://www.newsroom.test{path}" for path in article_requests(site.requests(mark))}

    assert stored_articles(db) == uninterrupted
    assert rows(db, "SELECT COUNT(*) FROM raw_pages") == [(30,)]
    assert rows(db, "SELECT COUNT(*) FROM duplicates") == [(0,)]
    assert not fetched_again & at_kill, "the rerun fetched articles the killed run had stored"
    assert rows(db, "SELECT COUNT(*) FROM frontier") == [(0,)]
    statuses = [s for (s,) in rows(db, "SELECT status FROM crawl_runs ORDER BY id")]
    assert statuses == ["killed" if signum == signal.SIGKILL else "interrupted", "ok"]


def test_unfinished_requests_of_a_killed_run_are_resumed_even_when_paging_would_stop(tmp_path):
    """The killed run followed the list pages but stored none of page 3's articles; the rerun
    finds page 1 all known and stops paging, yet fetches page 3's articles from the frontier."""
    db = tmp_path / "news.db"
    with Newsroom(articles=12) as site:
        assert crawl(site, db, "--max-list-pages", "2").returncode == 0
        # What a run killed after reading list page 3 leaves behind: page 3's articles, unfetched.
        conn = sqlite3.connect(db)
        with conn:
            conn.executemany(
                "INSERT INTO frontier (site, url, callback, errback, meta, attempts, added_at) "
                "VALUES ('newsroom', ?, 'parse_article', 'on_error', '{\"article\": true}', 1, '')",
                [(f"http://www.newsroom.test{article_path(n)}",) for n in (1, 2)])
        conn.close()
        mark = len(site.requests())
        assert crawl(site, db).returncode == 0
        log = site.requests(mark)
    assert sorted(article_requests(log)) == [article_path(1), article_path(2)]
    assert list_requests(log) == [("/news/", 304)]
    assert len(stored_articles(db)) == 12 and rows(db, "SELECT COUNT(*) FROM frontier") == [(0,)]


# --- lock ----------------------------------------------------------------------------------------
def test_two_concurrent_runs_on_one_database_one_refuses(tmp_path):
    db = tmp_path / "news.db"
    with Newsroom(articles=20) as site:
        site.hold_articles(after=0)  # the first run stalls on its first article until the second ran
        first = start_crawl(site, db)
        wait_for(lambda: site.articles_served >= 1)
        second = crawl(site, db)
        site.release()
        out, err = first.communicate(timeout=120)
    assert second.returncode == 4
    assert "another crawl is writing" in second.stderr and f"pid {first.pid}" in second.stderr
    assert "Traceback" not in second.stderr and second.stdout == ""
    assert first.returncode == 0, err
    assert rows(db, "SELECT COUNT(*), MIN(status) FROM crawl_runs") == [(1, "ok")]
    assert len(stored_articles(db)) == 20


# --- report --------------------------------------------------------------------------------------
def report(db: Path, *args: str) -> subprocess.CompletedProcess:
    return run_crawler("report", "--db", str(db), *args)


@pytest.mark.parametrize("change, flags, status", [
    ("lists", {"no_articles"}, "no_links"),
    ("articles", {"fallbacks", "selector_misses"}, "ok"),  # the generic chain still finds the dates
], ids=["list-layout", "article-layout"])
def test_a_site_whose_layout_changed_is_flagged_by_report(tmp_path, change, flags, status):
    db = tmp_path / "news.db"
    with Newsroom(articles=12) as site:
        assert crawl(site, db).returncode == 0
        site.publish(2)
        assert crawl(site, db).returncode == 0
        assert crawl(site, db).returncode == 0  # nothing new: quiet, not broken
        healthy = report(db)
        assert healthy.returncode == 0, healthy.stdout
        assert "0 of 1 sites flagged" in healthy.stdout

        site.relayout(**{change: True})
        site.publish(3)
        changed = crawl(site, db)
    # No article link on any list page: the run itself says the site is broken (exit 1).
    assert changed.returncode == (0 if status == "ok" else 1)
    assert table_rows(changed.stdout)[0]["status"] == status
    flagged = report(db)
    assert flagged.returncode == 1
    assert f"FLAGGED newsroom: {sorted(flags)[0]}" in flagged.stdout
    as_json = json.loads(report(db, "--json").stdout)
    assert as_json["flagged"] == ["newsroom"]
    assert {flag["flag"] for flag in as_json["sites"][0]["flags"]} == flags
    assert len(as_json["sites"][0]["runs"]) == 4


def test_a_site_that_blocks_the_crawler_fails_and_is_flagged_at_once(tmp_path):
    db = tmp_path / "news.db"
    with Newsroom(articles=6) as site:
        assert crawl(site, db).returncode == 0
        site.blocked = True
        assert crawl(site, db).returncode == 1  # robots.txt and the start page refused: the run failed
        once = report(db, "--json")
        assert crawl(site, db).returncode == 1
    runs = connect(db).execute("SELECT * FROM crawl_runs ORDER BY id").fetchall()
    assert [(r["pages_fetched"], r["http_errors"], r["status"]) for r in runs[1:]] == [(2, 1, "failed")] * 2
    assert once.returncode == 1
    assert {f["flag"] for f in json.loads(once.stdout)["sites"][0]["flags"]} == {"failed", "no_articles"}
    twice = report(db, "--json")
    assert twice.returncode == 1
    assert {f["flag"] for f in json.loads(twice.stdout)["sites"][0]["flags"]} == {"failed", "no_articles",
                                                                                  "http_errors"}


def test_a_site_that_is_down_gets_one_line_per_failed_request_and_is_reported_unreachable(tmp_path):
    db = tmp_path / "news.db"
    with Newsroom(articles=6) as site:
        assert crawl(site, db).returncode == 0
    down = crawl(site, db)  # the server is gone: its port refuses connections
    assert down.returncode == 1
    assert "Traceback" not in down.stderr
    lines = down.stderr.strip().splitlines()
    # robots.txt and the list page failed, a line each, then the command's summary line
    assert len(lines) == 3, down.stderr
    assert "robots.txt of www.newsroom.test not fetched" in lines[0] and "Connection was refused" in lines[0]
    assert "fetch failed: http://www.newsroom.test/news/" in lines[1]
    assert lines[2] == "failed: newsroom (failed)"
    run = connect(db).execute("SELECT * FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone()
    assert (run["status"], run["unreachable"], run["list_pages"]) == ("failed", 1, 0)
    flagged = json.loads(report(db, "--json").stdout)["sites"][0]["flags"]
    assert {flag["flag"] for flag in flagged} == {"failed", "unreachable"}  # not "layout changed"
    assert "the site is down" in next(f["message"] for f in flagged if f["flag"] == "unreachable")


def test_report_of_a_missing_database_is_one_line(tmp_path):
    result = report(tmp_path / "nothing.db")
    assert result.returncode == 3
    assert result.stderr.strip() == f"crawler report: no database at {tmp_path / 'nothing.db'}"
    assert not (tmp_path / "nothing.db").exists()


# --- progress and logs ---------------------------------------------------------------------------
def test_log_file_per_run_and_no_progress_lines_without_a_terminal(tmp_path):
    db = tmp_path / "news.db"
    with Newsroom(articles=6) as site:
        result = crawl(site, db)
    assert result.returncode == 0
    log_line = [line for line in result.stdout.splitlines() if line.startswith("log: ")]
    log_file = Path(log_line[0][5:])
    assert log_file.parent == tmp_path / "logs" and log_file.is_file()
    assert "Spider opened" in log_file.read_text("utf-8")
    assert rows(db, "SELECT log_file FROM crawl_runs") == [(str(log_file),)]
    assert "crawling" not in result.stderr and "\x1b[" not in result.stderr


def test_progress_is_shown_on_a_terminal(tmp_path):
    import pty

    db = tmp_path / "news.db"
    with Newsroom(articles=12, article_delay=0.5) as site:  # a crawl of 2 s or more: several redraws
        command, env = _command(site, db)
        leader, follower = pty.openpty()
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=follower)
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed: the crawl ended
                break
            if not chunk:
                break
            shown += chunk
        os.close(leader)
        assert process.wait(timeout=60) == 0
    text = shown.decode("utf-8", "replace")
    assert "newsroom" in text and "crawling" in text
    assert "new   12" in text.replace("\r", "")  # the final line: every article counted
