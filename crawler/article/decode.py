"""Page bytes -> text, the way Chinese sites need it.

Order: BOM, then valid UTF-8 (GBK text is practically never valid UTF-8, so this also catches
UTF-8 pages that declare gb2312), then the charset declared in the HTTP header or the page,
then sniffing. Any GB label decodes as gb18030 and Big5 as big5hkscs (w3lib's translation),
because pages that declare gb2312 routinely use GBK-only characters. Never guess cp1252, as
generic tools do: that turns Chinese into mojibake that looks like text.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom, resolve_encoding

_SNIFF_ORDER = ("gb18030", "big5hkscs")
# Western single-byte charsets decode any bytes without error: a Chinese page that declares one
# is misconfigured, and trusting it would store mojibake.
_UNTRUSTED = {"cp1252", "latin-1", "iso8859-1", "ascii", "utf-8"}


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    lossy: bool  # some bytes could not be decoded and were replaced


def _strict(body: bytes, encoding: str) -> str | None:
    """Decode without replacement; a page cut off inside its last character (a truncated
    download) loses that character rather than the whole decoding."""
    try:
        return body.decode(encoding)
    except LookupError:
        return None
    except UnicodeDecodeError as exc:
        bad = exc.start
    if bad < len(body) - 3:
        return None
    try:
        return body[:bad].decode(encoding)
    except UnicodeDecodeError:
        return None


def decode_html(body: bytes, content_type: str | None = None) -> Decoded:
    bom_encoding, bom = read_bom(body)
    if bom_encoding:
        text = _strict(body[len(bom):], bom_encoding)
        if text is not None:
            return Decoded(text, bom_encoding, False)
        return _least_damaged(body[len(bom):], [bom_encoding])
    text = _strict(body, "utf-8")
    if text is not None:
        return Decoded(text, "utf-8", False)
    declared = [http_content_type_encoding(content_type), html_body_declared_encoding(body)]
    candidates = [resolve_encoding(label) for label in declared if label]
    for encoding in dict.fromkeys(c for c in candidates if c and c not in _UNTRUSTED):
        text = _strict(body, encoding)
        if text is not None and encoding not in _SNIFF_ORDER:
            return Decoded(text, encoding, False)
        if text is not None:
            # A GB or Big5 label is checked against the other: Big5 pages labelled gb2312 exist,
            # and each decodes the other's bytes without error. The label wins a tie.
            return _more_everyday([(text, encoding)] + _sniffed(body, encoding))
    sniffed = _sniffed(body)
    if sniffed:
        return _more_everyday(sniffed)
    return _least_damaged(body, [c for c in candidates if c] + ["utf-8", *_SNIFF_ORDER])


def _sniffed(body: bytes, skip: str = "") -> list[tuple[str, str]]:
    """(text, encoding) for each Chinese encoding that decodes the bytes without error."""
    return [(text, encoding) for encoding in _SNIFF_ORDER
            if encoding != skip and (text := _strict(body, encoding)) is not None]


def _more_everyday(decodings: list[tuple[str, str]]) -> Decoded:
    counts = [_everyday_count(text, encoding) for text, encoding in decodings]
    text, encoding = decodings[counts.index(max(counts))]  # the first of equals
    return Decoded(text, encoding, False)


# Everyday characters of each national standard: GB2312 level 1 (lead bytes B0-D7) and Big5's
# frequently used characters (lead bytes A4-C6). Big5 bytes read as GBK, or the reverse, decode
# without error but land mostly outside them.
def _everyday(codec: str, lead_bytes: range) -> frozenset[str]:
    chars = set()
    for lead in lead_bytes:
        for trail in range(0x40, 0xFF):
            try:
                chars.add(bytes([lead, trail]).decode(codec))
            except UnicodeDecodeError:
                pass
    return frozenset(chars)


@lru_cache(maxsize=None)
def _everyday_of(encoding: str) -> frozenset[str]:
    return _everyday("gb2312", range(0xB0, 0xD8)) if encoding == "gb18030" else _everyday("big5", range(0xA4, 0xC7))


def _everyday_count(text: str, encoding: str) -> int:
    """How many of the first characters of `text` are everyday characters of `encoding`."""
    return sum(map(_everyday_of(encoding).__contains__, text[:2000]))


def _least_damaged(body: bytes, encodings: list[str]) -> Decoded:
    """A page with a few stray bytes (a pasted fragment in another encoding, a cut-off
    character) in the encoding that loses the fewest of them; the lost bytes are dropped,
    never stored as U+FFFD."""
    best = None
    for encoding in dict.fromkeys(encodings):
        try:
            text = body.decode(encoding, "replace")
        except LookupError:
            continue
        damage = text.count("\ufffd")
        if best is None or damage < best[0]:
            best = (damage, text, encoding)
    damage, text, encoding = best
    return Decoded(text.replace("\ufffd", ""), encoding, True)


@lru_cache(maxsize=64)
def ascii_compatible(encoding: str) -> bool:
    """Whether markup is its own ASCII bytes in this encoding (UTF-8, GBK, Big5: yes; UTF-16:
    no), so that tags and attributes can be searched for in the undecoded page: a byte of a
    multi-byte character can at worst make up a match that is not there, never hide one."""
    try:
        return "<a href=Refresh>".encode(encoding) == b"<a href=Refresh>"
    except (LookupError, UnicodeError):
        return False
