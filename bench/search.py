"""Chinese full-text search over a large store: how fast `crawler serve` answers.

Builds a synthetic store of N articles (default 100,000) through the store's own schema and
triggers, from clauses of the demo articles recombined at random, then searches phrases of 3, 4
and 6 characters cut from random article bodies:
- `search query`: the `search` canned query of `crawler serve` (the 100 most recently published
  matches), in SQLite;
- `table page`: Datasette's own articles page with `_search=` (first page, total count and the
  four facets), through Datasette in this process, as the browser gets it.
It also measures what the index costs a crawl: ms to store one 3,000-character article in its own
transaction, with and without the index triggers.
Prints the figures and writes bench/results/search.json, with the index size.

    .venv/bin/python bench/search.py [--articles 100000] [--queries 60] [--db PATH]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import sqlite3
import tempfile
import time
from pathlib import Path

from crawler.serve.app import SEARCH_SQL, SETTINGS, metadata
from crawler.storage.store import INDEX_ARTICLES_FROM, Store

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "search.json"
SITES = ["czgx", "gdcyxx", "huaian", "investchn", "laowu", "site05", "site06", "site07"]
PHRASE_LENGTHS = (3, 4, 6)
BATCH = 2000
WRITE_SAMPLE = 1000  # articles of WRITE_CHARS stored one per transaction, like a crawl stores pages
WRITE_CHARS = 3000
INSERT_SQL = ("INSERT INTO articles (url, canonical_url, site, title, published, body, content_hash, script, "
              "extractor, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


def clauses() -> list[str]:
    """Every clause of the demo articles, the material of the synthetic corpus."""
    found = set()
    for path in (ROOT / "crawler" / "demo" / "content").glob("*.json"):
        text = json.dumps(json.loads(path.read_text("utf-8")), ensure_ascii=False)
        found.update(c for c in re.split(r"[，。；！？、,;\"\\\[\]{}:]|\\n", text) if len(c) >= 4
                     and re.search(r"[\u4e00-\u9fff]", c))
    return sorted(found)


def articles(count: int, pool: list[str], rng: random.Random):
    for number in range(count):
        body = "。\n".join("，".join(rng.choices(pool, k=rng.randint(2, 5))) for _ in range(rng.randint(4, 9))) + "。"
        day = f"20{rng.randint(18, 25):02d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        url = f"http://bench.test/{number}.html"
        yield (url, url, rng.choice(SITES), rng.choice(pool) + f"（第{number}号）", day, body,
               f"{number:040x}", "hans", "site:bench", "2026-01-01T00:00:00+00:00")


def build(path: Path, count: int, rng: random.Random) -> float:
    """Fill a fresh store through its triggers, in batches like a crawl's transactions."""
    store = Store(path)
    pool = clauses()
    started = time.perf_counter()
    rows = articles(count, pool, rng)
    for _ in range(0, count, BATCH):
        batch = [row for _, row in zip(range(BATCH), rows)]
        insert(store, batch, indexed=True)
    elapsed = time.perf_counter() - started
    store.close()
    return elapsed


def insert(store: Store, rows: list[tuple], indexed: bool) -> None:
    """Store rows in one transaction, adding them to the search index as the Store does."""
    with store.transaction():
        first = store.db.execute("SELECT coalesce(max(id), 0) + 1 FROM articles").fetchone()[0]
        store.db.conn.executemany(INSERT_SQL, rows)
        if indexed:
            store.db.execute(INDEX_ARTICLES_FROM, [first])


def write_cost_ms(folder: Path, indexed: bool, rng: random.Random) -> float:
    """ms to store one long article in its own transaction, with or without the search index."""
    store = Store(folder / f"write-{indexed}.db")
    pool = clauses()
    rows = []
    for row in articles(WRITE_SAMPLE, pool, rng):
        body = row[5]
        while len(body) < WRITE_CHARS:
            body += "。\n" + "，".join(rng.choices(pool, k=4))
        rows.append(row[:5] + (body[:WRITE_CHARS],) + row[6:])
    started = time.perf_counter()
    for row in rows:
        insert(store, [row], indexed)
    elapsed = time.perf_counter() - started
    store.close()
    return round(elapsed / WRITE_SAMPLE * 1000, 2)


def sizes(path: Path) -> dict:
    with sqlite3.connect(path) as db:
        by_table = dict(db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"))
        text = db.execute("SELECT sum(length(CAST(title AS BLOB)) + length(CAST(body AS BLOB))) FROM articles").fetchone()[0]
    index = sum(size for name, size in by_table.items() if name.startswith("articles_fts"))
    return {"file_mb": round(path.stat().st_size / 2**20, 1), "index_mb": round(index / 2**20, 1),
            "articles_mb": round(by_table["articles"] / 2**20, 1), "text_mb": round(text / 2**20, 1)}


def phrases(path: Path, count: int, rng: random.Random) -> list[str]:
    with sqlite3.connect(path) as db:
        top = db.execute("SELECT max(id) FROM articles").fetchone()[0]
        picked = []
        while len(picked) < count:
            body = db.execute("SELECT body FROM articles WHERE id = ?", [rng.randint(1, top)]).fetchone()[0]
            length = PHRASE_LENGTHS[len(picked) % len(PHRASE_LENGTHS)]
            start = rng.randrange(len(body) - length)
            phrase = body[start:start + length]
            if re.fullmatch(r"[\u4e00-\u9fff]+", phrase):  # Chinese characters only
                picked.append(phrase)
    return picked


def summary(times_ms: list[float]) -> dict:
    ordered = sorted(times_ms)
    return {"median_ms": round(statistics.median(ordered), 2),
            "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))], 2), "max_ms": round(ordered[-1], 2)}


def time_search_query(path: Path, queries: list[str]) -> tuple[dict, list[int]]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)  # as Datasette opens it
    times, hits = [], []
    for phrase in queries:
        started = time.perf_counter()
        rows = db.execute(SEARCH_SQL, {"q": phrase}).fetchall()
        times.append((time.perf_counter() - started) * 1000)
        hits.append(len(rows))
        bodies = db.execute(f"SELECT title || body FROM articles WHERE id IN ({','.join('?' * len(rows))})",
                            [row[0] for row in rows]).fetchall()
        assert rows and all(phrase in text for (text,) in bodies), phrase  # found, and only real matches
    db.close()
    return summary(times), hits


def time_table_page(path: Path, queries: list[str]) -> tuple[dict, list[int]]:
    from datasette.app import Datasette

    ds = Datasette([str(path)], metadata=metadata(path.stem), settings=SETTINGS)

    async def run():
        times, totals = [], []
        for phrase in queries:
            started = time.perf_counter()
            response = await ds.client.get(f"/{path.stem}/articles.json", params={"_search": phrase})
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text
            totals.append(response.json()["filtered_table_rows_count"])
        return times, totals

    asyncio.run(ds.client.get("/-/versions.json"))  # start-up work, not part of a search
    times, totals = asyncio.run(run())
    return summary(times), totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--db", type=Path, help="where to build the store (default: a temporary folder)")
    args = parser.parse_args()
    rng = random.Random(12)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "bench.db"
        if path.exists():
            raise SystemExit(f"bench/search.py: {path} exists; give a new path")
        build_s = build(path, args.articles, rng)
        queries = phrases(path, args.queries, rng)
        search_query, hits = time_search_query(path, queries)
        table_page, totals = time_table_page(path, queries)
        write_ms = {"without_index": write_cost_ms(Path(tmp), False, rng),
                    "with_index": write_cost_ms(Path(tmp), True, rng)}
        result = {
            "articles": args.articles, "queries": len(queries), "phrase_lengths": list(PHRASE_LENGTHS),
            "build_s": round(build_s, 1), "articles_per_s": round(args.articles / build_s),
            **sizes(path), "sqlite": sqlite3.sqlite_version,
            "search_query": {**search_query, "median_rows": statistics.median(hits)},
            "table_page": {**table_page, "median_matches": statistics.median(totals), "max_matches": max(totals)},
            "store_one_article_ms": {"chars": WRITE_CHARS, **write_ms},
        }
    print(f"{args.articles} articles ({result['text_mb']} MB of text) stored in batches, as the store writes them, in "
          f"{result['build_s']} s ({result['articles_per_s']}/s); trigram index {result['index_mb']} MB, "
          f"file {result['file_mb']} MB")
    print(f"search query (100 most recently published matches): median {search_query['median_ms']} ms, "
          f"p90 {search_query['p90_ms']} ms, max {search_query['max_ms']} ms over {len(queries)} phrases")
    print(f"table page (first page, count, facets): median {table_page['median_ms']} ms, "
          f"p90 {table_page['p90_ms']} ms, max {table_page['max_ms']} ms; "
          f"matches per phrase: median {result['table_page']['median_matches']}, max {result['table_page']['max_matches']}")
    print(f"storing one {WRITE_CHARS}-character article in its own transaction: {write_ms['with_index']} ms "
          f"with the index, {write_ms['without_index']} ms without")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    print(f"written: {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
