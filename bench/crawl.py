"""Crawl throughput: our full pipeline against bare Scrapy, on the same loopback portal, in one run.

    .venv/bin/python bench/crawl.py [--articles 5000] [--rounds 4]

Serves a generated portal (bench/portal.py: 5,000 article pages of 5-20 KB plus list pages) on
127.0.0.1 and crawls it, each crawl in its own process, with politeness off (no AutoThrottle,
no delay, no robots.txt, 32 requests at a time):

  (a) bare Scrapy: a spider that only follows list pages and article links;
  (b) our full pipeline: the same pages through a site module, extraction + cleaning,
      canonical URL, exact and near-duplicate checks, SQLite writes (extraction in worker
      processes, writes on a writes thread in batched transactions: see docs/benchmarks.md, Throughput).

pages/s = responses received / seconds from spider open to spider close (the final commit
included). Writes bench/results/crawl.json; the last line is `ratio R` (b over a). With
--rounds N the two alternate N times and the best of each counts (the machine may be busy);
the ratio of the medians is printed and kept too.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "crawl.json"

# Politeness off for both crawls: the server is ours and local.
UNTHROTTLED = {
    "ROBOTSTXT_OBEY": False, "AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0,
    "CONCURRENT_REQUESTS": 32, "CONCURRENT_REQUESTS_PER_DOMAIN": 32, "COOKIES_ENABLED": False,
    "TELNETCONSOLE_ENABLED": False, "LOG_LEVEL": "WARNING",
    # The portal paginates 250 list pages deep: past the default trap bound (DEPTH_LIMIT 100).
    "DEPTH_LIMIT": 0,
}


def measure_bare(start_url: str) -> dict:
    from scrapy.crawler import CrawlerProcess

    from portal import BareSpider

    process = CrawlerProcess(UNTHROTTLED)
    crawler = process.create_crawler(BareSpider)
    process.crawl(crawler, start_urls=[start_url])
    process.start()
    stats = crawler.stats.get_stats()
    return {"pages": stats.get("response_received_count", 0), "seconds": stats["elapsed_time_seconds"],
            "crawl_process_cpu_s": cpu_seconds()}


def measure_full(start_url: str) -> dict:
    from crawler.crawl.runner import crawl
    from portal import PortalSpider

    PortalSpider.start_urls = [start_url]
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.db"
        (run,) = crawl([PortalSpider], db, dict(UNTHROTTLED))
        with sqlite3.connect(db) as conn:
            articles, duplicates = (conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                                    for table in ("articles", "duplicates"))
    return {"pages": run["pages_fetched"], "seconds": run["duration_s"], "articles": articles,
            "duplicates": duplicates, "errors": run["errors"], "status": run["status"],
            "crawl_process_cpu_s": cpu_seconds()}


def cpu_seconds() -> float:
    """CPU time of the crawl process, all its threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return round(usage.ru_utime + usage.ru_stime, 2)


def run_measurement(kind: str, start_url: str) -> dict:
    """One crawl in a fresh process (Twisted's reactor runs once per process)."""
    started = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--measure", kind, "--url", start_url],
                         cwd=ROOT, capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        sys.exit(f"{kind} crawl failed:\n{out.stderr[-2000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if kind == "full" and result["errors"]:
        sys.exit(f"full crawl had {result['errors']} errors:\n{out.stderr[-2000:]}")
    result["process_seconds"] = round(time.perf_counter() - started, 2)
    result["pages_per_s"] = round(result["pages"] / result["seconds"], 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=5000, help="article pages on the portal (default 5000)")
    parser.add_argument("--rounds", type=int, default=4,
                        help="alternate the two crawls N times, keep the best (default 4: this machine's speed swings)")
    parser.add_argument("--measure", choices=("bare", "full"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:  # inside the child process
        result = (measure_bare if args.measure == "bare" else measure_full)(args.url)
        print(json.dumps(result))
        return

    from portal import PortalServer, build_site

    site = build_site(args.articles)
    sizes = sorted(len(page.body) for path, page in site.items() if "/t" in path)
    print(f"portal: {len(site)} pages, {len(sizes)} articles of {sizes[0] / 1024:.1f}-{sizes[-1] / 1024:.1f} KB "
          f"(median {sizes[len(sizes) // 2] / 1024:.1f} KB), {len(os.sched_getaffinity(0))} cores, load average {os.getloadavg()[0]:.1f}")
    rounds: dict[str, list[dict]] = {"bare": [], "full": []}
    with PortalServer(site) as server:
        start_url = f"{server.url}/news/index.html"
        for _ in range(args.rounds):
            for kind in ("bare", "full"):
                result = run_measurement(kind, start_url)
                rounds[kind].append(result)
                print(f"{kind:5s} {result['pages']} pages in {result['seconds']:.1f} s: {result['pages_per_s']} pages/s"
                      + (f" ({result['articles']} articles, {result['duplicates']} duplicates, "
                         f"{result['errors']} errors)" if kind == "full" else ""), flush=True)
    best = {kind: max(results, key=lambda r: r["pages_per_s"]) for kind, results in rounds.items()}
    ratio = round(best["full"]["pages_per_s"] / best["bare"]["pages_per_s"], 3)
    # how much keeping the best of each matters, on a machine that other work slows down
    median_ratio = round(statistics.median(r["pages_per_s"] for r in rounds["full"])
                         / statistics.median(r["pages_per_s"] for r in rounds["bare"]), 3)
    report = {
        "machine": {"cores": len(os.sched_getaffinity(0)), "cpu_count": os.cpu_count(), "python": platform.python_version(),
                    "load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
        "portal": {"pages": len(site), "articles": len(sizes), "article_kb_min": round(sizes[0] / 1024, 1),
                   "article_kb_median": round(sizes[len(sizes) // 2] / 1024, 1),
                   "article_kb_max": round(sizes[-1] / 1024, 1)},
        "settings": UNTHROTTLED, "rounds": rounds,
        "bare_pages_per_s": best["bare"]["pages_per_s"], "full_pages_per_s": best["full"]["pages_per_s"],
        "ratio": ratio, "ratio_of_medians": median_ratio,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", "utf-8")
    print(f"written: {RESULTS.relative_to(ROOT)}")
    print(f"ratio of the medians over {args.rounds} rounds {median_ratio}")
    print(f"ratio {ratio}")


if __name__ == "__main__":
    main()
