"""Real attachment files for the demo's 信息公开 site, made when it first serves them: PDFs with
a text layer (as office suites export them) or only page images (as scanners write them), a
password-protected PDF, Word and Excel files (python-docx, openpyxl), and a Word file cut short.

The PDFs are written here as PDF 1.4 objects: a Type0 font whose ToUnicode map gives each
character's code point, the way exported Chinese PDFs carry their text; pypdf, the reader of
crawler.article.filetext, encrypts one."""
from __future__ import annotations

import io
import zlib

PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4 in points
FONT_SIZE, LEADING, MARGIN = 12, 20, 72


def _hex(text: str) -> str:
    # Identity-H: each character is its 2-byte CID, and CID = the Unicode code point (BMP only).
    return "".join(f"{ord(c):04X}" for c in text)


def _to_unicode(chars: set[str]) -> bytes:
    pairs = "\n".join(f"<{ord(c):04X}> <{ord(c):04X}>" for c in sorted(chars))
    return ("/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            "/CMapName /Adobe-Identity-UCS def /CMapType 2 def\n"
            "1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
            f"{len(chars)} beginbfchar\n{pairs}\nendbfchar\n"
            "endcmap CMapName currentdict /CMap defineresource pop end end").encode("ascii")


def _stream(data: bytes, extra: str = "") -> bytes:
    packed = zlib.compress(data)
    return f"<< /Length {len(packed)} /Filter /FlateDecode {extra}>>\nstream\n".encode() + packed + b"\nendstream"


def _pdf(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def text_pdf(pages: list[list[str]]) -> bytes:
    """A PDF whose pages hold these lines of text, extractable as text (what office suites write)."""
    chars = {c for lines in pages for line in lines for c in line}
    n = len(pages)
    # objects: 1 catalog, 2 pages, 3 font, 4 descendant font, 5 descriptor, 6 ToUnicode,
    # then per page: page, content
    kids = " ".join(f"{7 + 2 * i} 0 R" for i in range(n))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode(),
        b"<< /Type /Font /Subtype /Type0 /BaseFont /SimSun /Encoding /Identity-H "
        b"/DescendantFonts [4 0 R] /ToUnicode 6 0 R >>",
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /SimSun /CIDToGIDMap /Identity "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
        b"/FontDescriptor 5 0 R /DW 1000 >>",
        b"<< /Type /FontDescriptor /FontName /SimSun /Flags 6 /FontBBox [0 -141 1000 859] "
        b"/ItalicAngle 0 /Ascent 859 /Descent -141 /CapHeight 700 /StemV 80 >>",
        _stream(_to_unicode(chars)),
    ]
    for i, lines in enumerate(pages):
        ops = [f"BT /F1 {FONT_SIZE} Tf {LEADING} TL {MARGIN} {PAGE_HEIGHT - MARGIN} Td"]
        ops += [f"<{_hex(line)}> Tj T*" for line in lines]
        ops.append("ET")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] "
                       f"/Resources << /Font << /F1 3 0 R >> >> /Contents {8 + 2 * i} 0 R >>".encode())
        objects.append(_stream("\n".join(ops).encode("ascii")))
    return _pdf(objects)


def scanned_pdf(pages: int = 1) -> bytes:
    """A PDF whose pages are images only, as a scanner writes them: no text layer."""
    side = 64
    pixels = bytes((x ^ y) & 0xFF for y in range(side) for x in range(side))  # a grey pattern
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode(),
        _stream(pixels, f"/Type /XObject /Subtype /Image /Width {side} /Height {side} "
                        "/ColorSpace /DeviceGray /BitsPerComponent 8 "),
    ]
    for i in range(pages):
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] "
                       f"/Resources << /XObject << /Im1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode())
        objects.append(_stream(f"q {PAGE_WIDTH} 0 0 {PAGE_HEIGHT} 0 0 cm /Im1 Do Q".encode()))
    return _pdf(objects)


def encrypted_pdf(lines: list[str], password: str = "beilin") -> bytes:
    """A PDF that opens only with a password (AES-128)."""
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=io.BytesIO(text_pdf([lines])))
    writer.encrypt(password, algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx_file(lines: list[str]) -> bytes:
    """A Word file: the first line as its heading, then paragraphs, and lines of cells
    (`项目|金额`) as the rows of a table."""
    from docx import Document

    document = Document()
    document.add_heading(lines[0], level=1)
    rows = [line.split("|") for line in lines[1:] if "|" in line]
    for line in lines[1:]:
        if "|" not in line:
            document.add_paragraph(line)
    if rows:
        table = document.add_table(rows=len(rows), cols=max(map(len, rows)))
        for cells, row in zip(table.rows, rows):
            for cell, value in zip(cells.cells, row):
                cell.text = value
    return _saved(document)


def xlsx_file(lines: list[str]) -> bytes:
    """An Excel file with one row per line of cells (`镇街|面积`); numbers as numbers."""
    from openpyxl import Workbook

    workbook = Workbook()
    for line in lines:
        workbook.active.append([int(cell) if cell.isdigit() else cell for cell in line.split("|")])
    return _saved(workbook)


def _saved(document) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


CONTENT_TYPES = {
    "pdf": "application/pdf", "ofd": "application/ofd",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def made_file(made: str, lines: list[str]) -> bytes | None:
    """The bytes of a demo attachment made as `made` says; None for one the site lost (a 404)."""
    makers = {
        "pdf": lambda: text_pdf([lines[:2], lines[2:]]),
        "scanned": lambda: scanned_pdf(2),
        "encrypted": lambda: encrypted_pdf(lines),
        "docx": lambda: docx_file(lines),
        "corrupt": lambda: docx_file(lines)[:1500],  # a download cut short
        "xlsx": lambda: xlsx_file(lines),
        "ofd": lambda: b"PK\x03\x04 OFD",  # a kind the crawler does not download
    }
    return makers[made]() if made in makers else None
