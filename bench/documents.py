"""What government documents cost: the header-field step per page, and reading attachments.

    .venv/bin/python bench/documents.py [--rounds 5] [--dataset ../shared/data/chinese_wced]

  1. On the 69 real portal pages of the dataset: ms per page (median, p90, mean; best of
     `--rounds` per page) of the whole extraction (`crawler.article.extract.extract`) and of its
     document step alone (`_document`: the marker test, and on pages that pass it the
     block-level lines and the header fields), and how many pages are documents.
  2. ms to read attachments made like the demo's (crawler.demo.files): a 20-page text PDF, a
     scanned PDF of 20 pages, a Word file of 300 paragraphs and a 50-row table, an Excel sheet
     of 2,000 rows (best of `--rounds`).

Writes bench/results/documents.json.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

from crawler.article.extract import _document, extract, parse_page
from crawler.article.filetext import file_text
from crawler.demo.files import docx_file, scanned_pdf, text_pdf, xlsx_file

HERE = Path(__file__).resolve().parent
DATASET = HERE.parent.parent / "shared" / "data" / "chinese_wced"
RESULTS = HERE / "results" / "documents.json"
LINE = "第{}条 为规范区级财政专项资金管理，提高资金使用效益，根据有关法律法规，结合本区实际，制定本办法。"


def best(call, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return min(times)


def ms_stats(seconds: list[float]) -> dict:
    ms = sorted(s * 1000 for s in seconds)
    return {"median": round(statistics.median(ms), 3), "p90": round(ms[int(0.9 * (len(ms) - 1))], 3),
            "mean": round(statistics.mean(ms), 3)}


def pages(dataset: Path, rounds: int) -> dict:
    whole, step, documents = [], [], 0
    for path in sorted((dataset / "original").glob("*.html")):
        body = path.read_bytes()
        sel, encoding, _ = parse_page(body)
        documents += _document(sel, {}, body, encoding) is not None
        whole.append(best(lambda: extract(body), rounds))
        step.append(best(lambda: _document(sel, {}, body, encoding), rounds))
    return {"pages": len(whole), "documents": documents, "extract_ms": ms_stats(whole),
            "document_step_ms": ms_stats(step),
            "document_step_share": round(sum(step) / sum(whole), 4)}


def attachments(rounds: int) -> dict:
    lines = [LINE.format(n) for n in range(1, 301)]
    files = {
        "pdf_text_20_pages": (text_pdf([lines[i:i + 15] for i in range(0, 300, 15)]), "pdf"),
        "pdf_scanned_20_pages": (scanned_pdf(20), "pdf"),
        "docx_300_paragraphs_50_rows": (docx_file(["办法", *lines, *(f"项目{n}|{n * 10}" for n in range(50))]), "docx"),
        "xlsx_2000_rows": (xlsx_file([f"镇街{n}|{n}|2024年4月30日" for n in range(2000)]), "xlsx"),
    }
    found = {}
    for name, (data, kind) in files.items():
        status = file_text(data, kind).status
        found[name] = {"bytes": len(data), "status": status, "ms": round(1000 * best(lambda: file_text(data, kind), rounds), 1)}
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dataset", type=Path, default=DATASET)
    args = parser.parse_args()
    results = {"machine": platform.platform(), "rounds": args.rounds,
               "pages": pages(args.dataset, args.rounds), "attachments": attachments(args.rounds)}
    print(json.dumps(results, ensure_ascii=False, indent=1))
    RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", "utf-8")


if __name__ == "__main__":
    main()
