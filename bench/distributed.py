"""Distributed crawl rate: 1, 2 and 4 `crawler worker` processes and one `crawler writer` on a
generated loopback site set, throttles off.

Three demo sites (laowu, investchn, gdcyxx: their real templates, encodings and spiders) are
served with --articles generated articles each by a loopback server process, pre-rendered so
the server is not what is measured. Two series: the server answering at once (the crawl is
CPU-bound: extraction, on this machine's cores) and answering after --latency seconds, as
remote government servers do (the crawl is bound by requests in flight, 4 per site per
worker). Each run starts from an empty Redis and an empty store; the rate is pages per second
between the first and the last article committed (process start-up excluded). Also reported:
the seen-request set's peak size in Redis.

    .venv/bin/python bench/distributed.py [--articles 300] [--workers 1 2 4] [--latency 0 0.5]

Prints one line per run and writes bench/results/distributed.json.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.demo import sites as demo  # noqa: E402
from crawler.distributed.cluster import RECORDS_KEY  # noqa: E402
from crawler.distributed.localredis import LocalRedis  # noqa: E402

BENCH_SITES = ("laowu", "investchn", "gdcyxx")  # Simplified sites: cheap to render, so the server keeps up
PER_PAGE = 40  # articles per list page: enough queued work for every worker at once
PER_DOMAIN = 4  # requests in flight per site per worker


def generated_articles(site: str, count: int) -> list:
    """`count` articles made from the demo content, each with its own first line (no duplicates)."""
    pool = [a for name in demo.SITES for a in demo.all_articles(name) if not a.verbatim]
    return [replace(base, slug=f"b{i}", title=f"{base.title}（{site}第{i}期）",
                    paragraphs=(f"{site}第{i}期：{base.paragraphs[0]}", *base.paragraphs[1:]), summary=None)
            for i, base in ((i, pool[i % len(pool)]) for i in range(count))]


def rendered_pages(count: int) -> dict[tuple[str, str], tuple[str, bytes]]:
    """(host, path) -> (content type, bytes) of every page of the bench sites."""
    demo.PER_PAGE = PER_PAGE  # this runs in the server's own process
    pages = {}
    for name in BENCH_SITES:
        site = replace(demo.SITES[name], republish=(), faulty=False)
        site.__dict__["articles"] = generated_articles(name, count)  # fills the cached property
        for n in range(1, count // PER_PAGE + 2):
            body = site.list_page(n)
            if body:
                pages[(site.host, site.list_url(n))] = (site.content_type, body)
        for article in site.articles:
            pages[(site.host, site.url_of(article))] = (site.content_type, site.article_page(article))
        pages[(site.host, "/robots.txt")] = ("text/plain", b"User-agent: *\nDisallow: /admin/\n")
    return pages


def serve(count: int, latency: float, ready, port_holder) -> None:
    from urllib.parse import urlsplit

    pages = rendered_pages(count)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            target = urlsplit(self.path)
            path = target.path + (f"?{target.query}" if target.query else "")
            content_type, body = pages.get(((target.hostname or "").lower(), path), ("text/plain", b""))
            time.sleep(latency)  # a remote server's response time
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    port_holder.value = httpd.server_address[1]
    ready.set()
    httpd.serve_forever()


def crawler(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "crawler.cli", *args], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def stored(db: Path) -> int:
    try:
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    except sqlite3.Error:
        return 0


def run(workers: int, expected: int, redis_url: str, proxy: str, folder: Path, timeout: float = 900) -> dict:
    server = redis.Redis.from_url(redis_url)
    server.flushall()
    db = folder / f"bench-{workers}.db"
    writer = crawler("writer", "--redis", redis_url, "--db", str(db))
    settings = {"PROXY_URL": proxy, "AUTOTHROTTLE_ENABLED": "False", "DOWNLOAD_DELAY": "0",
                "CONCURRENT_REQUESTS_PER_DOMAIN": str(PER_DOMAIN), "LOG_LEVEL": "ERROR"}
    procs = [crawler("worker", *BENCH_SITES, "--redis", redis_url, "--name", f"bench-{n}", "--idle-exit", "2",
                     *(f"-s{k}={v}" for k, v in settings.items())) for n in range(workers)]
    started = time.monotonic()
    first = done = None
    seen_peak = 0
    while done is None and time.monotonic() - started < timeout and any(p.poll() is None for p in procs):
        count = stored(db)
        now = time.monotonic()
        if count and first is None:
            first = (now, count)
        if count >= expected:
            done = now
        seen_peak = max(seen_peak, *(server.memory_usage(f"crawler:{s}:seen") or 0 for s in BENCH_SITES))
        seen_size = sum(server.scard(f"crawler:{s}:seen") for s in BENCH_SITES)
        time.sleep(0.1)
    pages = 0
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        if proc.returncode:
            raise SystemExit(f"worker failed: {err.strip().splitlines()[-1:]}")
        pages += sum(int(line.split()[1]) for line in out.splitlines()[1:])
    while server.xlen(RECORDS_KEY):
        time.sleep(0.1)
    writer.send_signal(signal.SIGTERM)
    writer.communicate(timeout=60)
    if done is None:
        raise SystemExit(f"{workers} workers: only {stored(db)} of {expected} articles after {timeout} s")
    span = done - first[0]
    return {
        "workers": workers, "articles": stored(db), "pages_fetched": pages,
        "seconds": round(span, 2), "articles_per_s": round((expected - first[1]) / span, 1),
        "pages_per_s": round(pages * (expected - first[1]) / expected / span, 1),
        "wall_seconds_with_startup": round(done - started, 2),
        "seen_set_peak_bytes_per_site": seen_peak, "seen_set_entries_at_end": seen_size,
    }


def run_series(articles: int, latency: float, worker_counts: list[int]) -> dict:
    ready, port = multiprocessing.Event(), multiprocessing.Value("i", 0)
    site_server = multiprocessing.Process(target=serve, args=(articles, latency, ready, port), daemon=True)
    site_server.start()
    ready.wait(300)
    proxy = f"http://127.0.0.1:{port.value}"
    results = []
    try:
        with LocalRedis() as redis_url, tempfile.TemporaryDirectory(prefix="bench-distributed-") as folder:
            for workers in worker_counts:
                result = run(workers, articles * len(BENCH_SITES), redis_url, proxy, Path(folder))
                results.append(result)
                print(f"latency {latency} s, {workers} worker(s): {result['pages_per_s']} pages/s "
                      f"({result['articles']} articles in {result['seconds']} s; seen set peak "
                      f"{result['seen_set_peak_bytes_per_site']} bytes per site)", flush=True)
    finally:
        site_server.terminate()
    for result in results:
        result["speedup"] = round(result["pages_per_s"] / results[0]["pages_per_s"], 2)
    print(f"latency {latency} s: speedup " + " ".join(f"{r['workers']}:{r['speedup']}" for r in results), flush=True)
    return {"server_latency_s": latency, "runs": results}


def writer_rate(records: int = 2000) -> float:
    """Records per second one writer drains into a fresh store (the ceiling of any number of workers)."""
    from crawler.distributed.cluster import Writer, record_message
    from crawler.storage.store import Store

    pages = list(rendered_pages(100).items())
    with LocalRedis() as redis_url, tempfile.TemporaryDirectory(prefix="bench-writer-") as folder:
        server = redis.Redis.from_url(redis_url)
        for i in range(records):
            (host, path), (content_type, body) = pages[i % len(pages)]
            record = {"url": f"http://{host}/w/{i}.html", "site": "laowu", "title": f"标题{i}", "script": "hans",
                      "body": f"第{i}篇。" + body.decode("utf-8", "replace")[-3000:], "fetched_at": "2026-01-01T00:00:00+00:00"}
            server.xadd(RECORDS_KEY, record_message(record, body, content_type))
        writer = Writer(Store(Path(folder) / "writer.db"), server)
        started = time.monotonic()
        writer.run(idle_exit=0.5)
        return round(records / (time.monotonic() - started - 0.5), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=300, help="articles per site (default: 300)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--latency", type=float, nargs="+", default=[0.0, 0.5],
                        help="server response times in seconds, one series each (default: 0 0.5)")
    args = parser.parse_args()
    load_at_start = os.getloadavg()[0]
    series = [run_series(args.articles, latency, args.workers) for latency in args.latency]
    writer = writer_rate()
    print(f"writer alone: {writer} records/s", flush=True)
    out = ROOT / "bench" / "results" / "distributed.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                    "load_average_at_start": load_at_start, "load_average_at_end": os.getloadavg()[0]},
        "sites": list(BENCH_SITES), "articles_per_site": args.articles,
        "per_worker_settings": {"CONCURRENT_REQUESTS_PER_DOMAIN": PER_DOMAIN, "AUTOTHROTTLE_ENABLED": False,
                                "DOWNLOAD_DELAY": 0},
        "series": series, "writer_records_per_s": writer,
    }, indent=2) + "\n")
    print(f"written: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
