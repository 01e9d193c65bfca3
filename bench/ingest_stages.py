"""Where the time of `crawler ingest` goes, at 90k stored records.

    .venv/bin/python bench/ingest_stages.py            # ~6 minutes: bench/results/ingest_stages.json

bench/dedup.py measures the ingest as a whole (the target is 1,000 records per CPU second at
100k stored). This script takes it apart on the same corpus, in one process pinned to one
CPU: it ingests the first 90k of bench/dedup.py's 100k records into a store, then, on fresh
copies of that store, times the last 10k records

  - through the whole ingest (`crawler.chain.ingest.ingest`, as `crawler ingest` runs it);
  - through the same ingest with the search index left out (its insert into `articles_fts`
    skipped), the difference being the index's share, merges and page cache included;

and the steps that are pure functions, alone, on the same 10k records: JSON, cleaning, URL
canonicalisation, the dedup keys (hash, shingles, MinHash, band keys), and the search index
alone (the 10k's new articles into an empty trigram FTS5 table in one statement: its floor,
with no merges). What is left is the store's lookups and writes and the Python around them.
Each figure is the median of --rounds rounds (this machine's runs differ by 10-30%).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import dedup as dedup_bench  # noqa: E402  (bench/dedup.py: the corpus)

from crawler.chain import ingest  # noqa: E402
from crawler.article.dedup import canonical_url  # noqa: E402
from crawler.chain.process import dedup_keys  # noqa: E402
from crawler.storage.store import Store  # noqa: E402

RECORDS, MEASURED = 100_000, 10_000


def write_corpus(path: Path, seed: int) -> None:
    clusters, variants, follow_ups = dedup_bench.plan(RECORDS, random.Random(seed))
    with path.open("wb") as out:
        dedup_bench.write_records(out, range(RECORDS), clusters, variants, dedup_bench.synthetic_base(seed, follow_ups),
                                  seed)


def ingest_seconds(db: Path, lines: list[bytes], with_search_index: bool = True) -> tuple[float, dict]:
    """CPU seconds of ingesting `lines` into `db`, and the counts."""
    store = Store(db)
    if not with_search_index:
        store._index_new_articles = lambda: None  # the counterfactual measured here, not a mode of the crawler
    start = time.process_time()
    counts = ingest.ingest(store, lines, lambda number, reason: None)
    store.close()
    return time.process_time() - start, dict(counts)


def step_seconds(function, inputs: list) -> tuple[float, list]:
    start = time.process_time()
    outputs = [function(item) for item in inputs]
    return time.process_time() - start, outputs


def search_index_seconds(workdir: Path, articles: list[tuple]) -> float:
    """The trigram index alone: `articles` (id, title, body) into an empty FTS5 table of the
    store's definition, one statement, with room for all its entries in memory (no merges)."""
    db = sqlite3.connect(workdir / "fts.db", isolation_level=None)
    db.execute("DROP TABLE IF EXISTS articles")
    db.execute("DROP TABLE IF EXISTS articles_fts")
    db.execute("CREATE TABLE articles (id INTEGER PRIMARY KEY, title TEXT, body TEXT)")
    db.executemany("INSERT INTO articles VALUES (?, ?, ?)", articles)
    db.execute("CREATE VIRTUAL TABLE articles_fts USING fts5(title, body, content=\"articles\", "
               "content_rowid=\"id\", tokenize=\"trigram\")")
    db.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('hashsize', 1073741824)")
    start = time.process_time()
    db.execute("INSERT INTO articles_fts (rowid, title, body) SELECT id, title, body FROM articles")
    seconds = time.process_time() - start
    db.close()
    return seconds


def measure_round(workdir: Path, base: Path, measured: list[bytes], rounds: dict) -> tuple[dict, list]:
    """One round of every measurement, appended to `rounds`; the counts of the ingest and the
    articles it added (id, title, body)."""
    for name, with_index in (("ingest", True), ("ingest without search index", False)):
        db = workdir / "copy.db"
        shutil.copy(base, db)
        seconds, counts = ingest_seconds(db, measured, with_index)
        rounds[name].append(seconds)
        if with_index:
            new_articles = list(sqlite3.connect(db).execute(
                "SELECT id, title, body FROM articles ORDER BY id DESC LIMIT ?", [counts["new"]]))
        for path in workdir.glob("copy.db*"):
            path.unlink()
    seconds, records = step_seconds(ingest.parse_line, measured)
    rounds["json"].append(seconds)
    seconds, cleaned = step_seconds(ingest.clean_record, records)
    rounds["cleaning"].append(seconds)
    rounds["canonical url"].append(step_seconds(lambda record: canonical_url(record["url"]), cleaned)[0])
    rounds["dedup keys"].append(step_seconds(dedup_keys, cleaned)[0])  # canonical URL included
    rounds["search index alone"].append(search_index_seconds(workdir, new_articles))
    return counts, new_articles


def shares_of(per_record: dict) -> dict:
    """The whole ingest's CPU time per record, split into what was measured apart."""
    shares = {
        "search index (its insert, merges and commit share)":
            per_record["ingest"] - per_record["ingest without search index"],
        "json": per_record["json"], "cleaning": per_record["cleaning"], "canonical url": per_record["canonical url"],
        "dedup keys (hash, shingles, MinHash)": per_record["dedup keys"] - per_record["canonical url"],
    }
    shares["store lookups and writes, and the Python around them"] = per_record["ingest"] - sum(shares.values())
    return shares


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cpu", type=int, default=0, help="the CPU this process is pinned to")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ingest_stages.json")
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.cpu})
    workdir = Path(tempfile.mkdtemp(prefix="ingest-stages-"))
    rounds = {name: [] for name in ("ingest", "ingest without search index", "json", "cleaning", "canonical url",
                                    "dedup keys", "search index alone")}
    try:
        corpus = workdir / "corpus.jsonl"
        write_corpus(corpus, args.seed)
        lines = corpus.read_bytes().splitlines(keepends=True)
        filled, measured = lines[:RECORDS - MEASURED], lines[RECORDS - MEASURED:]
        base = workdir / "base.db"
        fill_seconds, _ = ingest_seconds(base, filled)
        print(f"store filled: {len(filled):,} records in {fill_seconds:.0f} CPU s", flush=True)
        for round_number in range(args.rounds):
            counts, new_articles = measure_round(workdir, base, measured, rounds)
            print(f"round {round_number + 1}: " + ", ".join(
                f"{name} {values[-1] / len(measured) * 1e6:.0f} us" for name, values in rounds.items()), flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    per_record = {name: round(statistics.median(values) / len(measured) * 1e6) for name, values in rounds.items()}
    whole, shares = per_record["ingest"], shares_of(per_record)
    index_floor = round(per_record["search index alone"] * len(measured) / counts["new"])
    print(f"\n{len(measured):,} records ingested at {len(filled):,} stored ({counts}), CPU time per record, "
          f"median of {args.rounds} rounds:")
    print(f"  whole ingest: {whole} us = {1e6 / whole:.0f} records per CPU second")
    for name, value in shares.items():
        print(f"  {name:55s} {value:5d} us  {value / whole:6.1%}")
    print(f"  the search index alone, per new article (floor, no merges): {index_floor} us")
    results = {
        "command": " ".join(["python bench/ingest_stages.py", *sys.argv[1:]]), "records_stored": len(filled),
        "records_measured": len(measured), "counts": counts, "rounds": args.rounds,
        "us_per_record_median": per_record, "shares_us_per_record": shares,
        "search_index_alone_us_per_new_article": index_floor,
        "records_per_cpu_s": round(1e6 / whole), "load_average": round(os.getloadavg()[0], 1),
        "all_rounds_s": {name: [round(value, 3) for value in values] for name, values in rounds.items()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
