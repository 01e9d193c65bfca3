"""`crawler extract`: saved page bytes in, JSON lines out, the same records a crawl stores."""
from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

from conftest import connect, run_crawler
from crawler.demo.sites import SITES

FIELDS = ("title", "published", "source", "author", "summary", "body", "script")


def save_pages(site, folder):
    """The site's article pages exactly as the demo server sends them, one file each."""
    files = []
    for article in site.articles:
        status, body = site.respond(site.url_of(article))
        assert status == 200
        path = folder / f"{article.slug}.html"
        path.write_bytes(body)
        files.append((f"http://{site.host}{site.url_of(article)}", path))
    return files


@pytest.mark.parametrize("name", sorted(SITES))
def test_extract_reproduces_the_stored_records(demo_db, tmp_path, name):
    site = SITES[name]
    files = save_pages(site, tmp_path)
    result = run_crawler("extract", "--site", name, *[str(p) for _, p in files])
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"] for line in lines] == [str(p) for _, p in files]
    with connect(demo_db) as db:
        for (url, _), line in zip(files, lines):
            row = db.execute("SELECT * FROM articles WHERE url = ?", [url]).fetchone()
            if row is None:  # stored as a copy of another site's article
                assert db.execute("SELECT 1 FROM duplicates WHERE url = ?", [url]).fetchone()
                continue
            assert {f: line[f] for f in FIELDS} == {f: row[f] for f in FIELDS}, url
            assert line["extractor"] == f"site:{name}"


def test_extract_picks_the_site_by_url_and_decodes_gbk_without_charset(tmp_path):
    site = SITES["gdcyxx"]  # GBK bytes, no charset in the header or the page
    url, path = save_pages(site, tmp_path)[0]
    result = run_crawler("extract", "--url", url, str(path))
    record = json.loads(result.stdout)
    assert record["site"] == "gdcyxx" and record["extractor"] == "site:gdcyxx"
    assert record["title"] == site.articles[0].title
    assert record["body"].split("\n") == list(site.articles[0].paragraphs)


def test_generic_chain_without_a_site_still_finds_the_article(tmp_path):
    site = SITES["investchn"]
    _, path = save_pages(site, tmp_path)[0]
    record = json.loads(run_crawler("extract", str(path)).stdout)
    assert record["site"] is None and record["extractor"] in ("generic", "trafilatura")
    assert record["title"] == site.articles[0].title
    assert record["published"] == site.articles[0].published
    assert site.articles[0].paragraphs[0] in record["body"]


def test_unreadable_file_gives_an_error_line_and_exit_1_but_the_rest_still_come_out(tmp_path):
    _, good = save_pages(SITES["laowu"], tmp_path)[0]
    result = run_crawler("extract", str(tmp_path / "missing.html"), str(good))
    assert result.returncode == 1
    first, second = [json.loads(line) for line in result.stdout.splitlines()]
    assert first["file"].endswith("missing.html") and "error" in first
    assert second["title"] and "error" not in second
    assert "Traceback" not in result.stderr


def test_a_binary_file_is_an_error_line_not_a_record_of_garbage(tmp_path):
    binary = tmp_path / "logo.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    _, good = save_pages(SITES["gdcyxx"], tmp_path)[0]
    result = run_crawler("extract", "--site", "gdcyxx", str(binary), str(good))
    assert result.returncode == 1
    first, second = [json.loads(line) for line in result.stdout.splitlines()]
    assert first == {"file": str(binary), "error": "NotHtml: not an HTML page: the bytes are binary"}
    assert second["title"] == SITES["gdcyxx"].articles[0].title


def test_devices_fifos_and_oversized_files_give_error_lines_and_the_rest_still_come_out(tmp_path):
    _, good = save_pages(SITES["laowu"], tmp_path)[0]
    fifo = tmp_path / "pipe.html"
    os.mkfifo(fifo)  # nobody writes to it: reading it would wait for ever
    oversized = tmp_path / "huge.html"
    with open(oversized, "wb") as file:
        file.truncate(16 * 1024 * 1024 + 1)  # one byte over the crawl's DOWNLOAD_MAXSIZE
    result = run_crawler("extract", "/dev/zero", str(fifo), str(oversized), str(good), timeout=120)
    assert result.returncode == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[:3] == [{"file": "/dev/zero", "error": "OSError: not a regular file: /dev/zero"},
                         {"file": str(fifo), "error": f"OSError: not a regular file: {fifo}"},
                         {"file": str(oversized), "error": "OSError: larger than 16 MB, the crawl's "
                                                           f"DOWNLOAD_MAXSIZE: {oversized}"}]
    assert lines[3]["title"] == SITES["laowu"].articles[0].title
    assert "Traceback" not in result.stderr


def test_a_page_with_a_stray_nul_byte_is_extracted_not_taken_for_binary(tmp_path):
    _, good = save_pages(SITES["gdcyxx"], tmp_path)[0]
    page = good.read_bytes()
    head = page.index(b"<head>") + len(b"<head>")
    good.write_bytes(page[:head] + b"\x00" + page[head:])  # in the first 4 KB
    result = run_crawler("extract", "--site", "gdcyxx", str(good))
    assert result.returncode == 0, result.stdout
    assert json.loads(result.stdout)["title"] == SITES["gdcyxx"].articles[0].title


def test_bytes_without_a_signature_are_binary_by_their_control_bytes(tmp_path):
    noise = tmp_path / "blob.html"
    noise.write_bytes(random.Random(3).randbytes(8192))  # compressed or encrypted data looks like this
    result = run_crawler("extract", str(noise))
    assert json.loads(result.stdout) == {"file": str(noise), "error": "NotHtml: not an HTML page: the bytes are binary"}


def test_unknown_site_is_a_one_line_configuration_error(tmp_path):
    result = run_crawler("extract", "--site", "nosuchsite", str(tmp_path / "x.html"))
    assert result.returncode == 3
    assert "unknown site" in result.stderr and "Traceback" not in result.stderr


MARKUP = Path(__file__).parent / "markup" / "html"


def test_explain_names_the_rule_behind_each_field():
    result = run_crawler("extract", "--explain", str(MARKUP / "trs_pubdate.html"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].endswith("trs_pubdate.html") and lines[1].split() == ["extractor", "generic"]
    rules = {field: lines[lines.index(next(l for l in lines if l.split()[:1] == [field])) + 1].split("<- ")[1]
             for field in ("title", "published", "source", "body")}
    assert rules == {"title": 'heading <div class="detail_title">, agreeing with <title> or the title meta tag',
                     "published": "labelled date in the byline (the meta tag's '2019-07-25 16:41' disagrees)",
                     "source": "meta tag",
                     "body": 'CMS container .TRS_Editor <div class="TRS_Editor">'}


def test_explain_says_why_a_body_is_empty(tmp_path):
    frames = tmp_path / "frames.html"
    frames.write_text('<html><head><title>某某县人民政府</title></head><frameset rows="120,*">'
                      '<frame src="/top.htm"><frame src="/art/2024/3/12/art_1_1.html"></frameset></html>')
    result = run_crawler("extract", "--explain", str(frames), str(tmp_path / "missing.html"))
    assert result.returncode == 1  # the missing file
    out = result.stdout
    assert "body       (empty)" in out and "title      (empty)" in out
    assert ("<- empty: the generic extractor's best (no text block on the page) has 0 Chinese characters, fewer "
            "than 40; trafilatura found 0; the page shows other pages in frames: /top.htm, /art/2024/3/12/art_1_1.html") in out
    assert "missing.html\n  error: FileNotFoundError" in out and "Traceback" not in result.stderr
