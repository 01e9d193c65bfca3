"""Attachment bytes -> text (crawler.article.filetext), on real files made with the same
libraries the demo uses: what is readable is read, what is not says why; and read in a child
process under a time and a memory limit (crawler.crawl.file_reading), as a crawl reads them."""
from __future__ import annotations

import io
import shutil
import struct
import time
import zipfile

import pytest
from pypdf import PdfWriter

from crawler.article import filetext
from crawler.article.filetext import file_text, sniffed_kind
from crawler.crawl.file_reading import read_limited
from crawler.demo.files import docx_file, encrypted_pdf, scanned_pdf, text_pdf, xlsx_file

LINES = ["泰州市人民政府办公室关于印发", "泰政办发〔2024〕12号", "第一条 为了加强管理，制定本办法。"]


def test_pdf_text_layer_is_read_page_by_page():
    found = file_text(text_pdf([LINES[:2], LINES[2:]]), "pdf")
    assert (found.status, found.pages) == ("text", 2)
    assert found.text.split("\n") == LINES


def test_scanned_pdf_is_recorded_as_scanned_not_empty():
    found = file_text(scanned_pdf(3), "pdf")
    assert (found.status, found.pages, found.text) == ("scanned", 3, None)
    assert "no OCR" in found.reason


def test_pdf_with_a_user_password_is_encrypted_but_one_locked_only_for_editing_is_read():
    locked = file_text(encrypted_pdf(LINES), "pdf")
    assert locked.status == "encrypted" and "password" in locked.reason
    writer = PdfWriter(clone_from=io.BytesIO(text_pdf([LINES])))
    writer.encrypt("", owner_password="owner", algorithm="AES-128")  # opens without a password
    out = io.BytesIO()
    writer.write(out)
    found = file_text(out.getvalue(), "pdf")
    assert found.status == "text" and found.text.split("\n") == LINES


def test_docx_paragraphs_and_table_rows():
    found = file_text(docx_file(["资金管理办法", "第一条 总则。", "项目|金额（万元）", "引导资金|3000"]), "docx")
    assert found.status == "text"
    assert found.text.split("\n") == ["资金管理办法", "第一条 总则。", "项目 金额（万元）", "引导资金 3000"]


def test_xlsx_rows_with_numbers():
    found = file_text(xlsx_file(["镇街|面积", "青山镇|1500"]), "xlsx")
    assert (found.status, found.pages, found.text) == ("text", 1, "镇街 面积\n青山镇 1500")


@pytest.mark.parametrize("kind, data", [
    ("docx", docx_file(LINES)[:1500]),  # a download cut short
    ("pdf", text_pdf([LINES])[:300]),
    ("xlsx", b"<html>404 Not Found</html>"),  # an error page served as the file
])
def test_corrupt_files_are_recorded_with_a_reason(kind, data):
    found = file_text(data, kind)
    assert found.status == "corrupt" and found.text is None and found.reason


def test_encrypted_office_file_is_encrypted_not_corrupt():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    assert file_text(ole, "docx").status == "encrypted"


def test_kind_comes_from_the_bytes_when_they_say_it():
    assert sniffed_kind(docx_file(LINES), "doc") == "docx"  # a .docx served as .doc
    assert sniffed_kind(xlsx_file(["a|1"]), "xls") == "xlsx"
    assert sniffed_kind(text_pdf([LINES]), "wps") == "pdf"
    assert sniffed_kind(docx_file(LINES)[:1500], "docx") == "docx"  # cut short: the name decides
    assert sniffed_kind(b"\xd0\xcf\x11\xe0 old word", "doc") == "doc"


def test_unreadable_kinds_are_unsupported():
    found = file_text(b"PK\x03\x04 OFD", "ofd")
    assert found.status == "unsupported" and ".ofd" in found.reason


def test_old_word_without_catdoc_is_unsupported(monkeypatch):
    monkeypatch.setenv("PATH", "")
    found = file_text(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "doc")
    assert found.status == "unsupported" and "catdoc" in found.reason


@pytest.mark.skipif(shutil.which("catdoc") is None, reason="catdoc not installed (make attachment-deps)")
def test_old_word_that_is_not_an_ole_file_is_corrupt():
    found = file_text(b"{\\rtf1 not a word file}", "doc")
    assert found.status == "corrupt" and "OLE" in found.reason


def docx_bomb(paragraphs: int) -> bytes:
    """A real DOCX whose document.xml repeats one paragraph: 1.1 MB on the wire for a million,
    which unpack to 250 MB of XML and several GB of parsed tree."""
    source = zipfile.ZipFile(io.BytesIO(docx_file(["正文"])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "word/document.xml":
                head, tail = data.split(b"<w:body>", 1)
                paragraph = "<w:p><w:r><w:t>{}</w:t></w:r></w:p>".format("重复的段落文字" * 10).encode()
                data = head + b"<w:body>" + paragraph * paragraphs + tail
            bomb.writestr(item, data)
    return out.getvalue()


def test_a_file_read_in_a_child_gives_what_it_gives_in_process():
    data = text_pdf([LINES[:2], LINES[2:]])
    assert read_limited(data, "pdf", seconds=60, memory_bytes=2 << 30) == file_text(data, "pdf")
    assert read_limited(b"%PDF-1.4 cut", "pdf", seconds=60, memory_bytes=2 << 30).status == "corrupt"


def test_a_file_that_needs_too_much_memory_is_too_large_and_the_reader_goes_on():
    found = read_limited(docx_bomb(1_000_000), "docx", seconds=60, memory_bytes=512 << 20)
    assert (found.status, found.reason) == ("too_large", "reading it needs more than 512 MB")
    assert file_text(docx_file(LINES), "docx").text.split("\n") == LINES  # this process is untouched


def test_a_file_that_takes_too_long_is_stopped():
    started = time.monotonic()
    found = read_limited(docx_bomb(200_000), "docx", seconds=1, memory_bytes=8 << 30)  # ~5 s to read
    assert (found.status, found.reason) == ("too_large", "reading it took more than 1 s")
    assert time.monotonic() - started < 5


def test_what_a_reader_prints_does_not_spoil_the_childs_answer():
    """xlrd prints a warning to stdout for an Excel file of an odd size; the answer still comes back."""
    header = bytearray(512)
    header[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)  # versions, byte order, 512-byte sectors
    data = bytes(header) + b"\0" * 700  # not 512 + a multiple of 512
    assert read_limited(data, "xls", seconds=60, memory_bytes=2 << 30) == file_text(data, "xls")


def test_text_beyond_the_limit_is_cut_and_says_so(monkeypatch):
    monkeypatch.setattr(filetext, "MAX_TEXT_CHARS", 20)
    found = file_text(docx_file(LINES), "docx")
    assert (found.status, len(found.text)) == ("text", 20)
    assert found.reason == f"text cut at 20 characters of {len(chr(10).join(LINES))}"
