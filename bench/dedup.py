"""Deduplication benchmark: precision, recall, records/s and peak RSS of `crawler ingest` as the
store grows.

    .venv/bin/python bench/dedup.py                        # 10k, 100k and 1M records (~45 min)
    .venv/bin/python bench/dedup.py --sizes 10000,100000   # the quick part

For each size N it writes a synthetic corpus with known duplicate clusters (bench/corpus.py) as
JSON lines and ingests it with the real `crawler ingest` command pinned to one CPU: the first
90% of the records in one run, the last 10% in a second run on the same database, so the
on-disk index is used across runs and processes and the second rate is the rate at N stored
records. Then it reads back `articles` and `duplicates` and scores them against the clusters.

A held-out check does the same on real Chinese texts that the thresholds were never tuned on:
the pages of ../shared/data/chinese_wced/cleaned (read here only, never committed), cut into
articles and republished with the same transformations.

Figures are printed and written to bench/results/dedup.json (ratios come from one run).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import corpus  # noqa: E402  (bench/ is not a package)

from crawler import dedup  # noqa: E402

REAL_TEXTS = ROOT.parent / "shared" / "data" / "chinese_wced" / "cleaned"
COPIED_SHARE = 0.2  # of original articles, republished 1-3 times
FOLLOW_UP_SHARE = 0.05  # of the others, a different article that repeats an earlier one's lead
SITES = 50
CPU = 0
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


def write_records(path: Path, positions: range, clusters, variants, base, seed: int) -> None:
    names = list(corpus.VARIANTS)
    with path.open("w", encoding="utf-8") as out:
        for i in positions:
            doc = base(int(clusters[i]))
            if variants[i] >= 0:
                doc = corpus.VARIANTS[names[variants[i]]](doc, random.Random(seed * 10**9 + i))
            site = f"site{i % SITES}"
            out.write(json.dumps({"url": f"http://www.{site}.test/news/{i}.html", "site": site,
                                  "title": doc["title"], "published": doc["published"], "body": doc["body"]},
                                 ensure_ascii=False) + "\n")


# --- running and scoring -----------------------------------------------------------------------------
def run_ingest(path: Path, db: Path, records: int) -> dict:
    """`crawler ingest` in a child process on one CPU: wall time and the child's peak RSS."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    with open(path.with_suffix(".out"), "w") as out, open(path.with_suffix(".err"), "w") as err:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "crawler.cli", "ingest", str(path), "--db", str(db)],
                                cwd=ROOT, env=env, stdout=out, stderr=err,
                                preexec_fn=lambda: os.sched_setaffinity(0, {CPU}))
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    summary = path.with_suffix(".out").read_text().strip().splitlines()
    if code != 0:
        raise SystemExit(f"ingest of {path} exited {code}: {path.with_suffix('.err').read_text()[-2000:]}")
    cpu_seconds = usage.ru_utime + usage.ru_stime
    return {"records": records, "seconds": round(seconds, 1), "records_per_s": round(records / seconds),
            "cpu_seconds": round(cpu_seconds, 1), "records_per_cpu_s": round(records / cpu_seconds),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "summary": summary[0] if summary else ""}


def score(db: Path, clusters, variants, follow_ups: dict) -> dict:
    """Precision of the duplicate links and recall of the later copies, against the clusters."""
    position = lambda url: int(url.rsplit("/", 1)[1].split(".")[0])  # noqa: E731
    conn = sqlite3.connect(db)
    article_position = np.full(conn.execute("SELECT MAX(id) FROM articles").fetchone()[0] + 1, -1)
    for article_id, url in conn.execute("SELECT id, url FROM articles"):
        article_position[article_id] = position(url)
    n = len(clusters)
    copy_of = np.full(n, -1)
    kinds = {}
    for url, duplicate_of, kind in conn.execute("SELECT url, duplicate_of, kind FROM duplicates"):
        copy_of[position(url)] = article_position[duplicate_of]
        kinds[kind] = kinds.get(kind, 0) + 1
    conn.close()
    linked = copy_of >= 0
    right = linked & (clusters[np.where(linked, copy_of, 0)] == clusters)
    later = np.ones(n, dtype=bool)  # a record whose cluster already had a record before it
    later[np.unique(clusters, return_index=True)[1]] = False
    by_variant = {"original after a copy": later & (variants == -1)}
    by_variant.update({name: later & (variants == v) for v, name in enumerate(corpus.VARIANTS)})
    follow_up = np.isin(clusters, list(follow_ups)) & (variants == -1)
    return {
        "records": n, "articles": int(n - linked.sum()), "duplicates": kinds,
        "true_duplicates": int(later.sum()), "links": int(linked.sum()), "wrong_links": int((linked & ~right).sum()),
        "precision": round(float(right.sum() / max(linked.sum(), 1)), 5),
        "recall": round(float((right & later).sum() / max(later.sum(), 1)), 5),
        "recall_by_variant": {name: round(float((right & mask).sum() / max(mask.sum(), 1)), 4)
                              for name, mask in by_variant.items() if mask.any()},
        "near_miss_follow_ups": int(follow_up.sum()), "follow_ups_linked": int((follow_up & linked & ~right).sum()),
    }


def bench_size(n: int, workdir: Path, seed: int) -> dict:
    rng = random.Random(seed)
    clusters, variants, follow_ups = plan(n, rng)
    base = synthetic_base(seed, follow_ups)
    tail = n // 10
    first, second = workdir / f"corpus-{n}-a.jsonl", workdir / f"corpus-{n}-b.jsonl"
    start = time.perf_counter()
    write_records(first, range(0, n - tail), clusters, variants, base, seed)
    write_records(second, range(n - tail, n), clusters, variants, base, seed)
    print(f"  corpus of {n:,} records written in {time.perf_counter() - start:.0f} s", flush=True)
    db = workdir / f"dedup-{n}.db"
    runs = [run_ingest(first, db, n - tail), run_ingest(second, db, tail)]
    for run in runs:
        print(f"  ingest {run['records']:,}: {run['records_per_s']:,} records/s ({run['records_per_cpu_s']:,} per CPU "
              f"second), peak RSS {run['peak_rss_mb']} MB - {run['summary']}", flush=True)
    result = score(db, clusters, variants, follow_ups)
    result.update({
        "ingest_runs": runs,
        "records_per_s": round(n / sum(run["seconds"] for run in runs)),
        "records_per_s_at_size": runs[1]["records_per_s"],
        "records_per_cpu_s_at_size": runs[1]["records_per_cpu_s"],
        "load_average": round(os.getloadavg()[0], 1),
        "peak_rss_mb": max(run["peak_rss_mb"] for run in runs),
        "db_mb": round(sum(p.stat().st_size for p in workdir.glob(f"dedup-{n}.db*")) / 2**20),
    })
    return result


def bench_heldout(workdir: Path, seed: int) -> dict | None:
    if not REAL_TEXTS.is_dir():
        return None
    docs = real_articles()
    clusters, variants, _ = plan(10**9, random.Random(seed), n_bases=len(docs))
    path, db = workdir / "heldout.jsonl", workdir / "heldout.db"
    write_records(path, range(len(clusters)), clusters, variants, lambda cluster: docs[cluster], seed)
    run = run_ingest(path, db, len(clusters))
    result = score(db, clusters, variants, {})
    result["ingest_runs"] = [run]
    return result


def print_result(label: str, result: dict) -> None:
    print(f"{label}: precision {result['precision']:.4f}, recall {result['recall']:.4f} "
          f"({result['links']:,} links, {result['wrong_links']} wrong, {result['true_duplicates']:,} true copies)")
    print("  recall by variant: " + ", ".join(f"{k} {v:.3f}" for k, v in result["recall_by_variant"].items()))
    if "records_per_s" in result:
        print(f"  {result['records_per_s']:,} records/s overall; at {result['records']:,} stored "
              f"{result['records_per_s_at_size']:,} records/s, {result['records_per_cpu_s_at_size']:,} per CPU second "
              f"(load average {result['load_average']}); peak RSS {result['peak_rss_mb']} MB; database {result['db_mb']} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated corpus sizes")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, help="where corpora and databases go (default: a temp folder, removed)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "dedup.json")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="dedup-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    results = {
        "command": "python bench/dedup.py --sizes " + args.sizes, "seed": args.seed,
        "machine": {"cpu": platform.processor() or platform.machine(), "python": platform.python_version(),
                    "cores_used": 1},
        "method": {"shingle_chars": dedup.SHINGLE_CHARS, "num_perm": dedup.NUM_PERM, "bands": dedup.BANDS,
                   "rows": dedup.ROWS, "near_similarity": dedup.NEAR_SIMILARITY,
                   "min_length_ratio": dedup.MIN_LENGTH_RATIO, "min_near_chars": dedup.MIN_NEAR_CHARS},
        "targets": TARGETS, "sizes": {},
    }
    try:
        heldout = bench_heldout(workdir, args.seed)
        if heldout:
            results["heldout_real_texts"] = heldout
            print_result(f"held-out real texts ({heldout['records']} records)", heldout)
        for n in sizes:
            print(f"size {n:,}", flush=True)
            results["sizes"][str(n)] = bench_size(n, workdir, args.seed)
            print_result(f"size {n:,}", results["sizes"][str(n)])
            if "100000" in results["sizes"] and "1000000" in results["sizes"]:
                results["rss_ratio_1m_to_100k"] = round(
                    results["sizes"]["1000000"]["peak_rss_mb"] / results["sizes"]["100000"]["peak_rss_mb"], 3)
                print(f"peak RSS 1M / 100k: {results['rss_ratio_1m_to_100k']}")
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")
            for leftover in workdir.glob(f"corpus-{n}-*.jsonl"):
                leftover.unlink()
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
