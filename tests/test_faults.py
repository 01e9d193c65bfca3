"""Reliability: real crawls of a hostile site (tests/faultserver.py) on 127.0.0.1.

Every fault route is crawled next to good articles of the same site. The crawl must finish,
store every good article exactly as written, count what went wrong in `crawl_runs`, keep a
reader that polls the database meanwhile free of errors and half-written rows, and leave the
database passing `PRAGMA integrity_check`. Bad configuration gives one line and a non-zero exit.
"""
from __future__ import annotations

import random
import textwrap
from pathlib import Path

import pytest

from conftest import connect
from faultproject import make_project, run_in_project
from faultserver import ATTACHMENT_LINKS, HOSTILE_TITLE, TRAP_STARTS, FaultServer, FaultSite
from storereader import PollingReader

from crawler.article.dedup import canonical_url

# Short timeouts so that the whole suite stays fast; the behaviour is the same as in production.
FAST = {
    "DOWNLOAD_TIMEOUT": 1.5, "RETRY_TIMES": 2, "RETRY_BACKOFF_BASE": 0.2, "RETRY_BACKOFF_MAX": 2.0,
    "REDIRECT_MAX_TIMES": 5, "DEPTH_LIMIT": 8, "TRAP_MAX_QUERY_PAGES": 5, "CRAWLER_MAX_PAGES": 500,
    "AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
}


def crawl(project, server, *args, settings=None, **options):
    return run_in_project(project, server, *args, settings={**FAST, **(settings or {})}, **options)


def integrity(db: Path) -> str:
    with connect(db) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def run_row(db: Path) -> dict:
    with connect(db) as conn:
        return dict(conn.execute("SELECT * FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone())


def count(db: Path, sql: str, *params) -> int:
    with connect(db) as conn:
        return conn.execute(sql, params).fetchone()[0]


def error_lines(stderr: str) -> list[str]:
    """stderr without Scrapy's log lines: what the operator is told."""
    return [line for line in stderr.splitlines() if line.startswith("crawler ")]


# --- one crawl of every fault route, with a reader polling the store throughout ----------------
@pytest.fixture(scope="module")
def fault_crawl(tmp_path_factory):
    site = FaultSite.every_case()
    project = make_project(tmp_path_factory.mktemp("faults"))
    db = project / "faults.db"
    with FaultServer(site, lifetime=300) as server:
        reader = PollingReader(db)
        reader.start()
        first = crawl(project, server, "crawl", "faultsite", "--db", str(db), starts=("/list/1.html", *TRAP_STARTS))
        reader.stop()
        hits_after_first = dict(server.hits)
        first_run = run_row(db)
        integrity_after_first = integrity(db)
        second = crawl(project, server, "crawl", "faultsite", "--db", str(db), starts=("/list/1.html", *TRAP_STARTS),
                       settings={"RETRY_TIMES": 0})  # retries were checked on the first run
        return {"site": site, "db": db, "first": first, "second": second, "server": server, "reader": reader,
                "hits": hits_after_first, "hits_after_second": dict(server.hits), "run": first_run,
                "integrity_after_first": integrity_after_first}


def test_crawl_finishes_and_stores_every_good_article_exactly(fault_crawl):
    assert fault_crawl["first"].returncode == 0, fault_crawl["first"].stderr[-3000:]
    assert fault_crawl["run"]["finish_reason"] == "finished"
    assert fault_crawl["run"]["status"] == "partial"  # some pages failed, none was lost
    base = fault_crawl["server"].url
    with connect(fault_crawl["db"]) as db:
        for expected in fault_crawl["site"].good_records():
            row = db.execute("SELECT * FROM articles WHERE canonical_url = ?",
                             [canonical_url(base + expected["url_path"])]).fetchone()
            assert row is not None, f"good article lost: {expected['url_path']}"
            assert (row["title"], row["published"], row["source"]) == (
                expected["title"], expected["published"], expected["source"]), expected["url_path"]
            assert row["body"] == expected["body"], expected["url_path"]
        stored = db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    assert stored == len(fault_crawl["site"].good_records())  # no fault page became an article


def test_errors_are_counted_per_site_in_crawl_runs(fault_crawl):
    run = fault_crawl["run"]
    # 500, 502, 503, reset, timeout, trickle, 3 redirect loops (endless, to itself, A -> B -> A),
    # 3 oversize (with and without Content-Length, a gzip bomb), truncated; the off-site
    # redirects, robots.txt and attachments are the crawler's choices, not errors.
    assert run["http_errors"] == 13, ({k: v for k, v in run.items() if v}, fault_crawl["first"].stderr[-4000:])
    assert (run["timeouts"], run["oversize"], run["truncated"]) == (2, 3, 1)
    assert run["errors"] >= run["http_errors"]
    assert run["robots_forbidden"] == 1
    # 500, 502, 503, reset, timeout, trickle and truncated retried twice; flaky twice; 429 and
    # offsite-after-503 once
    assert run["retries"] >= 7 * 2 + 2 + 1 + 1
    assert run["articles_new"] == len(fault_crawl["site"].good_records())


def test_retries_are_bounded_and_back_off(fault_crawl):
    hits, times = fault_crawl["hits"], fault_crawl["server"].times
    for status in ("500", "502", "503"):
        assert hits[f"/fault/{status}/1.html"] == 1 + FAST["RETRY_TIMES"]
    gaps = [b - a for a, b in zip(times["/fault/500/1.html"], times["/fault/500/1.html"][1:])]
    assert gaps[0] >= FAST["RETRY_BACKOFF_BASE"] * 0.9 and gaps[1] >= 2 * FAST["RETRY_BACKOFF_BASE"] * 0.9
    flaky = [path for path in hits if path.startswith("/news/flaky/")][0]
    assert hits[flaky] == 3  # 503, 503, then the article (stored: see the first test)
    first_429, retried = times[[path for path in hits if path.startswith("/news/retry-after/")][0]]
    assert retried - first_429 >= 0.95  # the server's Retry-After: 1 was honoured


def test_attachments_are_recorded_with_their_page_and_never_parsed(fault_crawl):
    base = fault_crawl["server"].url
    with connect(fault_crawl["db"]) as db:
        rows = {row["url"].removeprefix(base): dict(row) for row in db.execute("SELECT * FROM attachments")}
        article_urls = [row[0] for row in db.execute("SELECT url FROM articles")]
    for n, link in enumerate(ATTACHMENT_LINKS, 1):
        path = link.format(n=n)
        assert path in rows, path
        assert rows[path]["kind"] == ("pdf" if path.startswith("/download") else path.rsplit(".", 1)[1])
        assert rows[path]["found_on"].startswith(base + "/list/")
    assert rows["/download?id=5"]["content_type"] == "application/pdf"
    annexes = [row for path, row in rows.items() if path.startswith("/files/annex-")]
    assert len(annexes) == len(fault_crawl["site"].good_records())
    assert all("/news/" in row["found_on"] for row in annexes)  # the article they belong to
    assert not any("/files/" in url or "/download" in url for url in article_urls)
    assert not any(path.startswith("/files/") for path in fault_crawl["hits"])  # never downloaded
    assert fault_crawl["run"]["attachments"] >= len(ATTACHMENT_LINKS)


def test_traps_are_cut_off_and_counted(fault_crawl):
    hits = fault_crawl["hits"]
    pages = lambda prefix: sum(1 for path in hits if path.startswith(prefix))  # noqa: E731
    assert pages("/calendar?") == FAST["TRAP_MAX_QUERY_PAGES"] + 1  # the start page, then the bound
    # Query pagination without articles also ends where a list page holds no new article.
    assert 2 <= pages("/search?") <= FAST["TRAP_MAX_QUERY_PAGES"] + 1
    assert pages("/archive/") == FAST["DEPTH_LIMIT"] + 1
    assert fault_crawl["run"]["trapped"] >= 2  # the calendar and the archive; the search ended by itself
    assert fault_crawl["run"]["empty_lists"] >= FAST["DEPTH_LIMIT"]  # pages with no articles are flagged


def test_robots_txt_and_off_site_redirects_are_respected(fault_crawl):
    hits, server = fault_crawl["hits"], fault_crawl["server"]
    assert not any(path.startswith("/private/") for path in hits)
    assert server.hosts["localhost"] == 0  # the redirects to another host were not followed,
    assert fault_crawl["hits"]["/fault/offsite-after-503/1.html"] == 2  # even from a retried request
    assert sum(1 for path in hits if path.startswith("/fault/loop/")) == FAST["REDIRECT_MAX_TIMES"] + 1
    assert hits["/fault/self-redirect/1.html"] == 1  # a loop is an error at once, not after 5 hops
    assert (hits["/fault/loop-two/1.html"], hits["/fault/loop-two/1001.html"]) == (1, 1)
    assert count(fault_crawl["db"], "SELECT COUNT(*) FROM articles WHERE url LIKE '%/private/%' "
                                    "OR url LIKE 'http://localhost%'") == 0
    assert count(fault_crawl["db"], "SELECT COUNT(*) FROM duplicates") == 0


def test_urls_with_tracking_parameters_are_one_article(fault_crawl):
    base = fault_crawl["server"].url
    for n in (1, 2):
        key = canonical_url(f"{base}/news/utf8/{n}.html")
        assert count(fault_crawl["db"], "SELECT COUNT(*) FROM articles WHERE canonical_url = ?", key) == 1


def test_hostile_title_and_body_are_stored_verbatim(fault_crawl):
    with connect(fault_crawl["db"]) as db:
        row = db.execute("SELECT title, body FROM articles WHERE url LIKE '%/news/hostile/%'").fetchone()
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert row["title"] == HOSTILE_TITLE
    assert "Robert'); DROP TABLE students;--" in row["body"] and "<script>alert(1)</script>" in row["body"]
    assert {"articles", "duplicates", "crawl_runs", "raw_pages", "attachments"} <= tables


def test_a_reader_polling_meanwhile_never_fails_nor_sees_half_an_article(fault_crawl):
    reader = fault_crawl["reader"]
    assert reader.errors == []
    assert reader.half_written == []
    assert reader.polls >= 20 and reader.max_articles_seen > 0
    assert "locked" not in fault_crawl["first"].stderr


def test_integrity_check_is_ok_after_the_fault_crawls(fault_crawl):
    assert fault_crawl["integrity_after_first"] == "ok"
    assert integrity(fault_crawl["db"]) == "ok"


def test_a_second_run_fetches_no_known_article_and_adds_no_row(fault_crawl):
    assert fault_crawl["second"].returncode == 0, fault_crawl["second"].stderr[-3000:]
    before, after = fault_crawl["hits"], fault_crawl["hits_after_second"]
    for record in fault_crawl["site"].good_records():
        assert after.get(record["url_path"], 0) == before.get(record["url_path"], 0), record["url_path"]
    db = fault_crawl["db"]
    assert count(db, "SELECT COUNT(*) FROM articles") == len(fault_crawl["site"].good_records())
    assert count(db, "SELECT COUNT(*) FROM attachments") == count(db, "SELECT COUNT(DISTINCT url || found_on) FROM attachments")


# --- page cap -----------------------------------------------------------------------------------
def test_the_per_site_page_cap_stops_a_site_that_never_ends(tmp_path):
    site = FaultSite([("utf8", n) for n in range(1, 41)], [], per_list=5)
    project = make_project(tmp_path)
    with FaultServer(site, lifetime=120) as server:
        result = crawl(project, server, "crawl", "faultsite", "--db", str(project / "cap.db"),
                       settings={"CRAWLER_MAX_PAGES": 6})
        fetched = sum(1 for path in server.hits if path.startswith(("/news/", "/list/")))
    assert result.returncode == 0, result.stderr[-2000:]
    assert fetched == 1 + 6  # the start page, then the cap
    assert run_row(project / "cap.db")["trapped"] > 0
    assert integrity(project / "cap.db") == "ok"


# --- bad configuration ----------------------------------------------------------------------------
BROKEN_MODULE = "from crawler.site import SiteSpider\n\nclass Broken(SiteSpider):\n    name = 'broken'\n    fields = {'title': 'h1'\n"


def test_a_site_module_with_a_syntax_error_does_not_stop_the_other_sites(tmp_path):
    site = FaultSite([("utf8", n) for n in range(1, 4)], [])
    project = make_project(tmp_path, {"broken": BROKEN_MODULE})
    with FaultServer(site, lifetime=120) as server:
        result = crawl(project, server, "crawl", "--all", "--db", str(project / "a.db"))
    assert result.returncode == 3
    lines = error_lines(result.stderr)
    assert len(lines) == 1 and "spiders.broken" in lines[0] and "SyntaxError" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert count(project / "a.db", "SELECT COUNT(*) FROM articles WHERE site = 'faultsite'") == 3
    assert integrity(project / "a.db") == "ok"


def test_a_selector_that_matches_nothing_is_a_failed_run_not_a_crash(tmp_path):
    site = FaultSite([("utf8", n) for n in range(1, 4)], [])
    project = make_project(tmp_path)
    with FaultServer(site, lifetime=120) as server:
        result = crawl(project, server, "crawl", "faultsite", "--db", str(project / "s.db"),
                       env={"FAULT_SITE_ARTICLE_LINKS": "ul.renamed-in-the-redesign a"})
    assert result.returncode == 1  # no article link on any list page: the site is broken for us
    assert "Traceback" not in result.stderr
    assert "no article links on list page" in result.stderr
    assert "failed: faultsite (no_links)" in result.stderr
    assert [line.split()[:2] for line in result.stdout.splitlines()[1:2]] == [["faultsite", "no_links"]]
    run = run_row(project / "s.db")
    assert (run["status"], run["empty_lists"], run["articles_new"]) == ("no_links", 1, 0)
    assert integrity(project / "s.db") == "ok"


def test_an_unknown_site_name_is_one_line_and_exit_3(tmp_path):
    project = make_project(tmp_path, {"broken": BROKEN_MODULE})
    with FaultServer(FaultSite([], []), lifetime=120) as server:
        result = crawl(project, server, "crawl", "nosuchsite", "--db", str(tmp_path / "u.db"))
    assert result.returncode == 3
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "unknown site(s): nosuchsite" in result.stderr and "spiders.broken" in result.stderr


def test_an_unwritable_database_path_is_one_line_and_exit_3(tmp_path, capsys):
    from crawler.cli import main

    (tmp_path / "a-file").write_text("not a folder")
    assert main(["crawl", "laowu", "--db", str(tmp_path / "a-file" / "x.db")]) == 3
    err = capsys.readouterr().err
    assert err.startswith("crawler crawl: cannot use database") and len(err.strip().splitlines()) == 1


def test_a_full_disk_stops_the_crawl_with_one_line_and_keeps_what_was_stored(tmp_path):
    site = FaultSite([("utf8", n) for n in range(1, 31)], [], per_list=30)
    project = make_project(tmp_path)
    db = project / "full.db"
    # SQLite's max_page_count makes the database "full" a few pages past its size once the first
    # batch with an article has committed (set from the start, how many pages the first batch
    # needs, with the list page's frontier rows or not, decided whether anything was kept).
    prelude = textwrap.dedent(f"""
        from crawler.storage.store import shared_store
        store = shared_store({str(db)!r})
        plain_commit = store.commit
        def commit():
            plain_commit()
            if store.db.execute('SELECT COUNT(*) FROM articles').fetchone()[0]:
                pages = store.db.execute('PRAGMA page_count').fetchone()[0]
                store.db.execute(f'PRAGMA max_page_count = {{pages + 6}}')
                store.commit = plain_commit
        store.commit = commit
        """)
    with FaultServer(site, lifetime=120) as server:
        # Batches of 2 pages, so that some commit before the disk fills: the open batch when it
        # does is lost whole (its pages stay in the frontier for the next run).
        result = crawl(project, server, "crawl", "faultsite", "--db", str(db), prelude=prelude,
                       settings={"CONCURRENT_REQUESTS_PER_DOMAIN": 2, "CRAWLER_BATCH_WRITES": 2})
    assert result.returncode == 3, result.stderr[-3000:]
    lines = error_lines(result.stderr)
    assert len(lines) == 1 and "database or disk is full" in lines[0], result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    stored = count(db, "SELECT COUNT(*) FROM articles")
    assert 0 < stored < 30
    assert count(db, "SELECT COUNT(*) FROM articles a JOIN raw_pages r ON r.article_id = a.id") == stored
    assert integrity(db) == "ok"


# --- a damaged database ----------------------------------------------------------------------
def _damage(db: Path, table: str) -> None:
    """Overwrite the root page of `table` with random bytes, as a bad disk sector would."""
    with connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        root, page_size = (conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", [table]).fetchone()[0],
                           conn.execute("PRAGMA page_size").fetchone()[0])
    conn.close()
    with open(db, "r+b") as file:
        file.seek((root - 1) * page_size)
        file.write(random.Random(7).randbytes(page_size))


def _damaged_site_and_db(tmp_path):
    site = FaultSite([("utf8", n) for n in range(1, 9)], [], per_list=4)
    project = make_project(tmp_path)
    return site, project, project / "damaged.db"


def test_a_damaged_database_is_refused_at_open_with_one_line_and_exit_3(tmp_path):
    site, project, db = _damaged_site_and_db(tmp_path)
    with FaultServer(site, lifetime=120) as server:
        assert crawl(project, server, "crawl", "faultsite", "--db", str(db), "--max-list-pages", "1").returncode == 0
        _damage(db, "frontier")
        before = sum(server.hits.values())
        result = crawl(project, server, "crawl", "faultsite", "--db", str(db))
        fetched = sum(server.hits.values()) - before
    report = crawl(project, server, "report", "--db", str(db))
    for outcome in (result, report):
        assert outcome.returncode == 3, outcome.stderr[-3000:]
        lines = error_lines(outcome.stderr)
        assert len(lines) == 1 and "is damaged" in lines[0] and f"sqlite3 {db} .dump" in lines[0], outcome.stderr
        assert "Traceback" not in outcome.stderr
    assert fetched == 0  # nothing fetched that could not be stored


def test_damage_found_by_a_write_stops_the_crawl_with_one_line_and_exit_3(tmp_path):
    site, project, db = _damaged_site_and_db(tmp_path)
    with FaultServer(site, lifetime=120) as server:
        # The articles of the second list page only, so that the next run has new ones to store.
        assert crawl(project, server, "crawl", "faultsite", "--db", str(db), "--max-list-pages", "1",
                     starts=("/list/2.html",)).returncode == 0
        with connect(db) as conn:
            stored = {row[0] for row in conn.execute("SELECT url FROM articles")}
        _damage(db, "articles")
        # A file too large to check at open: the first write into the damaged table finds it.
        result = crawl(project, server, "crawl", "faultsite", "--db", str(db),
                       prelude="import crawler.storage.store as store\nstore.QUICK_CHECK_MAX_BYTES = 0")
    assert result.returncode == 3, result.stderr[-3000:]
    lines = error_lines(result.stderr)
    assert len(lines) == 1 and "is damaged" in lines[0] and ".dump" in lines[0], result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    with connect(db) as conn:  # the tables the damage left alone say what happened
        assert conn.execute("SELECT status, finish_reason FROM crawl_runs ORDER BY id DESC").fetchone()[:] == (
            "failed", "store_error")
        # Every page of the second run is still to do: none was marked done without its article.
        left = {row[0] for row in conn.execute("SELECT url FROM frontier")}
    unstored = {server.url + record["url_path"] for record in site.good_records()} - stored
    assert not left or unstored <= left


def test_a_disk_that_fills_up_under_the_log_and_the_database_is_one_line_and_no_run_left_running(tmp_path):
    site = FaultSite([("utf8", n) for n in range(1, 61)], [], per_list=60)
    project = make_project(tmp_path)
    db = project / "full.db"
    # No file of the process may grow past 192 KB from now on (the database, its WAL, the log
    # file), as on a disk that is full; SIGXFSZ ignored, a write past it fails with EFBIG.
    prelude = ("import resource, signal\nsignal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
               "resource.setrlimit(resource.RLIMIT_FSIZE, (192 * 1024, 192 * 1024))")
    with FaultServer(site, lifetime=120) as server:
        result = crawl(project, server, "crawl", "faultsite", "--db", str(db), "--log-level", "INFO", prelude=prelude,
                       settings={"CONCURRENT_REQUESTS_PER_DOMAIN": 2, "CRAWLER_BATCH_WRITES": 2})
    assert result.returncode == 3, result.stderr[-3000:]
    lines = error_lines(result.stderr)
    assert len(lines) == 1 and "cannot write database" in lines[0], result.stderr[-3000:]
    assert "Traceback" not in result.stderr and "Logging error" not in result.stderr
    assert count(db, "SELECT COUNT(*) FROM crawl_runs WHERE status = 'running'") == 0
    assert integrity(db) == "ok"


# --- a link farm ----------------------------------------------------------------------------------
def test_a_link_farm_list_page_is_cut_to_the_link_bound_and_counted(tmp_path):
    farm = [f"/news/farm/{n}.html" for n in range(20_000)]  # 404s, each a request if followed
    site = FaultSite([("utf8", n) for n in range(1, 4)], [], extras=farm, per_list=len(farm) + 3)
    project = make_project(tmp_path)
    db = project / "farm.db"
    with FaultServer(site, lifetime=120) as server:
        result = crawl(project, server, "crawl", "faultsite", "--db", str(db),
                       settings={"CRAWLER_MAX_LINKS_PER_PAGE": 50})
        followed = sum(1 for path in server.hits if path.startswith("/news/"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert followed == 50
    assert run_row(db)["trapped"] == len(farm) + 3 - 50
    assert "only the first 50 article links are followed" in result.stderr


# --- dead start pages ---------------------------------------------------------------------------
@pytest.mark.parametrize("start", ["/list/99.html", "/fault/self-redirect/1.html"], ids=["404", "self-redirect"])
def test_a_run_whose_start_page_failed_has_failed(tmp_path, start):
    site = FaultSite([("utf8", n) for n in range(1, 4)], [])
    project = make_project(tmp_path)
    with FaultServer(site, lifetime=120) as server:
        result = crawl(project, server, "crawl", "faultsite", "--db", str(project / "dead.db"), starts=(start,))
    assert result.returncode == 1, result.stderr[-3000:]
    assert run_row(project / "dead.db")["status"] == "failed"
    assert "failed: faultsite" in result.stderr
