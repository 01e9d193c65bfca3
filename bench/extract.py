"""Extraction speed on real Chinese government pages: ours against trafilatura, and over cores.

    .venv/bin/python bench/extract.py [--repeat 8] [--rounds 4]

On ../shared/data/chinese_wced/original/*.html (69 real portal pages), in one run:

  1. ms per page (median, p90, mean) of our chain (decode, extract, clean: what `crawler
     extract` does per page) and of trafilatura alone (`bare_extraction` with metadata on the
     decoded page, as ../shared/eval/score.py runs it), page by page in turn, each timed
     `--rounds` times (best kept, for both alike); with the body F1 of each (score.py's
     metric) on the same pages.
  2. pages/s of `crawler extract --jobs N` (the command, start-up included) over the pages
     repeated `--repeat` times, for N = 1, 2 and all cores.
  3. pages/s of re-extraction (crawler.chain.reextract, what `crawler reextract --jobs N` runs) over a
     store holding the same pages as a crawl keeps them (every copy an article), for N = 1, 2
     and all cores, each in a process allowed to run on N cores only (sched_setaffinity).

Writes bench/results/extract.json.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import trafilatura

from crawler.article.decode import decode_html
from crawler.article.items import Page
from crawler.chain.process import keyed_record_of, record_of
from crawler.chain.reextract import reextract
from crawler.storage.store import Store
from crawler.chain.workers import cores, start_pool

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# ../shared beside the clone (or beside a worktree's parent folder)
SHARED = next((p / "shared" for p in ROOT.parents if (p / "shared" / "eval").is_dir()), ROOT.parent / "shared")
DATASET = SHARED / "data" / "chinese_wced"
RESULTS = HERE / "results" / "extract.json"


def _score_module():
    """../shared/eval/score.py, for its F1 metric (not copied: it is the project's yardstick)."""
    spec = importlib.util.spec_from_file_location("score", SHARED / "eval" / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def trafilatura_alone(body: bytes) -> str:
    doc = trafilatura.bare_extraction(decode_html(body).text, with_metadata=True)
    return (doc.as_dict().get("text") if doc is not None else "") or ""


def ms_stats(seconds: list[float]) -> dict:
    ms = sorted(s * 1000 for s in seconds)
    return {"median": round(statistics.median(ms), 2), "p90": round(ms[int(0.9 * (len(ms) - 1))], 2),
            "mean": round(statistics.mean(ms), 2)}


def per_page_times(pages: list[bytes], rounds: int) -> tuple[dict, list[str], list[str]]:
    """Best-of-`rounds` time of each page for both extractors, alternating page by page."""
    ours, theirs = [float("inf")] * len(pages), [float("inf")] * len(pages)
    our_bodies, their_bodies = [""] * len(pages), [""] * len(pages)
    record_of(Page(url="", site=None, body=pages[0]))  # warm-up: imports, dictionaries
    trafilatura_alone(pages[0])
    for _ in range(rounds):
        for i, body in enumerate(pages):
            started = time.perf_counter()
            our_bodies[i] = record_of(Page(url="", site=None, body=body))["body"]
            ours[i] = min(ours[i], time.perf_counter() - started)
            started = time.perf_counter()
            their_bodies[i] = trafilatura_alone(body)
            theirs[i] = min(theirs[i], time.perf_counter() - started)
    return {"ours_ms": ms_stats(ours), "trafilatura_ms": ms_stats(theirs),
            "median_ratio": round(statistics.median(ours) / statistics.median(theirs), 3),
            "mean_ratio": round(sum(ours) / sum(theirs), 3)}, our_bodies, their_bodies


def command_rate(files: list[str], jobs: int) -> float:
    started = time.perf_counter()
    out = subprocess.run([str(Path(sys.executable).parent / "crawler"), "extract", "--jobs", str(jobs), *files],
                         cwd=ROOT, capture_output=True, text=True, timeout=1800)
    elapsed = time.perf_counter() - started
    lines = out.stdout.splitlines()
    if len(lines) != len(files) or any('"error"' in line[:200] for line in lines):
        sys.exit(f"crawler extract --jobs {jobs} failed: {out.stderr[-1500:]}")
    return len(files) / elapsed


def stored_pages(pages: list[bytes], repeat: int, folder: str) -> Path:
    """A store holding every page `repeat` times under distinct URLs, each copy an article of its
    own with its raw page, as a crawl keeps them (stored past the duplicate checks, which would
    keep one article per page and make the others duplicates, not re-extracted)."""
    db = Path(folder) / "reextract.db"
    store = Store(db)
    store.batch_writes(500, 60.0)
    for copy in range(repeat):
        for i, body in enumerate(pages):
            record, keys = keyed_record_of(Page(url=f"http://gov.test/{copy}/{i}.html", site="dev", body=body))
            record["body"] += f"\n(copy {copy})"  # re-extraction takes the mark away: every article changes
            record.update(canonical_url=keys.canonical_url, content_hash=f"{keys.content_hash}-{copy}")
            store.add_article(record, body, "text/html", keys.fingerprint)
    store.close()
    return db


def reextract_rate(db: Path, jobs: int) -> float:
    """pages/s of re-extracting every stored page (they come out changed: the copy marks go), in
    a process of its own that may run on `jobs` cores only, its workers and writes thread
    included: the 1-core figure is one core doing everything, not one worker helped by the
    other core (the writes thread alone keeps a core half busy)."""
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "copy.db"
        copy.write_bytes(db.read_bytes())  # each run starts from the same store
        out = subprocess.run([sys.executable, __file__, "--reextract-on-cores", str(jobs), str(copy)],
                             cwd=ROOT, capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        sys.exit(f"re-extraction on {jobs} cores failed: {out.stderr[-1500:]}")
    return float(out.stdout.split()[-1])


def reextract_on_cores(n: int, db: Path) -> None:
    """(In the child process) the first `n` allowed CPUs only, then `reextract(..., jobs=n)`;
    prints pages/s."""
    os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:n])
    with start_pool(1) as pool:  # the forkserver starts now, on these cores, and outside the timing
        pool.submit(int).result()
    store = Store(db)
    started = time.perf_counter()
    report = reextract(store, {}, jobs=n)
    elapsed = time.perf_counter() - started
    store.close()
    if report.failed:
        sys.exit(f"re-extraction failed: {report.failed[:3]}")
    print(f"pages/s {sum(report.examined.values()) / elapsed}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=8, help="copies of the 69 pages for the pages/s figures")
    parser.add_argument("--rounds", type=int, default=4, help="timing rounds; the best of each is kept (and the medians printed)")
    parser.add_argument("--reextract-on-cores", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reextract_on_cores:  # inside the child process
        reextract_on_cores(int(args.reextract_on_cores[0]), Path(args.reextract_on_cores[1]))
        return
    files = sorted(str(p) for p in (DATASET / "original").glob("*.html"))
    if not files:
        sys.exit(f"no pages in {DATASET / 'original'}")
    pages = [Path(f).read_bytes() for f in files]
    n_cores = cores()
    load_at_start = round(os.getloadavg()[0], 2)
    print(f"{len(pages)} pages from {DATASET}, median {statistics.median(map(len, pages)) / 1024:.0f} KB; "
          f"{n_cores} cores, load average {load_at_start}; python {platform.python_version()}")

    timing, our_bodies, their_bodies = per_page_times(pages, args.rounds)
    score = _score_module()
    gold = {item["file"]: item["body"] for item in score.load(DATASET)}
    f1 = {name: round(statistics.mean(score.prf(body, gold[f])[2] for f, body in zip(files, bodies)), 3)
          for name, bodies in (("ours", our_bodies), ("trafilatura", their_bodies))}
    for name in ("ours", "trafilatura"):
        t = timing[f"{name}_ms"]
        print(f"{name:12s} ms/page median {t['median']:.1f}  p90 {t['p90']:.1f}  mean {t['mean']:.1f}  "
              f"body F1 {f1[name]:.3f}")
    print(f"ours / trafilatura: median {timing['median_ratio']}  mean {timing['mean_ratio']}")

    worker_counts = sorted({1, 2, n_cores})
    repeated = files * args.repeat
    command: dict[int, list[float]] = {n: [] for n in worker_counts}
    reextracted: dict[int, list[float]] = {n: [] for n in worker_counts}
    with tempfile.TemporaryDirectory() as folder:
        db = stored_pages(pages, args.repeat, folder)
        # The forkserver that pools fork their workers from starts once per process (importing
        # the extraction chain takes a second or two), as in a crawl: not part of the rate.
        with start_pool(1) as pool:
            pool.submit(int).result()
        for _ in range(args.rounds):  # alternate the worker counts
            for n in worker_counts:
                command[n].append(command_rate(repeated, n))
                reextracted[n].append(reextract_rate(db, n))
    # The best of each count is the usual figure on a machine that other work slows down; the
    # median says how much that choice matters.
    for name, rates in (("crawler extract", command), ("re-extraction", reextracted)):
        best = {n: max(rates[n]) for n in worker_counts}
        print(f"{name:16s}" + "  ".join(f"{n} core{'s' if n > 1 else ''}: {best[n]:.1f} pages/s" for n in worker_counts)
              + f"  (2 vs 1: best {best[2] / best[1]:.2f}x, "
              f"median {statistics.median(rates[2]) / statistics.median(rates[1]):.2f}x)")
    report = {
        "machine": {"cores": n_cores, "cpu_count": os.cpu_count(), "python": platform.python_version(),
                    "load_average_at_start": load_at_start,
                    "load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
        "pages": len(pages), "repeat": args.repeat, "rounds": args.rounds,
        "per_page": timing, "body_f1": f1,
        "crawler_extract_pages_per_s": {str(n): round(max(r), 1) for n, r in command.items()},
        "reextract_pages_per_s": {str(n): round(max(r), 1) for n, r in reextracted.items()},
        "crawler_extract_scaling_2_vs_1": round(max(command[2]) / max(command[1]), 2),
        "reextract_scaling_2_vs_1": round(max(reextracted[2]) / max(reextracted[1]), 2),
        "reextract_scaling_2_vs_1_median": round(statistics.median(reextracted[2]) / statistics.median(reextracted[1]), 2),
        "rounds_pages_per_s": {"crawler_extract": {str(n): [round(x, 1) for x in r] for n, r in command.items()},
                               "reextract": {str(n): [round(x, 1) for x in r] for n, r in reextracted.items()}},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=1) + "\n", "utf-8")
    print(f"written: {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
