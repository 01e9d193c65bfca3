"""Link farms (not CI): a site whose one list page links 60,000, 120,000 and 250,000 articles.

For each size, `crawler crawl` of the hostile test site's module (tests/faultserver.py) against
that page: seconds from the start to the first stored article, seconds from a SIGTERM sent
then to the process's exit, its peak RSS, and the `trapped` count (links left out by
CRAWLER_MAX_LINKS_PER_PAGE). The page is allowed past the 16 MB download cap so that the
largest one is fetched at all. Prints the figures and writes them to bench/results/linkfarm.json.

    .venv/bin/python bench/linkfarm.py                  # 60k, 120k, 250k links, 3 rounds each
    .venv/bin/python bench/linkfarm.py --links 60000 --rounds 1
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from faultproject import make_project  # noqa: E402
from faultserver import FaultServer, FaultSite  # noqa: E402

SETTINGS = {"DOWNLOAD_MAXSIZE": 64 * 1024 * 1024, "DOWNLOAD_WARNSIZE": 0, "AUTOTHROTTLE_ENABLED": False,
            "DOWNLOAD_DELAY": 0, "CONCURRENT_REQUESTS_PER_DOMAIN": 16}
# The crawl's peak RSS, printed by the crawl process itself when it ends.
CODE = ("import resource, sys\nfrom crawler.cli import main\ncode = main(sys.argv[1:])\n"
        "print('maxrss_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\nsys.exit(code)")


def stored(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    except sqlite3.Error:  # not created yet
        return 0


def one_round(links: int, folder: Path) -> dict:
    site = FaultSite([("utf8", n) for n in range(links)], [], per_list=links)
    project = make_project(folder)
    db = project / "farm.db"
    with FaultServer(site, lifetime=900, max_requests=10 ** 7) as server:
        env = {**os.environ, "FAULT_SITE_URL": server.url, "FAULT_SITE_STARTS": '["/list/1.html"]',
               "FAULT_SITE_SETTINGS": json.dumps(SETTINGS)}
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-c", CODE, "crawl", "faultsite", "--db", str(db)], cwd=project,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        while not stored(db) and proc.poll() is None:
            time.sleep(0.1)
        first = time.monotonic() - started
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=600)
        stopped = time.monotonic() - started - first
    with sqlite3.connect(db) as conn:
        trapped = conn.execute("SELECT trapped FROM crawl_runs ORDER BY id DESC").fetchone()[0]
    rss = [line.split()[1] for line in err.splitlines() if line.startswith("maxrss_kb")]
    return {"first_article_s": round(first, 2), "sigterm_to_exit_s": round(stopped, 2),
            "peak_rss_mb": round(int(rss[0]) / 1024) if rss else None, "trapped": trapped, "exit": proc.returncode}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--links", type=int, nargs="+", default=[60_000, 120_000, 250_000])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results = {}
    for links in args.links:
        rounds = []
        for _ in range(args.rounds):
            with tempfile.TemporaryDirectory() as folder:
                rounds.append(one_round(links, Path(folder)))
            print(links, rounds[-1], flush=True)
        results[str(links)] = {"rounds": rounds, **{f"median_{key}": statistics.median(r[key] for r in rounds)
                                                    for key in ("first_article_s", "sigterm_to_exit_s")}}
    out = {"machine": platform.platform(), "cpus": os.cpu_count(), "load_average": os.getloadavg(),
           "results": results}
    (ROOT / "bench" / "results" / "linkfarm.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
