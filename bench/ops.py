"""What incremental and resumed crawls cost: requests and seconds per run on the local test
news site (tests/newsroom.py) with 200 articles over 40 list pages.

    .venv/bin/python bench/ops.py        # prints the figures, writes bench/results/ops.json

Runs the real `crawler crawl` command: a first run, an unchanged rerun (with and without
ETag/Last-Modified), a run after 5 new articles, and a run killed with SIGKILL half way then
resumed, compared with the uninterrupted first run.
"""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from newsroom import Newsroom  # noqa: E402 - the test site lives with the tests

ARTICLES = 200
RESULTS = ROOT / "bench" / "results" / "ops.json"


def command(site: Newsroom, db: Path) -> tuple[list[str], dict]:
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "newsroom_settings", "NEWSROOM_PROXY": site.url,
           "PYTHONPATH": str(ROOT / "tests")}
    return [sys.executable, "-m", "crawler.cli", "crawl", "newsroom", "--db", str(db)], env


def measured_run(site: Newsroom, db: Path) -> dict:
    """One crawl: the requests the site answered and the seconds it took (process start included)."""
    mark = len(site.requests())
    cmd, env = command(site, db)
    started = time.monotonic()
    subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, check=True, timeout=600)
    seconds = time.monotonic() - started
    log = site.requests(mark)
    return {"seconds": round(seconds, 2), "requests": len(log),
            "article_requests": sum(e["path"].startswith("/news/n") for e in log),
            "list_requests": sum(not e["path"].startswith("/news/n") and e["path"] != "/robots.txt" for e in log),
            "not_modified": sum(e["status"] == 304 for e in log)}


def articles(db: Path) -> set:
    conn = sqlite3.connect(db)
    try:
        return set(conn.execute("SELECT url, title, published, body, content_hash FROM articles"))
    finally:
        conn.close()


def killed_and_resumed(db: Path) -> dict:
    with Newsroom(articles=ARTICLES, article_delay=0.02) as site:
        cmd, env = command(site, db)
        process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while len(articles(db)) < ARTICLES // 2 if db.exists() else True:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
        at_kill = len(articles(db))
        before = site.requests()
        site.article_delay = 0
        resumed = measured_run(site, db)
        fetched = [e["path"] for e in site.requests() if e["path"].startswith("/news/n")]
    return {"stored_at_kill": at_kill, "requests_before_kill": len(before), "resumed_run": resumed,
            "article_fetches_in_total": len(fetched), "articles_fetched_twice": len(fetched) - len(set(fetched))}


def main() -> None:
    results: dict = {"articles": ARTICLES, "list_pages": -(-ARTICLES // 5)}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        with Newsroom(articles=ARTICLES) as site:
            results["first_run"] = measured_run(site, tmp / "a.db")
            results["unchanged_rerun"] = measured_run(site, tmp / "a.db")
            site.publish(5)
            results["after_5_new_articles"] = measured_run(site, tmp / "a.db")
        uninterrupted = articles(tmp / "a.db")
        with Newsroom(articles=ARTICLES, validators=()) as site:
            measured_run(site, tmp / "b.db")
            results["unchanged_rerun_without_validators"] = measured_run(site, tmp / "b.db")
        results["killed_half_way_then_resumed"] = killed_and_resumed(tmp / "c.db")
        with Newsroom(articles=ARTICLES) as site:  # the same 200 articles, uninterrupted
            measured_run(site, tmp / "d.db")
        results["killed_half_way_then_resumed"]["same_rows_as_uninterrupted"] = (
            articles(tmp / "c.db") == articles(tmp / "d.db"))
        assert len(uninterrupted) == ARTICLES + 5
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n", "utf-8")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
