"""Memory of a long rendered crawl: RSS of the crawl and its browser over 500 pages.

    .venv/bin/python bench/render.py [--articles 500] [--rounds 3] [--context-pages N]

Serves bench/portal.py's generated portal on 127.0.0.1, with its list pages turned into
shells that a script fills from a JSON endpoint (as on sites that need a browser), and crawls
it with a site module that says `render = True`: every list and article page is drawn by
Chromium (crawler.crawl.rendering). Politeness is off, as in bench/crawl.py.

While the crawl runs, the resident memory (RSS) of the crawl process and of all its
descendants (Playwright's driver, Chromium's browser, renderer and utility processes) is
summed every half second (as PSS: see tree_memory_mb), with the number of articles stored so
far. Printed and written to bench/results/render.json, per round: the peak (browser and crawler
apart), and the memory early (10-30% of the articles stored) and late (70-95%) in the crawl,
whose difference says whether memory grows with the pages crawled.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "render.json"
SAMPLE_S = 0.5

LIST_SHELL = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>部门动态</title></head>
<body>
<ul class="news-list" id="list"></ul>
<div class="pagination" id="pager"></div>
<script>
var xhr = new XMLHttpRequest();
xhr.open("GET", "/api/list_{n}.json", true);
xhr.onload = function () {{
  var res = JSON.parse(xhr.responseText), html = "";
  res.list.forEach(function (item) {{
    html += '<li><a href="' + item.url + '" target="_blank">' + item.title + '</a><span>' + item.date + '</span></li>';
  }});
  document.getElementById("list").innerHTML = html;
  if (res.next) document.getElementById("pager").innerHTML = '<a class="next" href="' + res.next + '">下一页</a>';
}};
xhr.send();
</script>
</body></html>
"""


def scripted_portal(articles: int) -> dict:
    """bench/portal.py's portal, its list pages drawn by script from `/api/list_N.json`."""
    from portal import PER_LIST_PAGE, Page, build_site

    site = build_site(articles)
    urls = sorted((path for path in site if "/t" in path), reverse=True)
    lists = -(-len(urls) // PER_LIST_PAGE)
    for n in range(1, lists + 1):
        path = "/news/index.html" if n == 1 else f"/news/index_{n}.html"
        titles = _titles(site, urls[(n - 1) * PER_LIST_PAGE: n * PER_LIST_PAGE])
        data = {"list": [{"url": url, "title": title, "date": url.split("/t")[1][:8]} for url, title in titles],
                "next": f"/news/index_{n + 1}.html" if n < lists else None}
        site[path] = Page("text/html; charset=utf-8", LIST_SHELL.format(n=n).encode())
        site[f"/api/list_{n}.json"] = Page("application/json", json.dumps(data, ensure_ascii=False).encode())
    return site


def _titles(site: dict, urls: list[str]) -> list[tuple[str, str]]:
    import re

    found = []
    for url in urls:
        page = site[url]
        charset = "gbk" if b"gb2312" in page.body[:200] else "utf-8"
        title = re.search(r"<title>(.*?)_", page.body.decode(charset)).group(1)
        found.append((url, title))
    return found


def measure(start_url: str, db: Path, context_pages: int) -> dict:
    """Inside the child process: the crawl."""
    from portal import PortalSpider

    from crawler.crawl.runner import crawl
    from crawl import UNTHROTTLED

    class RenderedPortal(PortalSpider):
        name = "rendered_portal"
        render = True
        start_urls = [start_url]

    (run,) = crawl([RenderedPortal], db, {**UNTHROTTLED, "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
                                          "RENDER_CONTEXT_PAGES": context_pages})
    return {"pages": run["pages_fetched"], "seconds": run["duration_s"], "articles": run["articles_new"],
            "duplicates": run["duplicates"], "errors": run["errors"], "rendered": run["rendered"],
            "status": run["status"]}


def tree_memory_mb(pid: int) -> dict:
    """Memory (MB) of a process and all its descendants: the browser's processes (Playwright's
    driver, Chromium's) and the crawler's (the crawl and its extraction workers), and how many
    processes there are. Chromium's processes share much of their memory, so each counts its
    proportional share (PSS): the sum is what the tree holds, where a sum of RSS would count
    shared pages again for every process."""
    found = {"browser": 0, "crawler": 0, "processes": 0}
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/comm") as comm:
                kind = "crawler" if comm.read().startswith("python") else "browser"
            with open(f"/proc/{current}/smaps_rollup") as rollup:
                found[kind] += next((int(line.split()[1]) for line in rollup if line.startswith("Pss:")), 0)
            found["processes"] += 1
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    todo.extend(int(child) for child in children.read().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return {"mb": round((found["browser"] + found["crawler"]) / 1024, 1), "browser_mb": round(found["browser"] / 1024, 1),
            "crawler_mb": round(found["crawler"] / 1024, 1), "processes": found["processes"]}


def stored(db: Path) -> int:
    try:
        with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT count(*) FROM articles").fetchone()[0] + \
                conn.execute("SELECT count(*) FROM duplicates").fetchone()[0]
    except sqlite3.Error:
        return 0


def one_round(start_url: str, context_pages: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "render.db"
        child = subprocess.Popen([sys.executable, __file__, "--measure", "--url", start_url, "--db", str(db),
                                  "--context-pages", str(context_pages)],
                                 cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        samples, started = [], time.monotonic()
        while child.poll() is None:
            samples.append({"s": round(time.monotonic() - started, 1), **tree_memory_mb(child.pid),
                            "stored": stored(db)})
            time.sleep(SAMPLE_S)
        out, err = child.communicate()
    if child.returncode != 0:
        sys.exit(f"rendered crawl failed:\n{err[-3000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    # Early and late in the crawl (medians, the memory of a browser swings by ~50 MB from one
    # page to the next): between 10% and 30% of the articles stored, and between 70% and 95%.
    articles = result["articles"]
    early, late = ([s["mb"] for s in samples if s["browser_mb"] and low * articles <= s["stored"] <= high * articles]
                   for low, high in ((0.1, 0.3), (0.7, 0.95)))
    result.update({
        "mb_peak": max(s["mb"] for s in samples),
        "browser_mb_peak": max(s["browser_mb"] for s in samples),
        "crawler_mb_peak": max(s["crawler_mb"] for s in samples),
        "mb_early": statistics.median(early),
        "mb_late": statistics.median(late),
        "mb_growth": round(statistics.median(late) - statistics.median(early), 1),
        "max_processes": max(s["processes"] for s in samples),
        "pages_per_s": round(result["pages"] / result["seconds"], 1),
        "samples": samples[::4],
    })
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=500, help="article pages to render (default 500)")
    parser.add_argument("--rounds", type=int, default=3, help="crawls in a row, each in its own process (default 3)")
    parser.add_argument("--context-pages", type=int, default=100,
                        help="RENDER_CONTEXT_PAGES: pages per browser context (default 100, the setting's default;"
                             " 0 never replaces it)")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:  # inside the child process
        print(json.dumps(measure(args.url, Path(args.db), args.context_pages)))
        return

    from scrapy.utils.project import get_project_settings

    from crawler.sites.spider import browser_missing
    from portal import PortalServer

    missing = browser_missing(get_project_settings())
    if missing:
        sys.exit(f"bench/render.py renders pages in a browser, and {missing}")
    site = scripted_portal(args.articles)
    print(f"portal: {args.articles} articles, list pages drawn by script; {len(os.sched_getaffinity(0))} cores, "
          f"load average {os.getloadavg()[0]:.1f}; RENDER_CONTEXT_PAGES={args.context_pages}", flush=True)
    rounds = []
    with PortalServer(site) as server:
        for _ in range(args.rounds):
            result = one_round(f"{server.url}/news/index.html", args.context_pages)
            rounds.append(result)
            print(f"{result['pages']} pages ({result['rendered']} rendered, {result['articles']} articles, "
                  f"{result['errors']} errors) in {result['seconds']:.0f} s, {result['pages_per_s']} pages/s; "
                  f"memory (PSS) early {result['mb_early']:.0f} MB, late {result['mb_late']:.0f} MB "
                  f"({result['mb_growth']:+.0f} MB), peak {result['mb_peak']:.0f} MB "
                  f"(browser {result['browser_mb_peak']:.0f}, crawler {result['crawler_mb_peak']:.0f}; "
                  f"{result['max_processes']} processes at most)",
                  flush=True)
    report = {
        "machine": {"cores": len(os.sched_getaffinity(0)), "python": platform.python_version(),
                    "load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
        "articles": args.articles, "context_pages": args.context_pages, "rounds": rounds,
        "mb_peak_median": statistics.median(r["mb_peak"] for r in rounds),
        "mb_growth_median": statistics.median(r["mb_growth"] for r in rounds),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", "utf-8")
    print(f"written: {RESULTS.relative_to(ROOT)}")
    print(f"peak memory {report['mb_peak_median']:.0f} MB, growth from early to late in the crawl "
          f"{report['mb_growth_median']:+.0f} MB (medians of {args.rounds} rounds)")


if __name__ == "__main__":
    main()
