"""Attachments of stored articles, downloaded and read, over loopback: the demo's 信息公开 site
(beilin) links real PDF, Word and Excel files, a scanned and a locked PDF, a Word file cut
short, a lost file, an OFD file and one that robots.txt forbids. Also their documents rows,
the limits, and what `crawler serve` shows of both."""
from __future__ import annotations

import re
import subprocess
import sys
import zlib

import pytest

from conftest import ROOT, connect
from crawler.article.filetext import file_text, sniffed_kind
from crawler.demo.documents import BEILIN
from crawler.demo.server import DemoServer
from crawler.serve.app import ATTACHMENT_FILE_COLUMNS, DOCUMENT_COLUMNS
from crawler.storage.store import Store
from datasette_server import get_json, serving

# what each way of making a demo file must become
STATUS_OF = {"pdf": "text", "docx": "text", "xlsx": "text", "scanned": "scanned", "encrypted": "encrypted",
             "corrupt": "corrupt", "missing": "failed"}


def _attachments():
    """(url, how the demo made it, its lines) of every attachment the demo site links."""
    for article in BEILIN.articles:
        for number, attachment in enumerate(BEILIN.documents[article.slug]["attachments"], start=1):
            url = f"http://{BEILIN.host}{BEILIN.attachment_path(article, number, attachment['name'])}"
            yield url, attachment["made"], attachment["lines"]


def test_every_attachment_is_recorded_with_its_text_or_why_not(demo_db):
    with connect(demo_db) as db:
        rows = {row["url"]: row for row in db.execute("SELECT * FROM attachment_files")}
        linked = {row[0] for row in db.execute("SELECT url FROM attachments WHERE site = 'beilin'")}
    for url, made, lines in _attachments():
        assert url in linked, url
        if made == "ofd":  # not a kind that is downloaded: only its link is recorded
            assert url not in rows
            continue
        row = rows[url]
        if "/xxgk_internal/" in url:
            assert (row["status"], row["reason"]) == ("skipped", "Forbidden by robots.txt")
            continue
        assert row["status"] == STATUS_OF[made], url
        if made == "missing":
            assert row["reason"] == "HTTP 404" and row["file_zlib"] is None
            continue
        assert row["reason"] if row["status"] != "text" else row["reason"] is None
        data = zlib.decompress(row["file_zlib"])  # kept compressed, and whole
        assert row["size"] == len(data) and file_text(data, sniffed_kind(data, row["kind"])).status == row["status"]
        if row["status"] == "text":
            assert row["text"].split("\n") == [line.replace("|", " ") for line in lines]
    assert {row["site"] for row in rows.values()} == {"beilin"}  # the other sites do not fetch theirs


def test_every_document_page_has_its_header_fields(demo_db):
    with connect(demo_db) as db:
        for article in BEILIN.articles:
            row = db.execute("SELECT d.*, a.published FROM documents d JOIN articles a ON a.id = d.article_id "
                             "WHERE a.title = ?", [article.title]).fetchone()
            header = BEILIN.documents[article.slug]["document"]
            assert {name: row[name] for name in header} == header, article.slug
            assert row["issued"] == row["published"] == article.published  # never the 成文日期
            assert row["year"] == header["written"][:4] and row["column_name"] == "区政府文件"
        others = db.execute("SELECT count(*) FROM documents d JOIN articles a ON a.id = d.article_id "
                            "WHERE a.site != 'beilin'").fetchone()[0]
    assert others == 0  # news pages are not documents


def test_downloads_start_after_every_article_crawl_of_the_run(demo_db):
    with connect(demo_db) as db:
        last_article, last_run = db.execute(
            "SELECT (SELECT max(fetched_at) FROM articles), (SELECT max(finished_at) FROM crawl_runs)").fetchone()
        first_download = db.execute("SELECT min(fetched_at) FROM attachment_files").fetchone()[0]
    assert last_article <= last_run <= first_download


CRAWL = """
import sys
from crawler.crawl.runner import crawl
from crawler.sites.spider import site_classes
sites = site_classes()
crawl([sites[name] for name in sys.argv[3:]], sys.argv[1], {
    "PROXY_URL": sys.argv[2], "AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0,
    "CRAWLER_ATTACHMENT_MAX_BYTES": 3000, "CRAWLER_ATTACHMENT_KINDS": ["pdf", "docx"]})
"""


def _crawl(db, server, *sites):
    result = subprocess.run([sys.executable, "-c", CRAWL, str(db), server.url, *sites], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


def test_size_cap_and_kinds_and_failed_downloads_tried_again(tmp_path):
    db = tmp_path / "limits.db"
    with DemoServer() as server:
        _crawl(db, server, "beilin", "laowu")
        with connect(db) as conn:
            first = {row["url"]: dict(row) for row in conn.execute("SELECT * FROM attachment_files")}
        _crawl(db, server, "beilin", "laowu")
    with connect(db) as conn:
        again = {row["url"]: dict(row) for row in conn.execute("SELECT * FROM attachment_files")}
        stored = conn.execute("SELECT count(*) FROM articles WHERE site = 'beilin'").fetchone()[0]
    made = {url: made for url, made, _ in _attachments()}
    kinds = {made[url] for url in first}
    assert "xlsx" not in kinds and "ofd" not in kinds  # not among CRAWLER_ATTACHMENT_KINDS
    for url, row in first.items():
        if made[url] in ("docx", "corrupt"):  # 37 kB and 1.5 kB: the cap is 3,000 bytes
            expected = "too_large" if made[url] == "docx" else "corrupt"
            assert row["status"] == expected, url
    assert first[next(u for u, m in made.items() if m == "docx")]["reason"] == "over 3000 bytes"
    assert stored == len(BEILIN.articles)  # nothing else lost
    for url, row in again.items():  # only the failed download was tried again
        assert (row["fetched_at"] == first[url]["fetched_at"]) == (row["status"] != "failed"), url


def test_documented_columns_are_the_tables(tmp_path):
    doc = (ROOT / "docs" / "analysts.md").read_text("utf-8")
    store = Store(tmp_path / "t.db")
    for table, columns in (("documents", DOCUMENT_COLUMNS), ("attachment_files", ATTACHMENT_FILE_COLUMNS)):
        section = doc.split(f"`{table}` (schema 13)")[1].split("| column | meaning |")[1].split("\n\n")[0]
        documented = {m[1]: m[2].replace("`", "") for m in re.finditer(r"^\| `(\w+)` \| (.+) \|$", section, re.M)}
        assert documented == columns
        assert sorted(row[1] for row in store.db.execute(f"PRAGMA table_xinfo({table})")) == sorted(columns)
    store.close()


@pytest.fixture(scope="module")
def demo_server(demo_db):
    with serving(demo_db) as base:
        yield base


def test_serve_searches_attachment_text_and_facets_documents(demo_server, demo_db):
    phrase = "新增学位一千二百个"  # inside the PDF attached to d2401
    found = get_json(demo_server, "/demo/search_attachments.json", q=phrase, _shape="array")
    with connect(demo_db) as db:
        article = db.execute("SELECT id FROM articles WHERE url LIKE '%d2401.html'").fetchone()[0]
    assert [row["article_id"] for row in found] == [article] and phrase in found[0]["excerpt"]
    assert [row["kind"] for row in get_json(demo_server, "/demo/search_attachments.json", q="城东", _shape="array")] == ["xlsx"]
    table = get_json(demo_server, "/demo/attachment_files.json", _search="财政专项资金", _shape="objects")
    assert [row["kind"] for row in table["rows"]] == ["docx"]
    page = get_json(demo_server, "/demo/documents.json")
    facets = page["facet_results"]
    assert {item["value"] for item in facets["issuer"]["results"]} == {"北林区人民政府", "北林区人民政府办公室"}
    assert {item["value"]: item["count"] for item in facets["year"]["results"]} == {"2024": 11, "2019": 1}
