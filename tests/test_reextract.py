"""`crawler reextract`: a selector fixed after the crawl repairs the stored rows from the raw pages
kept in the database, with the demo server already stopped (nothing can be fetched)."""
from __future__ import annotations

import sqlite3

import pytest

from conftest import connect, copy_project, crawl_through, run_crawler
from crawler.demo.server import DemoServer
from crawler.storage.store import Store

REEXTRACTED = ("title", "published", "source", "author", "summary", "body", "script", "content_hash", "extractor")
# A layout change the module has not caught up with: the title is taken from the breadcrumb and the
# body from the whole detail block (which starts with the headline).
BROKEN = {'"title": "h2.detail-title"': '"title": ".location"', '"body": ".detail-content"': '"body": ".detail"'}


@pytest.fixture(scope="module")
def broken_crawl(tmp_path_factory):
    """investchn crawled with the right selectors (the reference) and with broken ones; the server
    is stopped when this returns."""
    project = copy_project(tmp_path_factory.mktemp("reextract") / "project")
    module = project / "spiders" / "investchn.py"
    fixed = module.read_text("utf-8")
    broken = fixed
    for old, new in BROKEN.items():
        broken = broken.replace(old, new)
    assert broken != fixed
    reference, db = project / "reference.db", project / "investchn.db"
    with DemoServer() as server:
        result = crawl_through(server.url, "investchn", reference, cwd=project)
        assert result.returncode == 0, result.stderr
        module.write_text(broken, "utf-8")
        result = crawl_through(server.url, "investchn", db, cwd=project)
        assert result.returncode == 0, result.stderr
    with connect(db) as conn:
        junk = [dict(row) for row in conn.execute("SELECT * FROM articles ORDER BY id")]
    with connect(reference) as conn:
        right = {row["url"]: dict(row) for row in conn.execute("SELECT * FROM articles")}
    return project, module, fixed, db, junk, right


@pytest.fixture
def demo_copy(tmp_path, demo_db):
    db = tmp_path / "copy.db"
    with sqlite3.connect(demo_db) as source, sqlite3.connect(db) as target:
        source.backup(target)
    return db


def test_fixing_a_selector_and_reextracting_repairs_the_stored_rows(broken_crawl):
    project, module, fixed, db, junk, reference = broken_crawl
    assert len(junk) >= 11 and all(row["title"].startswith("您现在的位置") for row in junk)
    assert all(row["content_hash"] != reference[row["url"]]["content_hash"] for row in junk)  # headline in the body

    module.write_text(fixed, "utf-8")
    result = run_crawler("reextract", "--site", "investchn", "--db", str(db), cwd=project)
    assert result.returncode == 0, result.stderr
    assert f"changed {len(junk)} of {len(junk)} articles" in result.stdout
    assert f"title {len(junk)}" in result.stdout and f"body {len(junk)}" in result.stdout

    with connect(db) as conn:
        repaired = {row["url"]: dict(row) for row in conn.execute("SELECT * FROM articles")}
        runs = conn.execute("SELECT COUNT(*) FROM crawl_runs").fetchone()[0]
    assert set(repaired) == set(reference)
    for before in junk:
        row = repaired[before["url"]]
        assert row["id"] == before["id"] and row["fetched_at"] == before["fetched_at"]  # updated in place
        assert {f: row[f] for f in REEXTRACTED} == {f: reference[row["url"]][f] for f in REEXTRACTED}, row["url"]
    assert runs == 1  # re-extraction is not a crawl

    again = run_crawler("reextract", "--db", str(db), cwd=project)
    assert again.returncode == 0, again.stderr
    assert f"changed 0 of {len(junk)} articles" in again.stdout


def test_a_page_that_no_longer_yields_a_body_is_left_as_it_was_and_reported(demo_copy):
    """A stored raw page the extractors cannot read any more (here: emptied) keeps its row."""
    db = demo_copy
    with connect(db) as conn:
        conn.execute("UPDATE raw_pages SET html_zlib = x'789c030000000001' "  # zlib of b""
                       "WHERE article_id = (SELECT MIN(id) FROM articles WHERE site = 'laowu')")
    with connect(db) as conn:
        before = dict(conn.execute("SELECT * FROM articles WHERE site = 'laowu' ORDER BY id").fetchone())
    result = run_crawler("reextract", "--site", "laowu", "--db", str(db))
    assert result.returncode == 1
    assert f"failed: {before['url']}: the extractor finds no body now; row left as it was" in result.stderr
    assert "changed 0 of" in result.stdout and "Traceback" not in result.stderr
    with connect(db) as conn:
        assert dict(conn.execute("SELECT * FROM articles WHERE id = ?", [before["id"]]).fetchone()) == before


def test_reextract_of_a_missing_database_or_an_unknown_site_is_a_one_line_error(tmp_path, demo_db):
    missing = run_crawler("reextract", "--db", str(tmp_path / "none.db"))
    assert missing.returncode == 3 and "no database at" in missing.stderr
    assert not (tmp_path / "none.db").exists()
    unknown = run_crawler("reextract", "--site", "nosuchsite", "--db", str(demo_db))
    assert unknown.returncode == 3 and "unknown site: nosuchsite" in unknown.stderr


def test_an_article_whose_body_becomes_another_ones_keeps_its_row_and_is_reported(demo_copy):
    """Dedup stays consistent: ids and duplicate links do not move; the collision is reported."""
    with connect(demo_copy) as conn:
        first, second = [dict(r) for r in conn.execute("SELECT * FROM articles WHERE site = 'investchn' ORDER BY id LIMIT 2")]
        conn.execute("UPDATE raw_pages SET html_zlib = (SELECT html_zlib FROM raw_pages WHERE article_id = ?) "
                     "WHERE article_id = ?", [first["id"], second["id"]])
        links = conn.execute("SELECT * FROM duplicates ORDER BY id").fetchall()
    result = run_crawler("reextract", "--site", "investchn", "--db", str(demo_copy))
    assert result.returncode == 0, result.stderr
    assert f"note: article {second['id']} now has the same body as article {first['id']}; both are kept" in result.stdout
    with connect(demo_copy) as conn:
        after = dict(conn.execute("SELECT * FROM articles WHERE id = ?", [second["id"]]).fetchone())
        assert conn.execute("SELECT * FROM duplicates ORDER BY id").fetchall() == links
    assert after["url"] == second["url"] and after["content_hash"] == first["content_hash"]


def test_articles_of_a_site_without_a_module_go_through_the_generic_chain(demo_copy):
    with connect(demo_copy) as conn:
        conn.execute("UPDATE articles SET site = 'retired' WHERE site = 'czgx'")
        count = conn.execute("SELECT COUNT(*) FROM articles WHERE site = 'retired'").fetchone()[0]
    result = run_crawler("reextract", "--site", "retired", "--db", str(demo_copy))
    assert result.returncode == 0, result.stderr
    assert f"note: retired has no site module; its {count} articles went through the generic chain" in result.stdout
    with connect(demo_copy) as conn:
        extractors = {r[0] for r in conn.execute("SELECT extractor FROM articles WHERE site = 'retired'")}
    assert extractors <= {"generic", "trafilatura"}


def _reextracted_state(db) -> dict:
    import numpy as np

    from crawler.article.dedup import band_keys

    with connect(db) as conn:
        conn.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)")  # raises if the index is off
        signatures = {row[0]: band_keys(np.frombuffer(row[1], dtype=np.uint32))
                      for row in conn.execute("SELECT article_id, signature FROM minhashes")}
        bands = conn.execute("SELECT article_id, key FROM lsh_bands ORDER BY article_id, key").fetchall()
        for article_id, key in bands:  # no band key left from a body the article no longer has
            assert key in signatures[article_id]
        return {
            "articles": [tuple(row) for row in conn.execute("SELECT * FROM articles ORDER BY id")],
            "bands": bands, "signatures": conn.execute("SELECT * FROM minhashes ORDER BY article_id").fetchall(),
            "found": conn.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH '\"旧版本\"' ORDER BY rowid").fetchall(),
        }


MARK = "\n（旧版本）本文已于二〇二〇年修订，以下为修订前的全文，仅供查阅，请以最新发布的版本为准。"


def test_reextract_in_several_processes_writes_what_one_process_writes(tmp_path, demo_copy):
    """Every article changes (the stored rows carry a mark that the raw pages do not): the rows,
    their near-duplicate keys and the search index come out the same with --jobs 2 as with 1."""
    store = Store(demo_copy)
    for article_id, title, body in store.db.execute("SELECT id, title, body FROM articles").fetchall():
        store.update_article(article_id, {"title": title + "（旧版本）", "body": body + MARK})  # new fingerprint too
    total = len(store.stored_ids())
    store.close()
    second = tmp_path / "second.db"
    with sqlite3.connect(demo_copy) as source, sqlite3.connect(second) as target:
        source.backup(target)
    outputs = []
    for db, jobs in ((demo_copy, "1"), (second, "2")):
        result = run_crawler("reextract", "--jobs", jobs, "--db", str(db))
        assert result.returncode == 0, result.stderr
        assert f"changed {total} of {total} articles" in result.stdout
        outputs.append(result.stdout.replace(str(db), "DB"))
    assert outputs[0] == outputs[1]
    one, two = _reextracted_state(demo_copy), _reextracted_state(second)
    assert one["found"] == []  # the old text is out of the search index
    assert one == two
