"""Attachment bytes -> text: PDF (pypdf), DOCX (python-docx), XLSX (openpyxl), XLS (xlrd), old
Word and WPS files (Debian's catdoc, when installed). A pure function of the bytes and kind.

What cannot be read is said, never guessed: a PDF without a text layer is `scanned` (no OCR),
one that needs a password is `encrypted`, bytes that do not parse are `corrupt`, a kind with no
reader (or whose tool is not installed) is `unsupported`; the reason says what happened.
"""
from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from dataclasses import dataclass

from crawler.article.text import normalize_space

READABLE = ("pdf", "docx", "xlsx", "xls", "doc", "wps")
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the signature of old Office files (and encrypted new ones)
# A PDF page with fewer characters than this and an image is a scanned page.
MIN_PAGE_CHARS = 10
CATDOC_SECONDS = 60  # an old Word file that takes longer than this is not worth waiting for
# More text than this from one file (a 500-page report holds about 500,000 characters) is a table
# dump, not a document to search; the rest is not stored.
MAX_TEXT_CHARS = 5_000_000


@dataclass(frozen=True)
class FileText:
    status: str  # text | empty | scanned | encrypted | corrupt | unsupported | too_large
    text: str | None = None
    pages: int | None = None  # PDF pages, spreadsheet sheets
    reason: str | None = None


def _lines(texts) -> str:
    return "\n".join(line for line in (normalize_space(t) for t in texts) if line)


def _read(kind: str, data: bytes) -> FileText:
    if kind == "pdf":
        return _pdf(data)
    if kind == "docx":
        return _docx(data)
    if kind == "xlsx":
        return _xlsx(data)
    if kind == "xls":
        return _xls(data)
    return _catdoc(data)


def sniffed_kind(data: bytes, named: str) -> str:
    """The kind the bytes show, where they say it: sites often serve a .docx named .doc, a PDF
    named .wps, or a Word file behind a download script; else the kind the link named."""
    if data.startswith(b"%PDF"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:  # cut short: the reader of the named kind says so
            return named
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
    return named


def file_text(data: bytes, kind: str) -> FileText:
    """The text of an attachment of this kind (`pdf`, `docx`...), or why there is none."""
    if kind not in READABLE:
        return FileText("unsupported", reason=f"no text reader for .{kind} files")
    try:
        found = _read(kind, data)
    except MemoryError:  # a file that unpacks to more than the reading process may have
        return FileText("too_large", reason="reading it ran out of memory")
    except Exception as exc:  # every reader has its own exceptions for bytes it cannot parse
        return FileText("corrupt", reason=f"{type(exc).__name__}: {exc}"[:300])
    if found.status == "text" and not found.text:
        return FileText("empty", pages=found.pages, reason="the file holds no text")
    if found.text and len(found.text) > MAX_TEXT_CHARS:
        return FileText(found.status, found.text[:MAX_TEXT_CHARS], found.pages,
                        f"text cut at {MAX_TEXT_CHARS:,} characters of {len(found.text):,}")
    return found


def _pdf(data: bytes) -> FileText:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    # Many government PDFs are encrypted only against editing, with an empty password to open.
    if reader.is_encrypted and not reader.decrypt(""):
        return FileText("encrypted", pages=None, reason="the PDF needs a password to open")
    texts = [page.extract_text() or "" for page in reader.pages]
    text = _lines(line for page in texts for line in page.splitlines())
    if len(text) < MIN_PAGE_CHARS * len(texts) and any(page.images for page in reader.pages):
        return FileText("scanned", text=text or None, pages=len(texts),
                        reason="the pages are images without a text layer (no OCR)")
    return FileText("text", text=text, pages=len(texts))


def _encrypted_office(data: bytes) -> FileText | None:
    """Office encrypts a .docx or .xlsx by wrapping it in an OLE file: not a zip any more."""
    if data.startswith(_OLE):
        return FileText("encrypted", reason="a password-protected Office file")
    return None


def _docx(data: bytes) -> FileText:
    from docx import Document

    if found := _encrypted_office(data):
        return found
    document = Document(io.BytesIO(data))
    texts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            texts.append(" ".join(cell.text for cell in row.cells))
    return FileText("text", text=_lines(texts))


def _xlsx(data: bytes) -> FileText:
    from openpyxl import load_workbook

    if found := _encrypted_office(data):
        return found
    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    rows = [" ".join(str(v) for v in row if v is not None)
            for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True)]
    return FileText("text", text=_lines(rows), pages=len(workbook.worksheets))


def _xls(data: bytes) -> FileText:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data)
    except xlrd.XLRDError as exc:
        if "encrypted" in str(exc).lower():
            return FileText("encrypted", reason="a password-protected Excel file")
        raise
    rows = [" ".join(str(v) for v in sheet.row_values(i) if v not in ("", None))
            for sheet in book.sheets() for i in range(sheet.nrows)]
    return FileText("text", text=_lines(rows), pages=book.nsheets)


def _catdoc(data: bytes) -> FileText:
    """Old Word (.doc) and WPS files through Debian's catdoc (`make attachment-deps`)."""
    catdoc = shutil.which("catdoc")
    if catdoc is None:
        return FileText("unsupported", reason="catdoc is not installed (make attachment-deps)")
    if not data.startswith(_OLE):
        return FileText("corrupt", reason="not an OLE compound document")
    done = subprocess.run([catdoc, "-d", "utf-8", "-w"], input=data, capture_output=True,
                          timeout=CATDOC_SECONDS)
    if done.returncode != 0:
        return FileText("corrupt", reason=done.stderr.decode("utf-8", "replace").strip()[:300] or "catdoc failed")
    return FileText("text", text=_lines(done.stdout.decode("utf-8", "replace").splitlines()))
