"""`crawler serve`: the trigram search index kept by the store, the broken-site rule, and the
real Datasette server over the demo database (search, LIKE fallback, facets, canned queries,
links from copies) and next to a running crawl."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
import sqlite_utils

from conftest import CHROMIUM, ROOT, connect, run_crawler
from crawler.serve.plugin import short_search_target
from crawler.report.health import broken_sites, load_runs, site_reports
from crawler.chain.process import admit
from crawler.demo.scripted import SCRIPTED_SITES
from crawler.demo.sites import SITES
from crawler.serve.app import ARTICLE_COLUMNS, MIN_RATE_ARTICLES, dashboard, metadata
from crawler.storage.store import MIGRATIONS, Store
from datasette_server import get_json, serving, sql_rows

SEEDS = json.loads((ROOT / "crawler/demo/content/seeds.json").read_text("utf-8"))


def seed_phrase() -> tuple[str, str]:
    """The title of the investchn seed article and an 8-character phrase from inside its body."""
    seed = SEEDS["investchn"]
    return seed["title"], seed["paragraphs"][1][12:20]


def record(url, title, body):
    return {"url": url, "site": "a", "extractor": "site:a", "title": title, "published": "2022-07-18",
            "source": None, "author": None, "summary": None, "body": body, "script": "hans",
            "fetched_at": "2026-01-01T00:00:00+00:00"}


def matches(store: Store, phrase: str) -> list[int]:
    quoted = '"' + phrase.replace('"', '""') + '"'
    return [row[0] for row in store.db.execute(
        "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rowid", [quoted])]


# --- the search index in the store -------------------------------------------------------------
def test_migration_indexes_articles_of_an_older_database(tmp_path):
    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    MIGRATIONS[0](old)  # a file written by a crawler of schema version 1
    old["meta"].insert({"key": "schema_version", "value": "1"}, pk="key")
    old.execute("INSERT INTO articles (url, canonical_url, site, title, published, body, content_hash) "
                "VALUES ('http://a.test/1', 'http://a.test/1', 'a', '海陵区项目观摩', '2022-07-18', "
                "'全区重点项目拉练观摩活动现场', 'h')")
    old.conn.commit()
    old.close()
    store = Store(path)
    assert matches(store, "拉练观摩") == [1]
    assert matches(store, "区项目") == [1]  # title too
    assert store.db.execute("SELECT published_month FROM articles").fetchone()[0] == "2022-07"
    store.close()


def test_index_follows_inserts_updates_and_deletes(tmp_path):
    store = Store(tmp_path / "t.db")
    first = admit(store, record("http://a.test/1", "标题一", "海陵区举行项目观摩活动，推进项目建设。")).article_id
    second = admit(store, record("http://a.test/2", "标题二", "泰州市召开经济运行分析会议。")).article_id
    assert matches(store, "项目观摩") == [first]
    assert matches(store, "经济运行") == [second]
    store.update_article(first, {"body": "海陵区召开优化营商环境大会。"})  # what re-extraction does
    assert matches(store, "项目观摩") == []
    assert matches(store, "营商环境") == [first]
    with store.transaction():
        store.db.execute("DELETE FROM raw_pages WHERE article_id = ?", [second])
        store.db.execute("DELETE FROM articles WHERE id = ?", [second])
    assert matches(store, "经济运行") == []
    assert store.db.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)")
    store.close()


def test_a_batch_is_indexed_when_it_commits_and_a_failed_article_is_not(tmp_path):
    store = Store(tmp_path / "t.db")
    with store.transaction():
        first = admit(store, record("http://a.test/1", "标题一", "海陵区举行项目观摩活动，推进项目建设。")).article_id
        with pytest.raises(ValueError):
            with store.transaction():  # one article of the batch fails half way
                admit(store, record("http://a.test/2", "标题二", "泰州市召开经济运行分析会议。"))
                raise ValueError("broken page")
        third = admit(store, record("http://a.test/3", "标题三", "姜堰区推进乡村振兴工作。")).article_id
        assert matches(store, "项目观摩") == []  # not before the commit
    assert matches(store, "项目观摩") == [first]
    assert matches(store, "经济运行") == []
    assert matches(store, "乡村振兴") == [third]
    with pytest.raises(RuntimeError):
        with store.transaction():  # a batch that fails leaves nothing behind, in the index either
            admit(store, record("http://a.test/4", "标题四", "高港区召开安全生产会议。"))
            raise RuntimeError("crash")
    assert matches(store, "安全生产") == []
    with store.transaction():  # added and re-extracted in one transaction
        fifth = admit(store, record("http://a.test/5", "标题五", "兴化市举办菜花旅游节。")).article_id
        store.update_article(fifth, {"body": "兴化市举办龙舟文化节。"})
    assert matches(store, "龙舟文化") == [fifth] and matches(store, "菜花旅游") == []
    store.db.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)")
    store.close()


def test_databases_indexed_by_the_old_insert_trigger_keep_their_index(tmp_path):
    path = tmp_path / "v6.db"
    old = sqlite_utils.Database(path)
    for migration in MIGRATIONS[:6]:  # schema 6 indexed each insert by a trigger
        migration(old)
    old["meta"].insert({"key": "schema_version", "value": "6"}, pk="key")
    old.execute("INSERT INTO articles (url, canonical_url, site, title, body, content_hash) "
                "VALUES ('http://a.test/1', 'http://a.test/1', 'a', '标题', '全区重点项目拉练观摩活动现场', 'h')")
    old.conn.commit()
    old.close()
    store = Store(path)
    assert "articles_fts_insert" not in {row[0] for row in store.db.execute("SELECT name FROM sqlite_master")}
    second = admit(store, record("http://a.test/2", "标题二", "泰州市召开经济运行分析会议。")).article_id
    assert matches(store, "拉练观摩") == [1] and matches(store, "经济运行") == [second]
    store.db.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)")
    store.close()


def test_trigrams_find_three_characters_but_not_two(tmp_path):
    """Why the search falls back to LIKE below three characters."""
    store = Store(tmp_path / "t.db")
    admit(store, record("http://a.test/1", "标题", "海陵区举行项目观摩活动。"))
    assert matches(store, "陵区举") == [1]
    assert matches(store, "海陵") == []
    store.close()


@pytest.mark.parametrize("path, query, target", [
    ("/demo/articles", "_search=%E6%B5%B7%E9%99%B5", "/demo/search?q=%E6%B5%B7%E9%99%B5"),
    ("/demo/articles", "_search=%E6%B5%B7&_sort=id", "/demo/search?q=%E6%B5%B7"),
    ("/demo/articles", "_search=%E6%B5%B7%E9%99%B5%E5%8C%BA", None),  # 3 characters: the index works
    ("/demo/articles", "_search=", None),
    ("/demo/articles", "_facet=site", None),
    ("/demo/duplicates", "_search=ab", None),
    ("/demo/articles.json", "_search=ab", None),
])
def test_short_table_searches_go_to_the_like_fallback(path, query, target):
    assert short_search_target(path, query) == target


# --- the broken-site rule -----------------------------------------------------------------------
def _runs(store: Store, site: str, *runs: dict) -> None:
    base = {"pages_fetched": 20, "articles_new": 10}
    for counts in runs:
        run_id = store.start_run(site, "test")
        counts = {**base, **counts}
        status = "failed" if not counts["pages_fetched"] else "ok"
        store.finish_run(run_id, status, "finished", 1.0, counts)


def test_broken_site_query_flags_exactly_what_crawler_report_flags(tmp_path):
    store = Store(tmp_path / "t.db")
    normal = {"article_links": 10}
    _runs(store, "steady", normal, normal, normal)
    _runs(store, "emptied", normal, normal, {"articles_new": 0, "empty_bodies": 8, "article_links": 8})
    _runs(store, "vanished", normal, {"pages_fetched": 2, "articles_new": 0, "article_links": 0})
    _runs(store, "quiet", normal, {"pages_fetched": 2, "articles_new": 0, "skipped_known": 12, "article_links": 12})
    _runs(store, "undated-now", normal, {"missing_dates": 9, **normal})
    _runs(store, "fallback", normal, {"fallbacks": 6, **normal})
    _runs(store, "erroring", {"http_errors": 15, **normal}, {"http_errors": 16, **normal})
    _runs(store, "down", normal, {"pages_fetched": 0, "articles_new": 0})
    found = {row["site"]: row["reasons"] for row in broken_sites(store.db.conn)}
    reports = site_reports(load_runs(tmp_path / "t.db", 30))
    assert found == {r["site"]: "; ".join(f["message"] for f in r["flags"]) for r in reports if r["flags"]}
    assert set(found) == {"emptied", "vanished", "undated-now", "fallback", "erroring", "down"}
    store.close()


def test_dashboard_rates_leave_out_runs_with_too_few_articles_and_show_the_counts(tmp_path):
    """One article page with an empty body is a rate of 100%: such a run is not charted."""
    store = Store(tmp_path / "t.db")
    _runs(store, "a", {"articles_new": 9, "empty_bodies": 1}, {"articles_new": 0, "empty_bodies": 1},
          {"articles_new": MIN_RATE_ARTICLES - 1, "missing_dates": 2})
    charts = dashboard("t")["charts"]
    empty = [tuple(row) for row in store.db.execute(charts["empty-body-rate"]["query"])]
    undated = [tuple(row) for row in store.db.execute(charts["missing-date-rate"]["query"])]
    store.close()
    assert [row[2:] for row in empty] == [(0.1, 1, 10)]  # rate, empty bodies, articles seen
    assert [row[2:] for row in undated] == [(0.0, 0, 9)]  # the run with 4 new articles is left out
    tooltip = [field["field"] for field in charts["empty-body-rate"]["display"]["encoding"]["tooltip"]]
    assert tooltip == ["site", "started_at", "empty_body_rate", "empty_bodies", "articles_seen"]


# --- metadata -----------------------------------------------------------------------------------
def test_column_descriptions_are_the_documented_schema(tmp_path):
    readme = (ROOT / "docs" / "analysts.md").read_text("utf-8")
    section = readme.split("`articles` — one row per distinct article:")[1].split("\n\n")[1]
    documented = {m[1]: m[2].replace("`", "") for m in re.finditer(r"^\| `(\w+)` \| (.+) \|$", section, re.M)}
    assert documented == ARTICLE_COLUMNS
    store = Store(tmp_path / "t.db")
    columns = [row[1] for row in store.db.execute("PRAGMA table_xinfo(articles)")]
    store.close()
    assert sorted(columns) == sorted(ARTICLE_COLUMNS)


def test_metadata_has_facets_sorts_and_canned_queries():
    tables = metadata("demo")["databases"]["demo"]["tables"]
    assert tables["articles"]["facets"] == ["site", "extractor", "published_month", "script"]
    assert tables["articles"]["sort_desc"] == "published"
    assert tables["articles"]["label_column"] == "title"
    internal = {"meta", "raw_pages", "frontier", "list_validators", "lsh_bands", "minhashes"}
    assert {name for name, table in tables.items() if table.get("hidden")} == internal


# --- the server over the demo database ----------------------------------------------------------
@pytest.fixture(scope="module")
def demo_server(demo_db):
    with serving(demo_db) as base:
        yield base


def test_search_finds_a_phrase_from_inside_a_seed_body(demo_server, demo_db):
    title, phrase = seed_phrase()
    with connect(demo_db) as db:
        seed_id, body = db.execute("SELECT id, body FROM articles WHERE title = ?", [title]).fetchone()
    assert phrase in body
    found = get_json(demo_server, "/demo/articles.json", _search=phrase, _shape="array", _col="title")
    assert [row["id"] for row in found] == [seed_id]
    canned = get_json(demo_server, "/demo/search.json", q=phrase, _shape="array")
    assert [(row["id"], row["matched_by"]) for row in canned] == [(seed_id, "trigram index")]
    assert phrase in canned[0]["excerpt"]


def test_two_character_search_falls_back_to_like_and_says_so(demo_server, demo_db):
    query = "海陵"
    with connect(demo_db) as db:
        expected = [row[0] for row in db.execute(
            "SELECT id FROM articles WHERE instr(title, ?) OR instr(body, ?) "
            "ORDER BY published IS NULL, published DESC, id DESC", [query, query])]
    assert expected
    rows = get_json(demo_server, "/demo/search.json", q=query, _shape="array")
    assert [row["id"] for row in rows] == expected
    assert {row["matched_by"] for row in rows} == {"LIKE scan: under 3 characters, the trigram index cannot match"}
    with urllib.request.urlopen(f"{demo_server}/demo/articles?_search=%E6%B5%B7%E9%99%B5", timeout=30) as page:
        assert page.geturl() == f"{demo_server}/demo/search?q=%E6%B5%B7%E9%99%B5"
        html = page.read().decode("utf-8")
    assert "LIKE scan" in html and "1 or 2 characters" in html


def test_search_lists_the_most_recently_published_first(demo_server, demo_db):
    phrase = "负责人"  # in many demo articles, published over years, in no order of their ids
    with connect(demo_db) as db:
        expected = [row[0] for row in db.execute(
            "SELECT id FROM articles WHERE instr(title, ?) OR instr(body, ?) "
            "ORDER BY published IS NULL, published DESC, id DESC", [phrase, phrase])]
    rows = get_json(demo_server, "/demo/search.json", q=phrase, _shape="array")
    assert len(rows) > 3 and [row["id"] for row in rows] == expected
    assert expected != sorted(expected, reverse=True)  # newest by date is not newest by id here


def test_facets_and_links_from_copies_to_originals(demo_server, demo_db):
    # every month, not the default 6 most frequent: the scripted sites' articles are newer
    page = get_json(demo_server, "/demo/articles.json", _facet_size="max")
    assert set(page["facet_results"]) == {"site", "extractor", "published_month", "script"}
    months = {item["value"] for item in page["facet_results"]["published_month"]["results"]}
    assert "2022-07" in months
    copies = get_json(demo_server, "/demo/duplicates.json", _labels="on", _shape="array")
    with connect(demo_db) as db:
        titles = dict(db.execute("SELECT id, title FROM articles"))
        assert len(copies) == db.execute("SELECT count(*) FROM duplicates").fetchone()[0] > 0
    for copy in copies:
        assert copy["duplicate_of"]["label"] == titles[copy["duplicate_of"]["value"]]


def test_canned_queries(demo_server, demo_db):
    latest = get_json(demo_server, "/demo/latest_per_site.json", per_site="2", _shape="array")
    sites = list(SITES) + (list(SCRIPTED_SITES) if CHROMIUM.exists() else [])
    assert sorted(row["site"] for row in latest) == sorted(sites * 2)
    title, _ = seed_phrase()
    with connect(demo_db) as db:
        seed = db.execute("SELECT id, published FROM articles WHERE title = ?", [title]).fetchone()
        original, copies = db.execute("SELECT duplicate_of, count(*) FROM duplicates GROUP BY duplicate_of "
                                      "ORDER BY duplicate_of LIMIT 1").fetchone()
    day = get_json(demo_server, "/demo/articles_of_day.json", day=seed["published"][:10], _shape="array")
    assert seed["id"] in [row["id"] for row in day]
    assert all(row["published"].startswith(seed["published"][:10]) for row in day)
    found = get_json(demo_server, "/demo/copies.json", id=str(original), _shape="array")
    assert [row["role"] for row in found] == ["original"] + ["copy"] * copies
    assert get_json(demo_server, "/demo/broken_sites.json", _shape="array") == []


# --- next to a running crawl --------------------------------------------------------------------
def test_serve_next_to_a_running_crawl_shows_new_articles_and_never_blocks_it(tmp_path, demo_run):
    db = tmp_path / "live.db"
    Store(db).close()
    seen, errors, crawl_done = [], [], threading.Event()

    with serving(db) as base:
        assert sql_rows(base, "live", "SELECT count(*) AS n FROM articles") == [{"n": 0}]

        def poll():  # a reader reloading as fast as it can while the crawl writes
            while not crawl_done.is_set():
                try:
                    seen.append(sql_rows(base, "live", "SELECT count(*) AS n FROM articles")[0]["n"])
                except OSError as exc:
                    errors.append(exc)

        reader = threading.Thread(target=poll)
        reader.start()
        try:
            crawl = subprocess.run([sys.executable, "-m", "crawler.cli", "demo", "--db", str(db)], cwd=ROOT,
                                   capture_output=True, text=True, timeout=300)
        finally:
            crawl_done.set()
            reader.join()
        after = sql_rows(base, "live", "SELECT count(*) AS n FROM articles")[0]["n"]
        title, phrase = seed_phrase()
        found = get_json(base, "/live/articles.json", _search=phrase, _shape="array", _col="title")

    assert crawl.returncode == 0, crawl.stderr
    assert "locked" not in crawl.stderr and "busy" not in crawl.stderr
    assert not errors and len(seen) > 10
    assert seen == sorted(seen)  # each reload sees the crawl's progress, never a rolled-back state
    with connect(db) as live, connect(demo_run[0]) as reference:
        assert after == live.execute("SELECT count(*) FROM articles").fetchone()[0] > 0
        # the same crawl as without a reader: which of two sites stores a shared article first varies
        same = ["SELECT content_hash FROM articles ORDER BY 1", "SELECT count(*) FROM duplicates",
                "SELECT site, status FROM crawl_runs ORDER BY site"]
        for sql in same:
            assert live.execute(sql).fetchall() == reference.execute(sql).fetchall()
    assert [row["title"] for row in found] == [title]


# --- the command --------------------------------------------------------------------------------
def test_serve_without_a_database_is_a_one_line_error(tmp_path):
    result = run_crawler("serve", "--db", str(tmp_path / "none.db"))
    assert result.returncode == 3
    assert result.stderr.strip().count("\n") == 0 and "no database at" in result.stderr
    assert not (tmp_path / "none.db").exists()


def test_serve_on_a_busy_port_is_a_one_line_error(demo_server, demo_db):
    port = demo_server.rsplit(":", 1)[1]
    result = run_crawler("serve", "--db", str(demo_db), "--port", port)
    assert result.returncode == 3
    assert result.stderr.strip().count("\n") == 0 and f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_arbitrary_sql_is_refused_and_canned_queries_and_dashboard_charts_still_answer(demo_server):
    started = time.monotonic()
    with pytest.raises(urllib.error.HTTPError) as refused:  # 600 MB of JSON if it ran
        get_json(demo_server, "/demo.json", sql="select zeroblob(100000000) as z")
    assert refused.value.code == 403 and time.monotonic() - started < 10
    assert get_json(demo_server, "/demo/latest_per_site.json", per_site="1", _shape="array")
    for chart in dashboard("demo")["charts"].values():  # as the dashboard's page asks for them
        get_json(demo_server, "/demo.json", sql=chart["query"], _shape="objects")


def test_a_post_is_refused_with_405_not_a_server_error(demo_server):
    request = urllib.request.Request(f"{demo_server}/demo/latest_per_site", data=b"per_site=1", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 405 and refused.value.headers["Allow"] == "GET, HEAD"


def test_serve_and_report_open_a_read_only_copy(tmp_path, demo_db):
    folder = tmp_path / "published"
    folder.mkdir()
    copy = folder / "copy.db"
    with connect(demo_db) as source:
        source.execute(f"VACUUM INTO '{copy}'")
    source.close()
    with connect(copy) as conn:
        conn.execute("PRAGMA journal_mode = WAL")  # as a copy of the crawl's file may be
    conn.close()
    copy.chmod(0o444)
    folder.chmod(0o555)  # no -wal or -shm can be made beside it, as on a read-only mount
    # root writes anyway unless it gives up the capability to override file permissions
    prefix = ("setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--") if os.getuid() == 0 else ()
    try:
        report = subprocess.run([*prefix, sys.executable, "-m", "crawler.cli", "report", "--db", str(copy)],
                                cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert report.returncode in (0, 1) and "investchn" in report.stdout, report.stderr
        with serving(copy, prefix) as base:
            assert get_json(base, "/copy/articles.json", _size="1")["filtered_table_rows_count"] > 0
    finally:
        folder.chmod(0o755)


def test_serve_help_has_an_example():
    result = run_crawler("serve", "--help")
    assert result.returncode == 0 and "example:" in result.stdout and "crawler serve --db" in result.stdout

