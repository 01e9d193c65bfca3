"""Soak test (not CI): a long crawl of the hostile test site, with a reader polling the database
throughout. Good articles are mixed with every kind of fault page (the expensive ones, stalls and
30 MB pages, more rarely), attachments, robots-disallowed pages and tracking-parameter copies.

Checks: zero good articles lost (each stored with its exact title and body), zero reader errors,
zero half-written articles seen, `PRAGMA integrity_check` ok. Prints the figures and writes
them to bench/results/soak.json; exits 1 if a check fails.

    .venv/bin/python bench/soak.py                 # 20,000 pages
    .venv/bin/python bench/soak.py --pages 2000    # a quick look
"""
from __future__ import annotations

import argparse
import json
import platform
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from faultproject import make_project, run_in_project  # noqa: E402
from faultserver import FAULT_KINDS, GOOD_KINDS, FaultServer, FaultSite  # noqa: E402
from storereader import PollingReader  # noqa: E402

from crawler.article.dedup import canonical_url  # noqa: E402

# Faults that tie up a download slot for seconds or send megabytes: one in EXPENSIVE_EVERY.
EXPENSIVE = {"timeout", "trickle", "huge", "huge-stream"}
EXPENSIVE_EVERY = 25
# A 10 s timeout (production: 30 s) still cuts off the stalling pages, and leaves room for a
# loaded machine: with 3 s, CPU starvation alone timed out a good page's last retry.
SETTINGS = {
    "DOWNLOAD_TIMEOUT": 10, "RETRY_TIMES": 2, "RETRY_BACKOFF_BASE": 0.5, "RETRY_BACKOFF_MAX": 5,
    "AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "CONCURRENT_REQUESTS": 64,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 48, "DEPTH_LIMIT": 10_000, "CRAWLER_MAX_PAGES": 1_000_000,
    "REDIRECT_MAX_TIMES": 5,
}


def soak_site(pages: int, fault_share: float) -> FaultSite:
    """`pages` linked pages: good articles (every kind; mostly plain UTF-8), fault pages (every
    kind; the expensive ones rarer) and extras (attachments, robots-disallowed, tracking copies)."""
    faults_wanted = int(pages * fault_share)
    cheap = [kind for kind in FAULT_KINDS if kind not in EXPENSIVE]
    faults = []
    for n in range(faults_wanted):
        kinds = list(FAULT_KINDS) if n % EXPENSIVE_EVERY == 0 else cheap
        faults.append((kinds[(n // EXPENSIVE_EVERY if n % EXPENSIVE_EVERY == 0 else n) % len(kinds)], n))
    extras_wanted = pages // 100
    goods_wanted = pages - len(faults) - 4 * extras_wanted
    goods = [(GOOD_KINDS[n % len(GOOD_KINDS)] if n % 10 == 0 else "utf8", n) for n in range(goods_wanted)]
    extras = []
    for n in range(extras_wanted):
        kind, number = goods[n * 7 % len(goods)]
        extras += [f"/files/{n}.pdf", f"/download?id={n}", f"/private/{n}.html",
                   f"/news/{kind}/{number}.html?utm_source=soak&from=timeline"]
    return FaultSite(goods, faults, extras, per_list=100)


def lost_articles(db: Path, site: FaultSite, base: str) -> list[str]:
    conn = sqlite3.connect(db)
    stored = {row[0]: (row[1], row[2]) for row in conn.execute("SELECT canonical_url, title, body FROM articles")}
    conn.close()
    lost = []
    for record in site.good_records():
        got = stored.get(canonical_url(base + record["url_path"]))
        if got != (record["title"], record["body"]):
            lost.append(record["url_path"])
    return lost


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=20_000, help="pages linked from the site (default 20000)")
    parser.add_argument("--fault-share", type=float, default=0.3, help="share of fault pages (default 0.3)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "soak.json"))
    args = parser.parse_args(argv)

    site = soak_site(args.pages, args.fault_share)
    with tempfile.TemporaryDirectory(prefix="soak-") as scratch:
        project = make_project(Path(scratch))
        db = project / "soak.db"
        with FaultServer(site, lifetime=3600, max_requests=10 * args.pages) as server:
            reader = PollingReader(db, hold_seconds=0.05, pause_seconds=0.01)
            reader.start()
            started = time.monotonic()
            result = run_in_project(project, server, "crawl", "faultsite", "--db", str(db), "--log-level", "ERROR",
                                    settings=SETTINGS,
                                    timeout=3600)
            elapsed = time.monotonic() - started
            reader.stop()
            requests_served = server.requests
            lost = lost_articles(db, site, server.url)
        conn = sqlite3.connect(db)
        conn.row_factory = sqlite3.Row
        run = dict(conn.execute("SELECT * FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone())
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        attachments = conn.execute("SELECT COUNT(*) FROM attachments").fetchone()[0]
        conn.close()

    figures = {
        "pages_linked": sum(len(page) for page in site.lists),
        "good_articles": len(site.goods),
        "fault_pages": sum(1 for page in site.lists for href in page if href.startswith("/fault/")),
        "list_pages": len(site.lists),
        "requests_served": requests_served,
        "crawl_seconds": round(elapsed, 1),
        "requests_per_second": round(requests_served / elapsed, 1),
        "exit_code": result.returncode,
        "lost_good_articles": len(lost),
        "reader_polls": reader.polls,
        "reader_errors": len(reader.errors),
        "reader_half_written_seen": len(reader.half_written),
        "integrity_check": integrity,
        "crawler_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        "attachments_recorded": attachments,
        "run": {key: run[key] for key in (
            "status", "finish_reason", "pages_fetched", "articles_new", "duplicates", "skipped_known",
            "http_errors", "errors", "retries", "timeouts", "oversize", "truncated", "robots_forbidden",
            "attachments", "trapped")},
        "settings": SETTINGS,
        "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for key, value in figures.items():
        if key not in ("settings", "machine"):
            print(f"{key:28} {value}")
    print(f"written: {args.out}")
    failures = [name for name, bad in (
        ("lost good articles", lost), ("reader errors", reader.errors), ("half-written rows seen", reader.half_written),
        ("integrity_check", integrity != "ok"), ("crawl did not finish", run["finish_reason"] != "finished"))
        if bad]
    if failures:
        print(f"FAILED: {', '.join(failures)}; first lost: {lost[:5]}; reader: {reader.errors[:3]}", file=sys.stderr)
        print(result.stderr[-3000:], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
