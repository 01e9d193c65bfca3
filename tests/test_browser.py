"""`crawler serve` in a real browser: headless Chromium (Debian's package, installed by
`make browser-deps`) driven by Playwright against the demo database. Screenshots are kept in
the pytest temporary folder; the README's are copied to $SCREENSHOT_DIR when it is set
(`make screenshots`)."""
from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from conftest import connect
from crawler.report.health import register_sql_functions
from crawler.serve.app import dashboard
from datasette_server import serving
from test_serve import seed_phrase

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
CHART_TIMEOUT_MS = 20_000
README_SCREENSHOTS = ("dashboard.png", "search.png", "article.png")
INTERNAL_TABLES = {"meta", "raw_pages", "frontier", "list_validators", "lsh_bands", "minhashes"}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(chromium, demo_db):
    from playwright.sync_api import sync_playwright

    with serving(demo_db) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, base_url=base)
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(error))
        yield page
        browser.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory):
    folder = tmp_path_factory.mktemp("screenshots")
    yield folder
    if os.environ.get("SCREENSHOT_DIR"):
        for name in README_SCREENSHOTS:
            shutil.copy(folder / name, Path(os.environ["SCREENSHOT_DIR"]) / name)


def search(page, path: str, field: str, text: str, lands_on: str):
    """Type `text` into a page's search field as a person would; the result rows."""
    page.goto(path)
    page.fill(field, text)
    page.press(field, "Enter")
    page.wait_for_url(lands_on)
    return page.locator("table.rows-and-columns tbody tr")


def test_search_box_finds_a_phrase_from_inside_a_seed_article(page, screenshots):
    title, phrase = seed_phrase()
    rows = search(page, "/demo/articles", "input#_search", phrase, "**_search=**")
    assert rows.count() == 1
    assert title in rows.first.inner_text()
    page.screenshot(path=screenshots / "search-table.png", full_page=True)
    # the same through the search query, which shows where in the body the phrase is
    rows = search(page, "/demo/search", "input[name=q]", phrase, "**q=**")
    assert rows.count() == 1
    assert title in rows.first.inner_text() and phrase in rows.first.inner_text()
    page.screenshot(path=screenshots / "search.png")
    assert not page.errors


def test_two_character_search_says_it_falls_back_to_like(page, screenshots):
    rows = search(page, "/demo/articles", "input#_search", "海陵", "**/demo/search?q=**")
    assert rows.count() > 1
    assert "LIKE scan: under 3 characters" in rows.first.inner_text()
    assert "1 or 2 characters" in page.inner_text("body")
    page.screenshot(path=screenshots / "search-short.png", full_page=True)


def test_dashboard_draws_every_chart_from_the_store(page, demo_db, screenshots):
    charts = dashboard("demo")["charts"]
    page.goto("/-/dashboards/health")
    with sqlite3.connect(demo_db) as db:
        register_sql_functions(db)  # as crawler serve's plugin does
        for slug, chart in charts.items():
            rows = db.execute(chart["query"]).fetchall()
            assert rows, f"{slug}: the demo database gives this chart no data"
            card = f"#chart-{slug}"
            if chart["library"] == "metric":
                page.wait_for_selector(f"{card} p", timeout=CHART_TIMEOUT_MS)
                assert page.inner_text(f"{card} p") == str(rows[0][0])
                continue
            # one drawn mark (bar, or point on a line) per row of the chart's query
            marks = f"{card} svg g.role-mark:is(.mark-rect, .mark-symbol) > path"
            page.wait_for_selector(marks, state="attached", timeout=CHART_TIMEOUT_MS)
            assert page.locator(marks).count() == len(rows), slug
    page.screenshot(path=screenshots / "dashboard.png", full_page=True)
    assert not page.errors


def test_an_article_page_reads_as_the_article_with_links_to_its_copies(page, demo_db, screenshots):
    with connect(demo_db) as db:
        article = db.execute("SELECT * FROM articles WHERE id IN (SELECT duplicate_of FROM duplicates) "
                             "ORDER BY id LIMIT 1").fetchone()
        copies = [url for (url,) in db.execute("SELECT url FROM duplicates WHERE duplicate_of = ? "
                                               "ORDER BY fetched_at, id", [article["id"]])]
    page.goto(f"/demo/articles/{article['id']}")
    heading = page.locator("article h1")
    assert heading.inner_text() == article["title"]
    line = page.evaluate("parseFloat(getComputedStyle(document.querySelector('article h1')).lineHeight)")
    box = heading.bounding_box()
    assert box["height"] < 2.5 * line and box["width"] > 400  # a line or two, not a character per line
    assert page.locator("article .body p").all_inner_texts() == article["body"].split("\n")
    byline = page.inner_text("article .byline")
    for value in (article["published"] or "no date given", article["source"], article["site"]):
        assert value in byline
    assert page.locator("article a.original").get_attribute("href") == article["url"]
    assert page.locator("article a.copy").evaluate_all("links => links.map(a => a.href)") == copies
    page.screenshot(path=screenshots / "article.png", full_page=True)
    assert not page.errors


def test_the_home_page_lists_articles_first_and_no_internal_table(page, screenshots):
    page.goto("/")
    listed = page.locator("a[href^='/demo/']").all_inner_texts()
    assert listed[0] == "articles"
    assert not INTERNAL_TABLES & set(listed)
    page.goto("/demo")  # every table (the home page shows Datasette's first five)
    tables = set(page.locator("div.db-table h3 a").all_inner_texts())
    assert {"duplicates", "crawl_runs", "documents", "attachment_files"} <= tables
    assert not INTERNAL_TABLES & tables
    page.screenshot(path=screenshots / "home.png", full_page=True)


def test_the_articles_table_shows_its_first_rows_without_scrolling(page, screenshots):
    page.goto("/demo/articles")
    assert page.locator("details.column-help").get_attribute("open") is None  # folded
    assert not page.locator("dl.column-descriptions").is_visible()
    first = page.locator("table.rows-and-columns tbody tr").first.bounding_box()
    assert first["y"] < page.viewport_size["height"]
    title = page.locator("table.rows-and-columns tbody td.col-title").first.bounding_box()
    assert title["width"] > 150  # the headline is not squeezed into one character per line
    page.screenshot(path=screenshots / "articles-table.png")
