"""A site-module field whose selector matches nothing (a layout change, a typo) is filled by the
generic chain, counted per run in crawl_runs.selector_misses, and `crawler report` flags it."""
from __future__ import annotations

import json

from conftest import connect, copy_project, crawl_through, run_crawler
from crawler.article.extract import extract
from crawler.demo.server import DemoServer
from crawler.demo.sites import SITES
from crawler.report.health import health_flags

SITE = SITES["qingxi"]
ARTICLE = SITE.articles[0]


class Typo:
    name = "typo"
    fields = {"title": ".xl-tit", "published": ".xl-infoo", "source": ".xl-info", "body": ".TRS-Editor"}


def test_a_selector_that_matches_nothing_falls_back_to_the_generic_chain_and_says_so():
    raw = extract(SITE.article_page(ARTICLE), f"http://{SITE.host}{SITE.url_of(ARTICLE)}", site=Typo)
    assert raw.selector_misses == ("published", "body")
    assert raw.title == ARTICLE.title  # its own selector still matched
    assert "2024-04-18 10:20" in raw.published  # from the generic chain
    assert raw.body == list(ARTICLE.paragraphs) and raw.extractor == "generic"


def test_the_report_flags_a_selector_that_stopped_matching(tmp_path):
    """A first run of the oldest list page with the module as written; then the site changes its
    byline markup (here: the module's selector no longer fits it) and the next run's new
    articles all miss it."""
    project = copy_project(tmp_path / "project")
    module = project / "spiders" / "qingxi.py"
    written = module.read_text("utf-8")
    db = tmp_path / "qingxi.db"
    with DemoServer() as server:
        module.write_text(written.replace("/xwdt/qxyw/", "/xwdt/qxyw/index_2.html"), "utf-8")
        assert crawl_through(server.url, "qingxi", db, cwd=project).returncode == 0
        module.write_text(written.replace('"published": ".xl-info"', '"published": ".xl-date"'), "utf-8")
        assert crawl_through(server.url, "qingxi", db, cwd=project).returncode == 0
    with connect(db) as conn:
        runs = [dict(row) for row in conn.execute("SELECT * FROM crawl_runs ORDER BY id")]
        dates = [row[0] for row in conn.execute("SELECT published FROM articles WHERE run_id = ?", [runs[1]["id"]])]
    assert [(run["articles_new"], json.loads(run["selector_misses"])) for run in runs] == [(2, {}), (10, {"published": 10})]
    assert len(dates) == 10 and all(dates)  # the generic chain found them all
    assert [flag["flag"] for flag in health_flags(runs)] == ["selector_misses"]
    report = run_crawler("report", "--db", str(db))
    assert report.returncode == 1
    assert "FLAGGED qingxi: selector_misses: the site's selector for published stopped matching" in report.stdout
