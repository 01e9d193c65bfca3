"""Cleaning throughput: articles/s of every cleaning step on 3,000-character articles, one core.

The articles are built from the demo sites' own article text (crawler/demo/content), padded to
3,000 characters, with the junk real pages carry (byline, share and copyright lines, a date
stamp). Half of them are Traditional with toned pinyin annotations, as the Traditional portals
print them, and encoded as Big5; the Simplified half is encoded as GBK. Each article goes
through the same steps as a crawled page after extraction: decode the bytes, then
`clean_article` (whitespace, pinyin, script detection and t2s, 导读, boilerplate filter,
dates, 来源/作者 labels).

    .venv/bin/python bench/clean.py [--articles N]

Prints the figures and writes bench/results/clean.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.article.clean import clean_article  # noqa: E402
from crawler.article.decode import decode_html  # noqa: E402
from crawler.demo.sites import traditional_page_text  # noqa: E402
from crawler.article.items import RawArticle  # noqa: E402

ARTICLE_CHARS = 3000
RESULTS = ROOT / "bench" / "results" / "clean.json"
FETCHED = datetime.fromisoformat("2025-10-15T12:00:00+08:00")
JUNK_TOP = ["发布时间：2024-07-24 10:33  来源：淮安日报  作者：周小平", "【字号：大 中 小】【打印本页】【关闭窗口】",
            "导读：全市一季度重大项目观摩推进会召开。"]
JUNK_BOTTOM = ["责任编辑：王五", "分享到：微信 微博 QQ空间", "扫一扫在手机打开当前页", "上一篇：淮安召开项目推进会",
               "下一篇：海陵区举行项目观摩活动", "版权所有：淮安市人民政府 苏ICP备05003563号"]


def demo_paragraphs() -> list[str]:
    paragraphs = []
    for path in sorted((ROOT / "crawler" / "demo" / "content").glob("*.json")):
        for article in json.loads(path.read_text("utf-8")).get("articles", []):
            paragraphs.extend(article.get("paragraphs") or [])
    return [p for p in paragraphs if len(p) > 20]


def build_articles(count: int) -> list[tuple[bytes, str, str]]:
    """(page bytes, encoding label, script) per article; body paragraphs of ~3,000 characters."""
    paragraphs = demo_paragraphs()
    articles, cursor = [], 0
    for index in range(count):
        body, size = [], 0
        while size < ARTICLE_CHARS:
            paragraph = paragraphs[cursor % len(paragraphs)]
            cursor += 1
            body.append(paragraph[: ARTICLE_CHARS - size])
            size += len(body[-1])
        traditional = index % 2 == 1
        lines = JUNK_TOP + body + JUNK_BOTTOM
        if traditional:
            lines = [traditional_page_text(line) for line in lines]
        encoding = "big5hkscs" if traditional else "gbk"
        articles.append(("\n".join(lines).encode(encoding, "ignore"), encoding, "hant" if traditional else "hans"))
    return articles


def clean_one(data: bytes) -> dict:
    text = decode_html(data).text
    lines = text.split("\n")
    raw = RawArticle(url="http://www.example.gov.cn/art/2024/7/24/art_1_1.html", site=None, extractor="generic",
                     title="淮安市召开一季度重大项目观摩推进会", published=lines[0], source=lines[0],
                     author=lines[0], summary=None, body=lines)
    return clean_article(raw, fetched_at=FETCHED)


def rate(articles: list[bytes], rounds: int) -> tuple[float, float]:
    """(articles per CPU second, articles per wall-clock second), best of several rounds. CPU
    time is what one core spends on the work, whatever else the machine runs; the wall-clock
    rate is lower when other processes compete for the core."""
    best_cpu = best_wall = 0.0
    for _ in range(rounds):
        cpu, wall = time.process_time(), time.perf_counter()
        for data in articles:
            clean_one(data)
        best_cpu = max(best_cpu, len(articles) / (time.process_time() - cpu))
        best_wall = max(best_wall, len(articles) / (time.perf_counter() - wall))
    return round(best_cpu, 1), round(best_wall, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=400, help="articles per round (default 400)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; the best one is reported (default 5)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    articles = build_articles(args.articles)
    checks = [clean_one(data) for data, _, _ in articles[:2]]  # warm up, and check the work is real
    assert checks[0]["script"] == "hans" and checks[1]["script"] == "hant"
    assert "(" not in checks[1]["body"] and "责任编辑" not in checks[1]["body"] and checks[1]["published"]
    simplified = [data for data, _, script in articles if script == "hans"]
    traditional = [data for data, _, script in articles if script == "hant"]
    mixed = rate([data for data, _, _ in articles], args.rounds)
    simplified_rate = rate(simplified, args.rounds)
    traditional_rate = rate(traditional, args.rounds)
    figures = {
        "article_chars": ARTICLE_CHARS,
        "articles_per_round": len(articles),
        "articles_per_cpu_s_mixed": mixed[0],
        "articles_per_cpu_s_simplified": simplified_rate[0],
        "articles_per_cpu_s_traditional": traditional_rate[0],
        "articles_per_wall_s_mixed": mixed[1],
        "articles_per_wall_s_simplified": simplified_rate[1],
        "articles_per_wall_s_traditional": traditional_rate[1],
        "mean_body_chars": round(statistics.mean(len(clean_one(d)["body"]) for d in simplified[:20])),
        "goal_articles_per_s": 300,
        "cores": 1,
        "load_average_1min": round(os.getloadavg()[0], 2),  # other work on the machine slows every figure
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    for key, value in figures.items():
        print(f"{key:32s} {value}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=1) + "\n")
    print(f"written: {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
