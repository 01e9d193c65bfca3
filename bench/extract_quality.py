"""Extraction quality on real Chinese pages: the project's `crawler extract` against trafilatura,
scored by the shared `score.py` (character-bigram P/R/F1 of the body, title accuracy where the
gold has titles, date accuracy).

    .venv/bin/python bench/extract_quality.py [DATASET]

DATASET defaults to ../shared/data/chinese_wced (69 pages, not in this repo; no title gold).
Also scores tests/markup (the real CMS templates of the tests, with title gold: a regression
check of titles, dates and bodies on government and portal templates, not an independent
measure) and counts the pages whose output holds U+FFFD (replacement characters). Prints the
figures and writes bench/results/extract_quality.json.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# ../shared beside the clone (or beside a worktree's parent folder)
SHARED = next((p / "shared" for p in ROOT.parents if (p / "shared" / "eval").is_dir()), ROOT.parent / "shared")
RESULTS = ROOT / "bench" / "results" / "extract_quality.json"
TEMPLATES = ROOT / "tests" / "markup"
COMMAND = ".venv/bin/crawler extract"


def replacement_pages(dataset: Path) -> int:
    files = sorted(str(p) for p in (dataset / "original").glob("*.html")) or \
        sorted(str(p) for p in (dataset / "html").glob("*.html"))
    out = subprocess.run([str(ROOT / ".venv" / "bin" / "crawler"), "extract", *files], capture_output=True,
                         text=True, cwd=ROOT).stdout
    return sum("\ufffd" in line for line in out.splitlines())


def scored(dataset: Path) -> dict:
    """score.py's figures for ours and trafilatura on one dataset."""
    with tempfile.TemporaryDirectory() as tmp:
        scores = Path(tmp) / "scores.json"
        subprocess.run([sys.executable, str(SHARED / "eval" / "score.py"), str(dataset), "--cmd", COMMAND,
                        "--json", str(scores)], cwd=ROOT, check=True)
        raw = json.loads(scores.read_text("utf-8"))
    keep = ("n", "P", "R", "F1", "empty", "title_acc", "date_acc", "seconds")
    figures = {name: {key: (round(v, 3) if isinstance(v, float) else v) for key, v in raw[name].items() if key in keep}
               for name in ("project", "trafilatura")}
    figures["dataset"] = dataset.name
    figures["command"] = f"score.py {dataset.name} --cmd \"{COMMAND}\""
    figures["worst_pages"] = [[round(f, 3), page] for f, page in raw["project"]["worst"][:5]]
    for name in ("project", "trafilatura"):
        print(dataset.name, name, " ".join(f"{k}={v}" for k, v in figures[name].items()))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", nargs="?", default=str(SHARED / "data" / "chinese_wced"))
    args = parser.parse_args()
    dataset = Path(args.dataset)
    figures = scored(dataset)
    figures["project"]["pages_with_replacement_chars"] = replacement_pages(dataset)
    figures["templates"] = scored(TEMPLATES)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=1, ensure_ascii=False) + "\n")
    print(f"written: {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
