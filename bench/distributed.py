"""Distributed crawl: what 1, 2 and 4 `crawler worker` processes fetch, what one writer stores.

Three demo sites (laowu, investchn, gdcyxx: their real templates, encodings and site modules)
are served with --articles generated articles each by bench/portal.py's asyncio server, in a
process of its own, from memory: the server is never the limit (it answers thousands of pages
a second; a latency is an asyncio sleep, so it holds up nothing else).

Two series, with the shared politeness budget (crawler.distributed.politeness) on in both:
- CPU-bound: the server answers at once and each site allows 16 requests in flight (all workers
  together), and its list pages hold PER_PAGE links, so what limits the crawl is the workers'
  CPU (fetch, extract, clean, publish);
- latency-bound: each answer takes --latency seconds and each site allows the default 4
  requests in flight, all workers together: the budget is the limit, sites x 4 / latency pages/s,
  however many workers share it.
While the workers crawl, the writer is parked (as if on its own machine): records queue in
Redis. Then the writer drains them alone, which gives the writer's ceiling in records/s. The
run checks that every generated article is stored, as an article or as a duplicate (the
generated articles share most of their text, so near-duplicate detection finds many).

pages/s = the records published between the 10th and the 90th percentile of their publish
times (Redis stream entry ids carry the time), times pages per record, over that time: process
start-up and the last stragglers are left out. Also measured: the workers' CPU seconds in
that window (sampled from /proc), which give pages per worker CPU second while crawling (what
one worker does with a core of its own, whatever else loads the machine) and how many cores
the workers kept busy; in the same window, the cores each process used (each worker, the page
server, redis-server, the bench itself, every other process on the machine, and what the host
of a virtual machine took), and the time the workers spent runnable but waiting for a core
(CPU-starved, not idle); pages per CPU second with start-up included; Redis memory per URL of
the round's seen-request set, per queued request and per queued record; the load average.

A run in which other jobs used more than OTHER_JOBS_CORES of the cores the workers need (the
cores they leave free are not counted: 1 worker on 2 cores) is marked disturbed,
done again (ATTEMPTS in all) and left out of the medians: on a shared machine N workers get
whatever share of the cores the other jobs leave, which says nothing of the workers. Before
each run the bench waits (up to QUIET_WAIT_S) for the machine to be quiet.

    .venv/bin/python bench/distributed.py [--articles 1200] [--workers 1 2 4] [--rounds 3] [--latency 0.5]

Prints one line per run and writes bench/results/distributed.json.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import redis

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from crawler.demo import sites as demo  # noqa: E402
from crawler.distributed.cluster import FRONTIER_KEY, RECORDS_KEY, SEEN_KEY, Writer  # noqa: E402
from crawler.distributed.localredis import LocalRedis  # noqa: E402
from crawler.storage.store import Store  # noqa: E402

from portal import Page, PortalServer  # noqa: E402

BENCH_SITES = ("laowu", "investchn", "gdcyxx")
# Articles per list page. List pages come one after the other, and a worker takes up to
# CONCURRENT_REQUESTS (32) of a site's queued requests at a time: with 40 a page, one worker could
# hold all there was and the second one idled (0.18-0.6 of a core, measured); 200 leave work for both.
PER_PAGE = 200
CPU_BOUND = {"CONCURRENT_REQUESTS_PER_DOMAIN": 16, "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False}
LATENCY_BOUND = {"CONCURRENT_REQUESTS_PER_DOMAIN": 4, "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False}
RESULTS = HERE / "results" / "distributed.json"
# Other jobs' cores in a run's window above which it is disturbed, tries per run, and seconds to
# wait for a quiet machine before a run (see the docstring).
OTHER_JOBS_CORES = 0.15
ATTEMPTS = 2
QUIET_WAIT_S = 10


def generated_articles(site: str, count: int) -> list:
    """`count` articles made from the demo content, each with its own title and first line."""
    pool = [a for name in demo.SITES for a in demo.all_articles(name) if not a.verbatim]
    return [replace(base, slug=f"b{i}", title=f"{base.title}（{site}第{i}期）",
                    paragraphs=(f"{site}第{i}期：{base.paragraphs[0]}", *base.paragraphs[1:]), summary=None)
            for i, base in ((i, pool[i % len(pool)]) for i in range(count))]


def site_pages(count: int) -> dict[str, Page]:
    """`host/path` -> page, for every page of the bench sites."""
    demo.PER_PAGE = PER_PAGE  # this runs in the server's own process
    pages = {}
    for name in BENCH_SITES:
        site = replace(demo.SITES[name], republish=(), faulty=False)
        site.__dict__["articles"] = generated_articles(name, count)  # fills the cached property
        for n in range(1, count // PER_PAGE + 2):
            body = site.list_page(n)
            if body:
                pages[site.host + site.list_url(n)] = Page(site.content_type, body)
        for article in site.articles:
            pages[site.host + site.url_of(article)] = Page(site.content_type, site.article_page(article))
        pages[site.host + "/robots.txt"] = Page("text/plain", b"User-agent: *\nDisallow: /admin/\n")
    return pages


def serve(count: int, latency: float, port, stop) -> None:
    with PortalServer(site_pages(count), max_seconds=7200, latency=latency, by_host=True) as server:
        port.value = server.port
        stop.wait()


class SiteServer:
    """The bench sites served by PortalServer in a process of its own (not the bench's GIL)."""

    def __init__(self, articles: int, latency: float):
        self.port, self.stop = multiprocessing.Value("i", 0), multiprocessing.Event()
        self.process = multiprocessing.Process(target=serve, args=(articles, latency, self.port, self.stop), daemon=True)

    def __enter__(self) -> str:
        self.process.start()
        deadline = time.monotonic() + 300
        while not self.port.value and time.monotonic() < deadline:
            time.sleep(0.1)
        return f"http://127.0.0.1:{self.port.value}"

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.process.join(10)


def crawl(workers: int, redis_url: str, proxy: str, politeness: dict, others: dict[str, int]) -> dict:
    """Run `workers` workers on an empty Redis until they leave; what they fetched and published.
    `others`: the bench's other processes (name -> pid), whose CPU time in the window is given too."""
    server = redis.Redis.from_url(redis_url)
    server.flushall()
    cpu_before = children_cpu_s()
    settings = {"PROXY_URL": proxy, "LOG_LEVEL": "ERROR", **politeness}
    procs = [subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", "worker", *BENCH_SITES, "--redis", redis_url, "--name", f"bench-{n}",
         "--idle-exit", "2", *(f"-s{k}={v}" for k, v in settings.items())],
        cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for n in range(workers)]
    seen, frontier = {"bytes": 0, "entries": 0}, {"bytes": 0, "entries": 0}
    watched = {**{f"worker {n + 1}": proc.pid for n, proc in enumerate(procs)}, **others}
    samples = []  # (ms since the epoch, {counter: seconds so far}), see `usage`
    while any(proc.poll() is None for proc in procs):
        samples.append((time.time() * 1000, {**(samples[-1][1] if samples else {}), **usage(watched)}))
        seen = largest(seen, server, SEEN_KEY, server.scard)
        frontier = largest(frontier, server, FRONTIER_KEY, server.xlen)
        time.sleep(0.2)
    pages = records = 0
    for proc in procs:
        out, err = proc.communicate()
        if proc.returncode:
            raise SystemExit(f"a worker failed: {err.strip().splitlines()[-1:]}")
        for line in out.splitlines()[1:]:
            pages, records = pages + int(line.split()[1]), records + int(line.split()[2])
    cpu = children_cpu_s() - cpu_before
    times = sorted(published_times(server))
    low, high = times[len(times) // 10], times[len(times) * 9 // 10]
    in_window = sum(1 for t in times if low <= t <= high)
    rate = in_window * pages / records / ((high - low) / 1000)
    window_s = (high - low) / 1000
    cores = {name: round((value_at(samples, name, high) - value_at(samples, name, low)) / window_s, 2)
             for name in samples[0][1]}
    window_cpu = sum(cores[f"worker {n + 1}"] for n in range(workers)) * window_s
    cores["everything else"] = round(cores.pop("machine busy") - sum(cores[name] for name in watched), 2)
    cores["stolen by the host"] = cores.pop("stolen by the host")
    return {
        "workers": workers, "pages_fetched": pages, "records_published": records,
        "window_s": round((high - low) / 1000, 2),
        "workers_cpu_s": round(cpu, 2), "pages_per_worker_cpu_s": round(pages / cpu, 1),
        "pages_per_s": round(rate, 1),
        # in the same window: pages per CPU second of the workers, and how many cores they kept
        # busy (fewer than they could use: the machine was busy, or the politeness budget held them back)
        "pages_per_worker_cpu_s_crawling": round(rate * (high - low) / 1000 / window_cpu, 1) if window_cpu else None,
        "cores_busy": round(window_cpu / window_s, 2),
        # the same window, seconds per second: each process' CPU time, the workers' time waiting
        # for a core (runnable, not running: CPU-starved), the machine's idle cores, and the CPU
        # time of every other process (other jobs on the machine)
        "cores_by_process": {name: value for name, value in cores.items() if not name.endswith(" waiting")},
        "workers_waiting_for_a_core": round(sum(value for name, value in cores.items() if name.endswith(" waiting")), 2),
        "seen_set_bytes_per_url": round(seen["bytes"] / seen["entries"], 1) if seen["entries"] else None,
        "frontier_bytes_per_queued_request": round(frontier["bytes"] / frontier["entries"], 1) if frontier["entries"] else None,
        "records_stream_bytes_per_record": round(server.memory_usage(RECORDS_KEY, samples=0) / records, 1),
    }


def largest(before: dict, server: redis.Redis, key: str, length) -> dict:
    """The bench sites' keys named by `key` now (bytes in Redis, entries), if they hold more than `before`."""
    keys = [key % {"spider": site} for site in BENCH_SITES]
    entries = sum(length(k) for k in keys)
    if entries <= before["entries"]:
        return before
    return {"bytes": sum(server.memory_usage(k, samples=0) or 0 for k in keys), "entries": entries}


def usage(processes: dict[str, int]) -> dict[str, float]:
    """Seconds so far, from /proc: each process' CPU time (`name`) and time spent runnable but
    waiting for a core (`name waiting`, all its threads), and the machine's busy time (all cores)."""
    tick = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for name, pid in processes.items():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            seconds[name] = (int(fields[11]) + int(fields[12])) / tick
            seconds[f"{name} waiting"] = sum(int((task / "schedstat").read_text().split()[1])
                                             for task in Path(f"/proc/{pid}/task").iterdir()) / 1e9
        except (OSError, IndexError, ValueError):  # gone (a worker that left): its last sample stands
            continue
    machine = [int(field) for field in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    seconds["machine busy"] = sum(machine[:3] + machine[5:7]) / tick  # user, nice, system, irq, softirq
    seconds["stolen by the host"] = machine[7] / tick  # a virtual machine's cores, running another guest
    return seconds


def value_at(samples: list[tuple[float, dict]], name: str, when: float) -> float:
    """Counter `name` at `when` (ms), between the two samples around it."""
    before = max((s for s in samples if s[0] <= when), default=samples[0], key=lambda s: s[0])
    after = min((s for s in samples if s[0] >= when), default=samples[-1], key=lambda s: s[0])
    if after[0] == before[0]:
        return before[1][name]
    return before[1][name] + (after[1][name] - before[1][name]) * (when - before[0]) / (after[0] - before[0])


def children_cpu_s() -> float:
    """CPU seconds (user + system) of the child processes waited for so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def published_times(server: redis.Redis) -> list[int]:
    """When each record entry of the records stream was added, in ms (its id's first part)."""
    times, cursor = [], "-"
    while True:
        entries = server.xrange(RECORDS_KEY, min=cursor, count=1000)
        times += [int(entry_id.split(b"-")[0]) for entry_id, fields in entries if b"record" in fields]
        if len(entries) < 1000:
            return times
        cursor = b"(" + entries[-1][0]


def drain(redis_url: str, db: Path, expected: int) -> dict:
    """The parked writer drains the records stream alone: records/s, and what it stored."""
    writer = Writer(Store(db), redis.Redis.from_url(redis_url))
    started = time.monotonic()
    counts = writer.run(idle_exit=0.5)
    seconds = time.monotonic() - started - 0.5
    written = sum(counts.values())
    with sqlite3.connect(db) as conn:
        stored = sum(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in ("articles", "duplicates"))
    if stored != expected:
        raise SystemExit(f"stored {stored} articles and duplicates, expected {expected}: {counts}")
    return {"writer_records_per_s": round(written / seconds, 1), "stored_articles": counts["new"],
            "stored_duplicates": counts["duplicate"]}


def spread(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 1), "min": min(values), "max": max(values)}


def series(name: str, articles: int, latency: float, politeness: dict, worker_counts: list[int], rounds: int,
           redis_url: str, redis_pid: int, folder: Path) -> dict:
    runs, site_server = [], SiteServer(articles, latency)
    with site_server as proxy:
        others = {"page server": site_server.process.pid, "redis-server": redis_pid, "bench": os.getpid()}
        for round_number in range(rounds):
            for workers in worker_counts:
                for attempt in range(ATTEMPTS):
                    quiet_wait(QUIET_WAIT_S)
                    run = crawl(workers, redis_url, proxy, politeness, others)
                    run.update(drain(redis_url, folder / f"{name}-{workers}-{round_number}-{attempt}.db",
                                     articles * len(BENCH_SITES)))
                    run["load_average"] = round(os.getloadavg()[0], 2)
                    spare = max(0, os.cpu_count() - workers)  # a job on a core the workers leave free takes nothing from them
                    run["disturbed"] = run["cores_by_process"]["everything else"] > spare + OTHER_JOBS_CORES
                    runs.append(run)
                    print(f"{name}, {workers} worker(s), round {round_number + 1}: {run['pages_per_s']} pages/s "
                          f"({run['pages_per_worker_cpu_s_crawling']} per worker CPU second while crawling, "
                          f"{run['pages_per_worker_cpu_s']} with start-up; {run['cores_busy']} cores busy); "
                          f"writer {run['writer_records_per_s']} records/s ({run['stored_articles']} articles + "
                          f"{run['stored_duplicates']} duplicates; load {run['load_average']})\n    cores busy: "
                          + ", ".join(f"{process} {value}" for process, value in run["cores_by_process"].items())
                          + f"; workers waiting for a core {run['workers_waiting_for_a_core']}"
                          + ("; DISTURBED by other jobs" if run["disturbed"] else ""), flush=True)
                    if not run["disturbed"]:
                        break
    counted = [r for r in runs if not r["disturbed"]]
    by_workers = {w: spread([r["pages_per_s"] for r in counted if r["workers"] == w]
                            or [r["pages_per_s"] for r in runs if r["workers"] == w]) for w in worker_counts}
    base = by_workers[worker_counts[0]]["median"]
    speedup = {w: round(s["median"] / base, 2) for w, s in by_workers.items()}
    print(f"{name}: pages/s by workers (median of the undisturbed runs) "
          + "  ".join(f"{w}: {s['median']} ({s['min']}-{s['max']})" for w, s in by_workers.items())
          + "; speedup " + "  ".join(f"{w}: {x}x" for w, x in speedup.items()), flush=True)
    return {"server_latency_s": latency, "politeness": politeness, "runs": runs,
            "pages_per_s": by_workers, "speedup_of_medians": speedup}


def quiet_wait(limit_s: float) -> None:
    """Wait (up to `limit_s`) until the machine is quiet: the bench's own processes are idle
    between runs, so any CPU in use is another job's."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        before = usage({})["machine busy"]
        time.sleep(1)
        if usage({})["machine busy"] - before <= OTHER_JOBS_CORES:
            return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=1200,
                        help="articles per site (default: 1200; fewer make windows of a few seconds)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4], help="worker counts (default: 1 2 4)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each worker count in the CPU-bound series (default: 3)")
    parser.add_argument("--latency", type=float, default=0.5,
                        help="server response time of the latency-bound series, seconds (default: 0.5; 0: skip it)")
    args = parser.parse_args()
    load_at_start = os.getloadavg()
    results = {"machine": {"cores": os.cpu_count(), "python": platform.python_version()},
               "sites": list(BENCH_SITES), "articles_per_site": args.articles}
    local_redis = LocalRedis()
    with local_redis as redis_url, tempfile.TemporaryDirectory(prefix="bench-distributed-") as folder:
        redis_pid = local_redis.process.pid
        results["cpu_bound"] = series("cpu-bound", args.articles, 0.0, CPU_BOUND, args.workers, args.rounds,
                                      redis_url, redis_pid, Path(folder))
        if args.latency:
            results["latency_bound"] = series("latency-bound", args.articles, args.latency, LATENCY_BOUND,
                                              args.workers, 1, redis_url, redis_pid, Path(folder))
            ceiling = len(BENCH_SITES) * LATENCY_BOUND["CONCURRENT_REQUESTS_PER_DOMAIN"] / args.latency
            results["latency_bound"]["budget_ceiling_pages_per_s"] = ceiling
            print(f"latency-bound: the sites' budgets allow {ceiling:g} pages/s", flush=True)
    runs = results["cpu_bound"]["runs"] + results.get("latency_bound", {}).get("runs", [])
    results["writer_records_per_s"] = spread([r["writer_records_per_s"] for r in runs])
    results["redis"] = {
        "seen_set_bytes_per_url": spread([r["seen_set_bytes_per_url"] for r in runs if r["seen_set_bytes_per_url"]]),
        "records_stream_bytes_per_record": spread([r["records_stream_bytes_per_record"] for r in runs]),
        "frontier_bytes_per_queued_request": spread([r["frontier_bytes_per_queued_request"] for r in runs
                                                     if r["frontier_bytes_per_queued_request"]]),
    }
    results["machine"]["load_average_1_5_15_at_start"] = load_at_start
    results["machine"]["load_average_1_5_15_at_end"] = os.getloadavg()
    print(f"writer alone: {results['writer_records_per_s']} records/s; Redis: {results['redis']}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written: {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
