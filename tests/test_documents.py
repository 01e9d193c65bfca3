"""Government-document header fields (crawler.article.document) on real 信息公开 markups:
TRS vertical tables, Kaipu `table.bd1`, Hanweb `xxgk_table` and `<li><span>` lists, old TRS bold
labels in one cell, six-cell rows with empty values, `<dl>` pairs; and a news page that is
not a document. Each fixture in tests/documents/ has its expected record beside it."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from conftest import connect, run_crawler
from crawler.article.clean import clean_article
from crawler.article.document import FIELDS, header_fields
from crawler.article.extract import extract
from crawler.storage.store import Store

HERE = Path(__file__).parent / "documents"
PAGES = sorted(HERE.glob("*.html"))
FETCHED = datetime.fromisoformat("2025-01-01T00:00:00+00:00")


def _record(page: Path, site=None) -> dict:
    return clean_article(extract(page.read_bytes(), f"http://www.example.gov.test/{page.name}", site=site),
                         fetched_at=FETCHED)


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_header_fields_of_real_markups(page):
    expected = json.loads(page.with_suffix(".json").read_text("utf-8"))
    record = _record(page)
    assert record["document"] == expected["document"]
    assert record["published"] == expected["published"]  # the 发布日期, never the 成文日期


def test_every_field_is_in_every_document_record():
    record = _record(HERE / "kaipu_bd1.html")
    assert list(record["document"]) == list(FIELDS)


def test_an_empty_value_cell_never_takes_the_next_line():
    lines = ["发文字号：", "", "时　　效：", "各市、县（市、区）人民政府，省各委办厅局：", "成文日期：", "2024年3月5日"]
    assert header_fields(lines) == {"written": "2024年3月5日"}


def test_labels_inside_sentences_are_not_labels():
    lines = ["本通知自印发之日起施行，有效性：五年。", "索引号是信息公开目录的编号。"]
    assert header_fields(lines) == {}


def test_a_site_module_field_wins_and_makes_a_page_a_document():
    class Site:
        name = "example"
        fields = {"doc_number": ".zlynr_wh", "issuer": "//td[.='发文机关：']/following-sibling::td[1]"}

    record = _record(HERE / "trs_vertical.html", Site)
    assert record["document"]["doc_number"] == "白政明电〔2023〕7号"


def test_store_keeps_documents_by_article_with_a_year(tmp_path):
    store = Store(tmp_path / "d.db")
    record = {**_record(HERE / "kaipu_bd1.html"), "site": "example", "canonical_url": "x", "content_hash": "h",
              "fetched_at": "2025-01-01T00:00:00+00:00"}
    article_id = store.add_article(record, b"", None)
    store.commit()
    store.close()
    with connect(tmp_path / "d.db") as db:
        row = db.execute("SELECT * FROM documents WHERE article_id = ?", [article_id]).fetchone()
    assert row["doc_number"] == "南政办发〔2024〕9号" and row["written"] == "2024-03-05"
    assert row["issued"] == "2024-03-12" and row["year"] == "2024"


def test_extract_command_prints_the_document():
    result = run_crawler("extract", str(HERE / "six_cells_empty.html"), str(HERE / "news_byline.html"))
    assert result.returncode == 0, result.stderr
    first, second = map(json.loads, result.stdout.splitlines())
    assert first["document"]["doc_number"] == "应急〔2023〕88号"
    assert first["document"]["written"] == "2023-09-01"
    assert first["published"] == first["document"]["issued"] == "2023-09-08T10:30:00+08:00"
    assert second["document"] is None


def test_reextraction_adds_updates_and_removes_document_rows(tmp_path):
    from crawler.chain.process import admit
    from crawler.chain.reextract import reextract

    store = Store(tmp_path / "r.db")
    ids = []
    for name in ("kaipu_bd1.html", "news_byline.html"):
        page = (HERE / name).read_bytes()
        record = _record(HERE / name)
        # stored as a crawler before documents would have: the news page wrongly as a document
        record["site"], record["fetched_at"] = "example", "2025-01-01T00:00:00+00:00"
        record["document"] = {"doc_number": "旧〔2020〕1号"} if name == "news_byline.html" else None
        ids.append(admit(store, record, page, "text/html; charset=utf-8").article_id)
    report = reextract(store, {})
    assert report.fields["document"] == 2
    assert store.document_of(ids[0])["doc_number"] == "南政办发〔2024〕9号"
    assert store.document_of(ids[1]) is None
    store.close()


def test_extracted_documents_survive_crawler_ingest(tmp_path):
    lines = tmp_path / "records.jsonl"
    extracted = run_crawler("extract", "--url", "http://www.example.gov.test/six.html", str(HERE / "six_cells_empty.html"))
    assert extracted.returncode == 0, extracted.stderr
    lines.write_text(extracted.stdout, "utf-8")
    ingested = run_crawler("ingest", str(lines), "--db", str(tmp_path / "i.db"))
    assert ingested.returncode == 0, ingested.stderr
    with connect(tmp_path / "i.db") as db:
        row = db.execute("SELECT * FROM documents").fetchone()
    assert (row["doc_number"], row["written"], row["issued"]) == ("应急〔2023〕88号", "2023-09-01", "2023-09-08T10:30:00+08:00")


def test_labels_run_into_their_values_without_a_colon():
    page = ('<html><body><ul class="xxgk"><li><span>发文字号</span>：苏科〔2025〕12号</li>'
            '<li><span class="lab">发布机构：</span><span>江苏省科学技术厅</span></li>'
            '<li><span>成文日期</span>2024-12-01</li>'
            "<p><span class='label label-primary'>实施日期</span><span>  2025-04-01</span></p></ul>"
            "<div id='zoom'><p>各设区市科技局：现将有关事项通知如下，请认真贯彻执行，确保各项工作落到实处。</p></div>"
            '</body></html>').encode()
    found = clean_article(extract(page, "http://kjt.example.gov.test/a.html"), fetched_at=FETCHED)["document"]
    assert {name: value for name, value in found.items() if value} == {
        "doc_number": "苏科〔2025〕12号", "issuer": "江苏省科学技术厅", "written": "2024-12-01",
        "effective": "2025-04-01"}  # in force after the fetch: kept
