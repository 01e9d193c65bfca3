"""Deduplication benchmark: precision, recall, records/s and peak RSS of `crawler ingest` as the
store grows.

    .venv/bin/python bench/dedup.py                        # 10k, 100k and 1M records
    .venv/bin/python bench/dedup.py --sizes 10000,100000   # the quick part

For each size N up to 200k it writes a synthetic corpus with known duplicate clusters
(bench/corpus.py) as JSON lines and ingests it with the real `crawler ingest` command pinned to
one CPU: the first 90% of the records in one run, the last 10% in a second run on the same
database, so the on-disk index is used across runs and processes and the second rate is the
rate at N stored records. Then it reads back `articles` and `duplicates` and scores them
against the clusters. For larger N (1M), see `bench_size`: the store is filled with unlabelled
articles through the Store, and 10k labelled records are ingested at 100k and at N stored.

A held-out check does the same on real Chinese texts that the thresholds were never tuned on:
the pages of ../shared/data/chinese_wced/cleaned (read here only, never committed), cut into
articles and republished with the same transformations.

The held-out records and a 20k synthetic corpus (--compare) are also ingested a second time one
record at a time (the per-record path: each record admitted alone after the ones before it):
the bench prints whether every record got the same outcome and the same original both ways.

Figures are printed and written to bench/results/dedup.json (ratios come from one run).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import corpus  # noqa: E402  (bench/ is not a package)

from crawler.article import dedup  # noqa: E402
from crawler.chain import ingest  # noqa: E402
from crawler.chain.process import Arrival, admit_many  # noqa: E402
from crawler.storage.store import Store  # noqa: E402

REAL_TEXTS = ROOT.parent / "shared" / "data" / "chinese_wced" / "cleaned"
COPIED_SHARE = 0.2  # of original articles, republished 1-3 times
FOLLOW_UP_SHARE = 0.05  # of the others, a different article that repeats an earlier one's lead
SITES = 50
FILLER_SITE, FILLER = "filler", -2
FETCHED_AT = "2026-01-01T00:00:00+00:00"  # every record's: which copy is the original depends on the text alone
TARGETS = {"precision": 0.99, "recall": 0.98, "records_per_s_at_100k": 1000, "peak_rss_mb_at_1m": 500,
           "rss_ratio_1m_to_100k": 1.5}


# --- the corpus ------------------------------------------------------------------------------------
def plan(n_records: int, rng: random.Random, n_bases: int | None = None):
    """Cluster number and variant (-1: the original) of each record, in ingest order, and the
    follow-up articles (cluster -> the cluster whose lead it repeats)."""
    names = list(corpus.VARIANTS)
    weights = [corpus.VARIANT_WEIGHTS[name] for name in names]
    clusters, variants, follow_ups = [], [], {}
    cluster = 0
    while len(clusters) < n_records and (n_bases is None or cluster < n_bases):
        clusters.append(cluster)
        variants.append(-1)
        if rng.random() < COPIED_SHARE:
            for _ in range(rng.randint(1, 3)):
                clusters.append(cluster)
                variants.append(rng.choices(range(len(names)), weights)[0])
        elif n_bases is None and cluster and rng.random() < FOLLOW_UP_SHARE:
            follow_ups[cluster] = rng.randrange(cluster)
        cluster += 1
    order = np.random.default_rng(rng.randrange(2**32)).permutation(len(clusters))[:n_records]
    return np.array(clusters)[order], np.array(variants, dtype=np.int8)[order], follow_ups


def synthetic_base(seed: int, follow_ups: dict):
    def base(cluster: int) -> dict:
        lead_from = follow_ups.get(cluster)
        return corpus.article(seed * 10**8 + cluster, None if lead_from is None else seed * 10**8 + lead_from)
    return base


def real_articles(min_chars: int = 800) -> list[dict]:
    """The held-out texts cut into articles of about `min_chars` characters each."""
    docs = []
    for path in sorted(REAL_TEXTS.glob("*.txt")):
        lines = [line.strip() for line in path.read_text("utf-8").splitlines() if line.strip()]
        chunk = []
        for line in lines:
            chunk.append(line)
            if sum(map(len, chunk)) >= min_chars:
                docs.append(chunk)
                chunk = []
    rng = random.Random(0)
    return [{"title": chunk[0][:24], "published": "2024-01-01", "body": "\n".join(chunk),
             "place": corpus._place(rng)} for chunk in docs]


def write_records(out, positions: range, clusters, variants, base, seed: int) -> None:
    """The records at `positions` as JSON lines (UTF-8 bytes) to the binary file `out`."""
    names = list(corpus.VARIANTS)
    for i in positions:
        doc = base(int(clusters[i]))
        if variants[i] >= 0:
            doc = corpus.VARIANTS[names[variants[i]]](doc, random.Random(seed * 10**9 + i))
        site = f"site{i % SITES}"
        out.write(json.dumps({"url": url(i), "site": site, "title": doc["title"], "published": doc["published"],
                              "fetched_at": FETCHED_AT, "body": doc["body"]}, ensure_ascii=False).encode() + b"\n")


def url(position: int) -> str:
    return f"http://www.site{position % SITES}.test/news/{position}.html"


def expected_originals(clusters) -> np.ndarray:
    """Which record of each cluster the store should keep as the article (`dedup.original_rank`):
    the copies keep the original's date (corpus.VARIANTS) and every record has the same
    fetched_at, so the lowest canonical URL."""
    urls = np.array([dedup.canonical_url(url(i)) for i in range(len(clusters))])
    order = np.lexsort((urls, clusters))  # by cluster, then URL
    first = np.ones(len(order), dtype=bool)
    first[1:] = clusters[order][1:] != clusters[order][:-1]
    original = np.zeros(len(clusters), dtype=bool)
    original[order[first]] = True
    return original


# --- running and scoring -----------------------------------------------------------------------------
def run_ingest(db: Path, records: range, write, log: Path, cpu: int) -> dict:
    """`crawler ingest -` in a child process pinned to one CPU, fed by `write(stdin)`: wall
    time, CPU time and the child's peak RSS."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    with open(log.with_suffix(".out"), "w") as out, open(log.with_suffix(".err"), "w") as err:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "crawler.cli", "ingest", "-", "--db", str(db)],
                                cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=out, stderr=err,
                                preexec_fn=lambda: os.sched_setaffinity(0, {cpu}))
        peak = PeakRss(proc.pid)
        write(proc.stdin)
        proc.stdin.close()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"ingest into {db} exited {code}: {log.with_suffix('.err').read_text()[-2000:]}")
    summary = log.with_suffix(".out").read_text().strip().splitlines()
    cpu_seconds = usage.ru_utime + usage.ru_stime
    return {"records": len(records), "stored_before": records.start, "seconds": round(seconds, 1),
            "records_per_s": round(len(records) / seconds), "cpu_seconds": round(cpu_seconds, 1),
            "records_per_cpu_s": round(len(records) / cpu_seconds), "peak_rss_mb": round(peak.stop() / 1024, 1),
            "summary": summary[0] if summary else ""}


class PeakRss(threading.Thread):
    """The peak RSS (kB) of a running child, read from its /proc/PID/status (VmHWM) every 20 ms.
    Not the ru_maxrss of wait4: a child forked from this process starts as a copy of it, and
    that count keeps the parent's size at the fork (hundreds of MB after `fill_store`)."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.path, self.peak_kb, self.done = Path(f"/proc/{pid}/status"), 0, threading.Event()
        self.start()

    def run(self) -> None:
        while not self.done.wait(0.02):
            try:
                status = self.path.read_text()
            except OSError:
                return
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_kb = max(self.peak_kb, int(line.split()[1]))

    def stop(self) -> int:
        self.done.set()
        self.join()
        return self.peak_kb


def ingest_parts(db: Path, bounds: list[int], clusters, variants, base, seed: int, workdir: Path,
                 cpu: int) -> list[dict]:
    """Write records bounds[0]:bounds[1], bounds[1]:bounds[2]... to a file each and ingest each
    in its own process."""
    runs = []
    for start, end in zip(bounds, bounds[1:]):
        part, path = range(start, end), workdir / f"corpus-{start}-{end}.jsonl"
        with path.open("wb") as out:
            write_records(out, part, clusters, variants, base, seed)
        with path.open("rb") as source:
            runs.append(run_ingest(db, part, lambda stdin: shutil.copyfileobj(source, stdin), path, cpu))
        path.unlink()
        run = runs[-1]
        print(f"  ingest {start:,}-{end:,}: {run['records_per_s']:,} records/s ({run['records_per_cpu_s']:,} per CPU "
              f"second), peak RSS {run['peak_rss_mb']} MB - {run['summary']}", flush=True)
    return runs


def score(db: Path, clusters, variants, follow_ups: dict) -> dict:
    """Precision of the duplicate links and recall of the later copies, against the clusters."""
    position = lambda url: int(url.rsplit("/", 1)[1].split(".")[0])  # noqa: E731
    conn = sqlite3.connect(db)
    article_position = np.full(conn.execute("SELECT MAX(id) FROM articles").fetchone()[0] + 1, FILLER)
    for article_id, url in conn.execute(f"SELECT id, url FROM articles WHERE site != '{FILLER_SITE}'"):
        article_position[article_id] = position(url)
    n = len(clusters)
    copy_of = np.full(n, -1)  # -1: stored as an article; FILLER: linked to a filler article (wrong)
    kinds = {}
    for url, duplicate_of, kind in conn.execute("SELECT url, duplicate_of, kind FROM duplicates WHERE site != ?",
                                                [FILLER_SITE]):
        copy_of[position(url)] = article_position[duplicate_of]
        kinds[kind] = kinds.get(kind, 0) + 1
    conn.close()
    linked = copy_of != -1
    right = (copy_of >= 0) & (clusters[np.maximum(copy_of, 0)] == clusters)
    later = ~expected_originals(clusters)  # a copy that should be linked to its cluster's original
    by_variant = {"original after a copy": later & (variants == -1)}  # its copy has the lower URL
    by_variant.update({name: later & (variants == v) for v, name in enumerate(corpus.VARIANTS)})
    follow_up = np.isin(clusters, list(follow_ups)) & (variants == -1)
    return {
        "records": n, "articles": int(n - linked.sum()), "duplicates": kinds,
        "links_to_filler": int((copy_of == FILLER).sum()),
        "true_duplicates": int(later.sum()), "links": int(linked.sum()), "wrong_links": int((linked & ~right).sum()),
        "originals_linked": int((linked & ~later).sum()),
        "precision": round(float(right.sum() / max(linked.sum(), 1)), 5),
        "recall": round(float((right & later).sum() / max(later.sum(), 1)), 5),
        "recall_by_variant": {name: round(float((right & mask).sum() / max(mask.sum(), 1)), 4)
                              for name, mask in by_variant.items() if mask.any()},
        "near_miss_follow_ups": int(follow_up.sum()), "follow_ups_linked": int((follow_up & linked & ~right).sum()),
    }


def fill_store(db: Path, count: int, seed: int) -> float:
    """Add `count` unlabelled articles to the store (no cleaning), each two articles of a pool of
    20,000 in the corpus' style joined, admitted in batches as `crawler ingest` admits records
    (a pair drawn twice is stored once, as a duplicate). Returns seconds."""
    pool = [corpus.article(-1 - i)["body"] for i in range(20_000)]
    store = Store(db)
    first = stored_records(store.db, FILLER_SITE)
    rng = random.Random(f"{seed}-{first}")  # a later fill draws other pairs
    start = time.perf_counter()
    for batch in range(first, first + count, ingest.BATCH_SIZE):
        arrivals = []
        for i in range(batch, min(batch + ingest.BATCH_SIZE, first + count)):
            body = "\n".join(pool[j] for j in rng.sample(range(len(pool)), 2))
            arrivals.append(Arrival({"url": f"http://{FILLER_SITE}.test/{i}.html", "site": FILLER_SITE,
                                     "title": body[:20], "body": body, "script": "hans", "fetched_at": FETCHED_AT}))
        admit_many(store, arrivals)
    store.close()
    return time.perf_counter() - start


def stored_records(conn, site: str | None = None) -> int:
    """Records stored, as articles or duplicates (of one site, if given)."""
    where, args = ("WHERE site = ?", [site]) if site else ("", [])
    return sum(conn.execute(f"SELECT COUNT(*) FROM {table} {where}", args).fetchone()[0]
               for table in ("articles", "duplicates"))


def bench_size(n: int, workdir: Path, seed: int, cpu: int, progress) -> dict:
    """Up to 200k records, the whole labelled corpus is ingested: 90% in one process, the last
    10% in another (its rate is the rate at n stored). Above that, writing and ingesting n
    labelled records takes hours on one core, so the store is filled with unlabelled articles
    (`fill_store`) to 90k, 10k labelled records are ingested (rate and RSS at 100k stored),
    the store is filled to n - 10k, and 10k more labelled records are ingested (at n stored)."""
    db = workdir / f"dedup-{n}.db"
    if n <= 200_000:
        clusters, variants, follow_ups = plan(n, random.Random(seed))
        bounds, fills = [0, n - n // 10, n], [0, 0]
    else:
        clusters, variants, follow_ups = plan(20_000, random.Random(seed))
        bounds, fills = [0, 10_000, 20_000], [90_000, n - 100_000]
    base = synthetic_base(seed, follow_ups)
    runs, fill_seconds = [], 0.0
    Store(db).close()  # the schema, before anything is written
    for (start, end), fill in zip(zip(bounds, bounds[1:]), fills):
        if fill:
            fill_seconds += fill_store(db, fill, seed)
            print(f"  store filled with {fill:,} unlabelled articles", flush=True)
        with sqlite3.connect(db) as conn:
            stored = stored_records(conn)
        runs += ingest_parts(db, [start, end], clusters, variants, base, seed, workdir, cpu)
        runs[-1]["stored_before"] = stored
        progress(runs)
    result = score(db, clusters, variants, follow_ups)
    with sqlite3.connect(db) as conn:
        filler = {"filler_records": stored_records(conn, FILLER_SITE),
                  "filler_articles": conn.execute("SELECT COUNT(*) FROM articles WHERE site = ?",
                                                  [FILLER_SITE]).fetchone()[0]}
    result.update({
        "ingest_runs": runs, **filler, "fill_seconds": round(fill_seconds),
        "records_per_s": round(sum(run["records"] for run in runs) / sum(run["seconds"] for run in runs)),
        "records_per_s_at_size": runs[-1]["records_per_s"],
        "records_per_cpu_s_at_size": runs[-1]["records_per_cpu_s"],
        "load_average": round(os.getloadavg()[0], 1),
        "peak_rss_mb": max(run["peak_rss_mb"] for run in runs),
        "db_mb": round(sum(p.stat().st_size for p in workdir.glob(f"dedup-{n}.db*")) / 2**20),
    })
    if sum(fills):
        result["rss_ratio_to_100k_stored"] = round(runs[-1]["peak_rss_mb"] / runs[0]["peak_rss_mb"], 3)
    return result


def bench_heldout(workdir: Path, seed: int, cpu: int) -> dict | None:
    if not REAL_TEXTS.is_dir():
        return None
    docs = real_articles()
    clusters, variants, _ = plan(10**9, random.Random(seed), n_bases=len(docs))
    db = workdir / "heldout.db"
    base = lambda cluster: docs[cluster]  # noqa: E731
    runs = ingest_parts(db, [0, len(clusters)], clusters, variants, base, seed, workdir, cpu)
    batching = compare_batching("held-out real texts", lambda out: write_records(
        out, range(len(clusters)), clusters, variants, base, seed), workdir)
    return {**score(db, clusters, variants, {}), "ingest_runs": runs, "batched_vs_per_record": batching}


def compare_synthetic(n: int, workdir: Path, seed: int) -> dict:
    clusters, variants, follow_ups = plan(n, random.Random(seed))
    base = synthetic_base(seed, follow_ups)
    return compare_batching(f"synthetic {n:,}", lambda out: write_records(
        out, range(n), clusters, variants, base, seed), workdir)


def outcomes(db: Path) -> set[tuple[str, str, str]]:
    """(URL, article | exact | near, URL of its article) of every record stored."""
    with sqlite3.connect(db) as conn:
        return set(conn.execute("SELECT url, 'article', url FROM articles UNION ALL "
                                "SELECT d.url, d.kind, a.url FROM duplicates d JOIN articles a ON a.id = d.duplicate_of"))


def compare_batching(label: str, write, workdir: Path) -> dict:
    """The records `write(out)` makes, ingested in batches of ingest.BATCH_SIZE and one at a
    time (each admitted alone after the ones before it: the per-record path), into two
    databases: the records whose outcome or original differ."""
    path = workdir / f"compare-{label}.jsonl"
    with path.open("wb") as out:
        write(out)
    found = {}
    for batch_size in (ingest.BATCH_SIZE, 1):
        db = workdir / f"compare-{label}-{batch_size}.db"
        store = Store(db)
        with path.open("rb") as lines:
            counts = ingest.ingest(store, lines, lambda number, reason: None, batch_size=batch_size)
        store.close()
        found[batch_size] = outcomes(db)
    batched, alone = found[ingest.BATCH_SIZE], found[1]
    result = {"records": counts["records"], "batch_size": ingest.BATCH_SIZE,
              "differing_records": len({url for url, _kind, _original in batched ^ alone}), "identical": batched == alone}
    print(f"{label}: batches of {ingest.BATCH_SIZE} and one record at a time give "
          f"{'the same' if batched == alone else 'DIFFERENT'} outcomes and originals for {counts['records']:,} records "
          f"({result['differing_records']} differ)", flush=True)
    return result


def print_result(label: str, result: dict) -> None:
    print(f"{label}: precision {result['precision']:.4f}, recall {result['recall']:.4f} "
          f"({result['links']:,} links, {result['wrong_links']} wrong, {result['true_duplicates']:,} true copies)")
    print("  recall by variant: " + ", ".join(f"{k} {v:.3f}" for k, v in result["recall_by_variant"].items()))
    if "records_per_s" in result:
        stored = result["ingest_runs"][-1]["stored_before"] + result["ingest_runs"][-1]["records"]
        print(f"  {result['records_per_s']:,} records/s overall; at {stored:,} stored "
              f"{result['records_per_s_at_size']:,} records/s, {result['records_per_cpu_s_at_size']:,} per CPU second "
              f"(load average {result['load_average']}); peak RSS {result['peak_rss_mb']} MB; database {result['db_mb']} MB")


def save(results: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated corpus sizes")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--compare", type=int, default=20_000,
                        help="records of the synthetic corpus ingested both in batches and one at a time, "
                             "whose outcomes must agree (default: 20000; 0: skip)")
    parser.add_argument("--cpu", type=int, default=0, help="the CPU that the ingest processes are pinned to")
    parser.add_argument("--workdir", type=Path, help="where corpora and databases go (default: a temp folder, removed)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "dedup.json")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="dedup-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    results = {
        "command": " ".join(["python bench/dedup.py", *sys.argv[1:]]), "seed": args.seed,
        "machine": {"cpu": platform.processor() or platform.machine(), "python": platform.python_version(),
                    "cores_used": 1},
        "method": {"shingle_chars": dedup.SHINGLE_CHARS, "num_perm": dedup.NUM_PERM, "bands": dedup.BANDS,
                   "rows": dedup.ROWS, "near_similarity": dedup.NEAR_SIMILARITY,
                   "min_length_ratio": dedup.MIN_LENGTH_RATIO, "min_near_chars": dedup.MIN_NEAR_CHARS},
        "targets": TARGETS, "sizes": {},
    }
    try:
        heldout = bench_heldout(workdir, args.seed, args.cpu)
        if heldout:
            results["heldout_real_texts"] = heldout
            print_result(f"held-out real texts ({heldout['records']} records)", heldout)
        if args.compare:
            results["batched_vs_per_record"] = compare_synthetic(args.compare, workdir, args.seed)
            save(results, args.out)
        for n in sizes:
            print(f"size {n:,}", flush=True)
            def progress(runs, n=n):  # partial figures survive an interrupted run
                results["sizes"][str(n)] = {"unfinished": True, "ingest_runs": runs}
                save(results, args.out)

            results["sizes"][str(n)] = result = bench_size(n, workdir, args.seed, args.cpu, progress)
            print_result(f"size {n:,}", result)
            if "rss_ratio_to_100k_stored" in result:
                print(f"  peak RSS at {n:,} stored / at 100,000 stored: {result['rss_ratio_to_100k_stored']}")
            save(results, args.out)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
