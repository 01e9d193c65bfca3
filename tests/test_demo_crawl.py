"""End to end: the demo command crawls the five demo sites over HTTP into SQLite.

These tests read the rows a real crawl stored and compare them field by field with the seed
records in ../shared/seeds/expected and with the demo sites' own article content.
"""
from __future__ import annotations

import json
import os

import pytest

from conftest import CHROMIUM, SEED_EXPECTED, connect, run_crawler, seed_expectations
from crawler.article.dedup import canonical_url, original_rank
from crawler.demo.scripted import SCRIPTED_SITES
from crawler.demo.sites import SITES, all_articles

SEED_SITES = {"000": "laowu", "001": "investchn", "002": "huaian", "003": "gdcyxx", "004": "czgx"}


def _seeds():
    expectations = seed_expectations()
    if not expectations:
        if os.environ.get("CI"):
            pytest.fail(f"seed records missing: {SEED_EXPECTED}")
        pytest.skip(f"seed records not available at {SEED_EXPECTED}")
    return expectations


@pytest.mark.parametrize("number", sorted(SEED_SITES))
def test_seed_article_matches_its_expected_record(demo_db, number):
    expected = next(e for e in _seeds() if e["seed"].startswith(number))
    with connect(demo_db) as db:
        row = db.execute("SELECT * FROM articles WHERE site = ? AND title = ?",
                         [SEED_SITES[number], expected["title"]]).fetchone()
    assert row is not None, f"seed {number}: no stored article titled {expected['title']!r}"
    assert row["published"] == expected["published"]
    assert row["source"] == expected["source"]
    assert row["script"] == expected["script"]
    if "summary" in expected:
        assert row["summary"] == expected["summary"]
    assert row["body"].split("\n") == expected["body"]
    stored = json.dumps(dict(row), ensure_ascii=False)
    leaked = [junk for junk in expected["must_not_contain"] if junk in stored]
    assert not leaked, f"seed {number}: junk in the stored row: {leaked}"


def _stored(db, site, title):
    """The row of an article as stored, whether as an article or as a duplicate of one."""
    row = db.execute("SELECT * FROM articles WHERE site = ? AND title = ?", [site, title]).fetchone()
    if row is None:
        row = db.execute(
            "SELECT a.*, d.site AS copy_site FROM duplicates d JOIN articles a ON a.id = d.duplicate_of "
            "WHERE d.site = ? AND a.title = ?", [site, title]).fetchone()
    return row


@pytest.mark.parametrize("site", sorted(SITES))
def test_every_demo_article_is_stored_with_its_own_text(demo_db, site):
    """Non-seed articles are written in Simplified Chinese; Traditional sites serve them converted
    (s2t) and annotated with pinyin. The stored record must give back the original text."""
    articles = [a for a in SITES[site].articles if not a.verbatim]
    assert len(articles) >= 11
    with connect(demo_db) as db:
        for article in articles:
            row = _stored(db, site, article.title)
            assert row is not None, f"{site}: {article.title} not stored"
            assert row["body"].split("\n") == list(article.paragraphs), f"{site}: body of {article.title}"
            shown = SITES[row["site"]].date_format  # the date as the page that was stored prints it
            expected = article.published if shown and "%H" in shown else (article.published or "")[:10] or None
            assert row["published"] == (expected if shown else None)
            if article.summary and row["site"] == article.home == site:  # only its home site shows 导读
                assert row["summary"] == article.summary
            for junk in ("上一篇", "上一条", "分享", "版权", "热线", "声明", "导读", "(", "（q"):
                assert junk not in row["title"]


def test_each_site_has_a_dozen_articles_over_several_list_pages(demo_run):
    db, _ = demo_run
    with connect(db) as db:
        for site in SITES:
            stored = db.execute("SELECT COUNT(*) FROM articles WHERE site = ?", [site]).fetchone()[0]
            copies = db.execute("SELECT COUNT(*) FROM duplicates WHERE site = ?", [site]).fetchone()[0]
            assert stored + copies >= 12, site
            run = db.execute("SELECT * FROM crawl_runs WHERE site = ?", [site]).fetchone()
            assert run["pages_fetched"] >= 15, site  # robots.txt + 3 list pages + 12 articles


def test_republished_articles_are_stored_once_and_linked_as_duplicates(demo_db):
    with connect(demo_db) as db:
        copies = [(site, slug, home) for site in SITES.values() for home, slug in site.republish]
        assert len(copies) >= 3
        for site, slug, home in copies:
            title = next(a.title for a in all_articles(home) if a.slug == slug)
            originals = db.execute("SELECT id, site FROM articles WHERE title = ?", [title]).fetchall()
            assert len(originals) == 1, f"{title}: stored {len(originals)} times"
            linked = db.execute("SELECT kind, similarity, site FROM duplicates WHERE duplicate_of = ?",
                                [originals[0]["id"]]).fetchall()
            assert len(linked) == 1 and linked[0]["kind"] == "exact"
            assert {originals[0]["site"], linked[0]["site"]} == {site.name, home}


def test_each_duplicate_group_is_stored_under_its_earliest_published_copy(demo_db):
    """Whatever order the crawl reached the copies in (it differs from run to run), the article
    row is the copy that `original_rank` puts first: here the one with a date, or with a time."""
    with connect(demo_db) as db:
        groups = {}
        for row in db.execute("SELECT article_id, url, kind, published, fetched_at FROM copies WHERE article_id IN "
                              "(SELECT duplicate_of FROM duplicates)"):
            groups.setdefault(row["article_id"], []).append(row)
    assert len(groups) >= 3
    for rows in groups.values():
        first = min(rows, key=lambda r: original_rank(r["published"], r["fetched_at"], canonical_url(r["url"])))
        assert first["kind"] == "original", [dict(r) for r in rows]
    published = {row["url"].rsplit("/", 1)[1]: row["published"] for rows in groups.values() for row in rows
                 if row["kind"] == "original"}
    assert published["h1003.html"] == "2024-04-16T10:20:00+08:00"  # czgx's copy has no date
    assert published["h1002.html"] == "2024-03-28T16:45:00+08:00"  # gdcyxx's copy has the day only


def test_broken_empty_and_missing_pages_are_counted_and_never_stored(demo_db):
    with connect(demo_db) as db:
        run = db.execute("SELECT * FROM crawl_runs WHERE site = 'investchn'").fetchone()
        assert run["http_errors"] == 1  # the 404 article
        assert run["empty_bodies"] == 1
        assert run["errors"] == 2 and run["status"] == "partial"
        urls = [r[0] for r in db.execute("SELECT url FROM articles WHERE site = 'investchn'")]
        assert not [u for u in urls if "missing" in u or "empty" in u]
        broken = db.execute("SELECT * FROM articles WHERE url LIKE '%/broken.html'").fetchone()
        held_back = all_articles("investchn")[-1]
        assert broken["title"] == held_back.title
        assert broken["body"].split("\n") == list(held_back.paragraphs)
        assert db.execute("SELECT COUNT(*) FROM articles WHERE body = '' OR body IS NULL").fetchone()[0] == 0
        assert "\ufffd" not in "".join(r[0] for r in db.execute("SELECT body FROM articles"))


def test_summary_table_lists_every_site(demo_run):
    _, result = demo_run
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["site", "status", "pages"]
    for site in SITES:
        assert any(line.split()[0] == site for line in lines[1:-1]), site


def test_second_run_adds_no_rows_and_requests_no_known_article(tmp_path):
    db = tmp_path / "again.db"
    first = run_crawler("demo", "--db", str(db))
    assert first.returncode == 0, first.stderr
    with connect(db) as conn:
        before = [conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("articles", "duplicates")]
    second = run_crawler("demo", "--db", str(db))
    assert second.returncode == 0, second.stderr
    with connect(db) as conn:
        after = [conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("articles", "duplicates")]
        runs = conn.execute("SELECT * FROM crawl_runs WHERE id > (SELECT COUNT(*) / 2 FROM crawl_runs)").fetchall()
    assert after == before
    assert len(runs) == len(SITES) + (len(SCRIPTED_SITES) if CHROMIUM.exists() else 0)
    for run in runs:
        assert run["articles_new"] == 0 and run["duplicates"] == 0
        assert run["skipped_known"] >= 5  # list page 1's articles: all known, so paging stops there
        assert run["pages_fetched"] <= 6  # robots.txt, list pages and the pages that were never stored
