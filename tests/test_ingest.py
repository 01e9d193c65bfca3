"""`crawler ingest`: real command runs on real SQLite files; the near-duplicate index is shared
by separate processes and runs, and survives a schema upgrade."""
import json
import os
import sqlite3
import subprocess
import sys

import pytest
import sqlite_utils

from conftest import ROOT, connect, run_crawler
from crawler.storage import store as store_module
from crawler.article.dedup import content_hash
from test_near_duplicates import ARTICLES, ORIGINAL

RECORD_FIELDS = ("url", "site", "extractor", "title", "published", "source", "author", "summary", "body", "script")


def jsonl(path, records):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in records),
                    "utf-8")
    return path


def article(i, paragraphs=None, **extra):
    paragraphs = paragraphs or ARTICLES[i]["paragraphs"]
    return {"url": f"http://www.site{i}.test/news/{i}.html", "site": f"site{i}", "title": ARTICLES[i]["title"],
            "published": ARTICLES[i]["published"], "body": "\n".join(paragraphs), **extra}


def test_a_malformed_line_is_reported_with_its_number_and_the_rest_is_stored(tmp_path):
    source = jsonl(tmp_path / "in.jsonl", [
        article(1),
        '{"url": "http://www.site2.test/news/2.html", "body": "没有结束',
        {"url": "http://www.site3.test/news/3.html", "title": "无正文"},
        {"body": "没有网址的正文。" * 10},
        "",
        article(4),
        article(5, ARTICLES[1]["paragraphs"][:-1]),  # a trimmed copy of the first
    ])
    db = tmp_path / "out.db"
    result = run_crawler("ingest", str(source), "--db", str(db))
    assert result.returncode == 1
    errors = result.stderr.strip().splitlines()
    assert errors == [f"{source}:2: malformed JSON: Unterminated string starting at (column 54)",
                      f"{source}:3: no body", f"{source}:4: no url"]
    assert "Traceback" not in result.stderr
    assert "6 records: 2 new, 1 duplicates (0 exact, 1 near), 0 already stored, 3 rejected" in result.stdout
    with connect(db) as conn:
        assert [r["url"] for r in conn.execute("SELECT url FROM articles ORDER BY id")] == [
            "http://www.site1.test/news/1.html", "http://www.site4.test/news/4.html"]
        assert tuple(conn.execute("SELECT url, kind FROM duplicates").fetchone()) == ("http://www.site5.test/news/5.html", "near")


def test_an_unreadable_file_is_a_one_line_error(tmp_path):
    result = run_crawler("ingest", str(tmp_path / "missing.jsonl"), "--db", str(tmp_path / "out.db"))
    assert result.returncode == 1
    assert result.stderr.strip() == f"crawler ingest: cannot read {tmp_path / 'missing.jsonl'}: No such file or directory"


def test_closed_standard_input_is_a_one_line_error(tmp_path):
    result = subprocess.run([sys.executable, "-m", "crawler.cli", "ingest", "-", "--db", str(tmp_path / "out.db")],
                            cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
                            preexec_fn=lambda: os.close(0))  # `crawler ingest - <&-`
    assert result.returncode == 1
    assert result.stderr.strip() == "crawler ingest: cannot read -: standard input is closed"


def test_control_characters_are_removed_so_the_stored_text_is_what_readers_see(tmp_path):
    body = "\u0000" + "\n".join(ARTICLES[1]["paragraphs"]).replace("，", "，\u0001", 1) + "\u001f\u007f"
    source = jsonl(tmp_path / "in.jsonl", [article(1, title="\u0000" + ARTICLES[1]["title"], body=body)])
    db = tmp_path / "out.db"
    assert run_crawler("ingest", str(source), "--db", str(db)).returncode == 0
    phrase = ARTICLES[1]["paragraphs"][0][:6]
    with connect(db) as conn:
        title, stored, length = conn.execute("SELECT title, body, length(body) FROM articles").fetchone()
        found = conn.execute("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?", [f'"{phrase}"']).fetchone()
    assert title == ARTICLES[1]["title"]
    assert stored == "\n".join(ARTICLES[1]["paragraphs"]) and length == len(stored)  # SQLite sees all of it
    assert found[0] == 1


def test_two_processes_share_the_near_duplicate_index(tmp_path):
    db = tmp_path / "shared.db"
    first = run_crawler("ingest", str(jsonl(tmp_path / "a.jsonl", [article(0), article(2)])), "--db", str(db))
    assert first.returncode == 0, first.stderr
    copy = article(7, ["（记者 张伟）", "本报讯 " + ORIGINAL["paragraphs"][0], *ORIGINAL["paragraphs"][1:-1]])
    second = run_crawler("ingest", str(jsonl(tmp_path / "b.jsonl", [copy, article(3)])), "--db", str(db))
    assert second.returncode == 0, second.stderr
    assert "2 records: 1 new, 1 duplicates (0 exact, 1 near)" in second.stdout
    with connect(db) as conn:
        original_id = conn.execute("SELECT id FROM articles WHERE url = ?", [article(0)["url"]]).fetchone()[0]
        assert tuple(conn.execute("SELECT duplicate_of, kind FROM duplicates WHERE url = ?", [copy["url"]]).fetchone()) \
            == (original_id, "near")
    again = run_crawler("ingest", str(tmp_path / "b.jsonl"), "--db", str(db))
    assert "2 records: 0 new, 0 duplicates (0 exact, 0 near), 2 already stored, 0 rejected" in again.stdout


def test_articles_stored_before_the_index_existed_are_indexed_on_upgrade(tmp_path, monkeypatch):
    db = tmp_path / "old.db"
    with monkeypatch.context() as patch:  # a database of the crawler before near-duplicate detection
        patch.setattr(store_module, "SCHEMA_VERSION", 1)
        old = store_module.Store(db)
    with old.transaction():
        old._insert("articles", {**article(0), "canonical_url": "http://site0.test/news/0.html",
                                 "content_hash": content_hash(article(0)["body"])})
    old.close()
    assert "lsh_bands" not in sqlite_utils.Database(db).table_names()
    copy = article(9, ["本报讯 " + ORIGINAL["paragraphs"][0], *ORIGINAL["paragraphs"][1:]])
    result = run_crawler("ingest", str(jsonl(tmp_path / "c.jsonl", [copy])), "--db", str(db))
    assert "1 records: 0 new, 1 duplicates (0 exact, 1 near)" in result.stdout, result.stderr


def test_ingesting_crawled_records_stores_them_unchanged(demo_db, tmp_path):
    """Cleaning is idempotent: the demo crawl's own rows, ingested into a new file, come out equal."""
    with connect(demo_db) as conn:
        rows = [dict(r) for r in conn.execute("SELECT * FROM articles ORDER BY id")]
    source = jsonl(tmp_path / "export.jsonl", [{k: r[k] for k in (*RECORD_FIELDS, "fetched_at")} for r in rows])
    db = tmp_path / "copy.db"
    result = run_crawler("ingest", str(source), "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert f"{len(rows)} records: {len(rows)} new" in result.stdout
    with connect(db) as conn:
        copied = {r["url"]: dict(r) for r in conn.execute("SELECT * FROM articles")}
    for row in rows:
        for field in (*RECORD_FIELDS, "canonical_url", "content_hash", "fetched_at"):
            assert copied[row["url"]][field] == row[field], (row["url"], field)


@pytest.mark.parametrize("line, reason", [
    ('["a list"]', "not a JSON object"),
    ('{"url": "ftp://x.test/a", "body": "正文"}', "url is not an http(s) URL: ftp://x.test/a"),
    ('{"url": "http://x.test/a", "body": "正文", "title": 3}', "field `title` is not a string"),
    ('{"url": "http://x.test/a", "body": "正文正文", "fetched_at": "yesterday"}', "fetched_at is not an ISO 8601 time: yesterday"),
    ('{"url": "http://x.test/a", "body": "编辑：张三"}', "body is empty after cleaning"),
])
def test_rejected_records_say_why(tmp_path, line, reason):
    source = jsonl(tmp_path / "in.jsonl", [line])
    result = run_crawler("ingest", str(source), "--db", str(tmp_path / "out.db"))
    assert (result.returncode, result.stderr.strip()) == (1, f"{source}:1: {reason}")
    assert sqlite3.connect(tmp_path / "out.db").execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 0


def test_the_counts_are_reported_after_each_committed_batch(tmp_path):
    """What `committed` hears is already in the database for any other reader to see."""
    from crawler.chain import ingest as ingest_module
    from crawler.storage.store import Store

    db = tmp_path / "out.db"
    store = Store(db)
    heard = []

    def committed(counts):
        with connect(db) as reader:
            stored = sum(reader.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in ("articles", "duplicates"))
        heard.append((counts["records"], counts["new"] + counts["exact"] + counts["near"], stored))

    lines = [json.dumps(article(i), ensure_ascii=False).encode() for i in (1, 2, 3, 4)] + [b"{}"]
    ingest_module.ingest(store, lines, lambda number, reason: None, committed, batch_size=2)
    store.close()
    assert heard == [(2, 2, 2), (4, 4, 4), (5, 4, 4)]


def test_a_long_ingest_shows_its_progress_on_a_terminal_only(tmp_path):
    import os
    import pty
    import subprocess
    import sys

    source = jsonl(tmp_path / "in.jsonl", [article(1), article(2), '{"url": "x"}'])
    main, terminal = pty.openpty()
    with open(tmp_path / "out.txt", "w") as out:
        code = subprocess.run([sys.executable, "-m", "crawler.cli", "ingest", str(source), "--db", str(tmp_path / "a.db")],
                              stdout=out, stderr=terminal, timeout=120).returncode
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the terminal's other end is closed: all read
            break
        if not chunk:
            break
        shown += chunk
    os.close(main)
    assert code == 1
    shown = shown.decode()
    assert f"{source}:3: url is not an http(s) URL" in shown
    assert "3 records: 2 new, 0 duplicates (0 exact, 0 near), 0 already stored, 1 rejected (" in shown
    assert "records/s)" in shown and shown.endswith("\r\x1b[2K")  # the line is cleared for the summary
    plain = run_crawler("ingest", str(source), "--db", str(tmp_path / "b.db"))
    assert "records/s" not in plain.stderr and "\x1b" not in plain.stderr
