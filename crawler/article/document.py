"""Government-document header fields (政府信息公开): 索引号, 主题分类, 发布机构/发文机关, 发文字号,
成文日期, 发布日期, 有效性... as a 信息公开 page shows them above its text.

CMSs print the same labels in many markups: table rows of label and value cells (TRS, Kaipu),
`<b>索 引 号:</b> value` in one cell, `<li><span>发文字号：</span>value</li>` (Hanweb), `[发文机构]`
in brackets, label/value divs, `<dl>`. All of them read the same once the page is cut into its block-level lines (a cell,
a list item, a div of its own text): a line that is a label takes the next line as its value,
a line of `label：value label：value` is split at its labels, and a short line that starts
with a label without a colon (`<span>成文日期</span>2025-03-01`) holds its value. The government meta tags fill
what the header does not show (ContentSource: the issuing body, PubDate, ColumnName).
"""
from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache

from crawler.article.dates import CHINA, parse_date
from crawler.article.decode import ascii_compatible
from crawler.article.text import normalize_space

FIELDS = ("index_no", "category", "issuer", "doc_number", "written", "issued", "effective", "expires",
          "validity", "keywords", "column_name")
DATE_FIELDS = ("written", "issued", "effective", "expires")
PAST_DATES = ("written", "issued")  # never after the fetch
UNSPACED = ("index_no", "doc_number")  # printed with spaces at times (`东政发 〔2022〕 112号`), never meant

# Labels by field, as real 信息公开 pages print them.
LABELS = {
    "index_no": ("索引号", "信息索引号", "索取号"),
    "category": ("主题分类", "信息分类", "分类", "公开目录"),
    "issuer": ("发布机构", "发文机关", "发文机构", "发文单位", "发布单位", "制发机关", "公开主体"),
    "doc_number": ("发文字号", "文号", "发文文号", "文件编号"),
    "written": ("成文日期", "成文时间", "发文日期", "印发日期"),
    "issued": ("发布日期", "发布时间", "公开日期", "公开时间"),
    "effective": ("生效日期", "实施日期", "施行日期", "生效时间"),
    "expires": ("废止日期", "失效日期", "失效时间"),
    "validity": ("有效性", "时效性", "效力状态", "时效状态", "时效", "是否有效"),
    "keywords": ("主题词", "关键词"),
    "column_name": ("所属栏目", "栏目"),
}
# Labels that header blocks show beside those, read only to end the value before them.
OTHER_LABELS = ("标题", "名称", "文件名称", "来源", "信息来源", "公文种类", "文种", "体裁分类", "组配分类",
                "服务对象", "所属机构", "公开方式", "公开范围", "公开时限", "公开形式", "浏览次数", "点击数",
                "访问量", "字号", "作者", "责任编辑", "签发人", "内容概述", "摘要", "效力级别", "联合发文单位")
# A page is a government document when its header shows at least this many of these fields
# (a news page's byline has a 发布日期 and a 来源, never a 索引号 and a 文号).
DOCUMENT_EVIDENCE = ("index_no", "category", "issuer", "doc_number", "written", "validity", "effective")
MIN_EVIDENCE = 2
# Quick test on the page's text before it is cut into lines: one of these words must be there.
MARKERS = ("索引号", "索 引 号", "文号", "发文字号", "成文日期", "成文时间", "发文日期", "发文机关", "发文机构",
           "发布机构", "主题分类", "有效性")
MAX_HEADER_LINE = 300  # a longer line is article text, not a header cell
MAX_VALUE = 120
_PLACEHOLDERS = {"无", "暂无", "空", "-", "--", "—", "/", "／", "null", "none"}
_CJK = "\u3400-\u9fff"
_GAP = r"[\s\u3000\xa0]*"


def _spelled(label: str) -> str:
    """`索引号` as pages print it: `索引号`, `索 引 号`, `索&nbsp;引&nbsp;号`."""
    return _GAP.join(map(re.escape, label))


_FIELD_OF = {label: field for field, labels in LABELS.items() for label in labels} | {
    label: None for label in OTHER_LABELS}
_ALTERNATIVES = "|".join(_spelled(label) for label in sorted(_FIELD_OF, key=len, reverse=True))
# A label followed by its colon, or in brackets (`[发文字号]`, `【发布日期】`), not inside a word
# (`本文有效性：` is text, not a label).
_LABEL = re.compile(rf"(?<![{_CJK}])(?:[\[【]{_GAP})?({_ALTERNATIVES}){_GAP}(?:[\]】]{_GAP}[:：]?|[:：])")
# A line that is only a label (the value is in the next cell), with or without its colon.
_LABEL_LINE = re.compile(rf"(?:[\[【]{_GAP})?({_ALTERNATIVES}){_GAP}[\]】]?{_GAP}[:：]?")
# A label run into its value without a colon (`<span>成文日期</span>2025-03-01`), in a short line.
_LEADING_LABEL = re.compile(rf"(?:[\[【]{_GAP})?({_ALTERNATIVES}){_GAP}[\]】]?{_GAP}(?=\S)")
MAX_RUN_IN_LINE = 60
# Any short line ending in a colon is a label, known or not: it never becomes another's value.
_ANY_LABEL_LINE = re.compile(rf"[{_CJK}\s\u3000\xa0]{{2,12}}[:：]")
_SPACES = re.compile(r"[\s\u3000\xa0]+")
# What a field's value always holds: a date or number has digits, a 文号 its 号 or year, a
# validity a word of validity (有效, 失效, 废止, 已修订).
_SHAPES = {
    **{name: re.compile(r"\d|[〇一二三四五六七八九十]{2}") for name in DATE_FIELDS},
    "index_no": re.compile(r"\d"),
    "doc_number": re.compile(r"\d|号"),
    "validity": re.compile(r"效|废|止|修"),
}
_FAR_FUTURE = datetime(2200, 1, 1, tzinfo=CHINA)


def field_of(label: str) -> str | None:
    return _FIELD_OF.get(_SPACES.sub("", label))


@lru_cache(maxsize=None)
def _markers_in(encoding: str) -> re.Pattern | None:
    """MARKERS as bytes of a page's encoding (None: the encoding cannot be searched bytewise)."""
    if not ascii_compatible(encoding):
        return None
    encoded = []
    for marker in MARKERS:
        try:
            encoded.append(re.escape(marker.encode(encoding)))
        except UnicodeEncodeError:  # a Big5 page cannot spell them: it has none
            continue
    return re.compile(b"|".join(encoded) or b"(?!)")


def may_hold_header(page: bytes, encoding: str) -> bool:
    """Whether a page (its bytes, in `encoding`) can hold a document header: one of the MARKERS
    is in its bytes. A search of the undecoded bytes costs a fortieth of an extraction, against
    a quarter for asking libxml2 of every text node."""
    markers = _markers_in(encoding)
    return markers is None or markers.search(page) is not None


def _plausible(field: str, value: str) -> bool:
    """A value that can be this field's: not a placeholder, not a sentence (the first line of the
    text after a header cell left empty), and of the field's shape."""
    if not 0 < len(value) <= MAX_VALUE or value.lower() in _PLACEHOLDERS or value.endswith((":", "：")):
        return False
    shape = _SHAPES.get(field)
    return shape is None or bool(shape.search(value))


def header_fields(lines: list[str]) -> dict[str, str]:
    """The raw values of the header labels in a page's block-level lines (the first wins)."""
    found: dict[str, str] = {}
    waiting = None  # the field whose label ended the previous line, its value in the next one

    def take(field: str | None, value: str) -> None:
        value = value.strip(" \u3000\xa0;；|｜")
        if field and field not in found and _plausible(field, value):
            found[field] = value

    for line in lines:
        labels = list(_LABEL.finditer(line)) if len(line) <= MAX_HEADER_LINE else []
        whole = _LABEL_LINE.fullmatch(line)
        if whole:
            waiting = field_of(whole.group(1))
            continue
        if not labels:
            run_in = _LEADING_LABEL.match(line) if len(line) <= MAX_RUN_IN_LINE else None
            if waiting and not _ANY_LABEL_LINE.fullmatch(line):
                take(waiting, line)
            elif run_in:
                take(field_of(run_in.group(1)), line[run_in.end():])
            waiting = None
            continue
        if waiting and labels[0].start() > 0:
            take(waiting, line[:labels[0].start()])
        waiting = None
        for label, after in zip(labels, labels[1:] + [None]):
            value = line[label.end(): after.start() if after else len(line)]
            if value.strip():
                take(field_of(label.group(1)), value)
            elif after is None:
                waiting = field_of(label.group(1))
    return found


def _from_meta(tags: dict[str, str]) -> dict[str, str]:
    """What the government meta tags say of a document (tag names lower-cased)."""
    values = {"issuer": tags.get("contentsource"), "issued": tags.get("pubdate"), "column_name": tags.get("columnname")}
    return {name: value for name, value in values.items() if value}


def document_fields(lines: list[str], tags: dict[str, str], site_values: dict[str, str | None]) -> dict[str, str] | None:
    """The raw header fields of a government document page, or None for a page that is not one.
    `lines`: the page's block-level lines; `tags`: its meta tags; `site_values`: what the site
    module's selectors found for document fields (they win; a page where one finds something
    is a document). The header shows at least MIN_EVIDENCE distinctive fields otherwise."""
    header = header_fields(lines)
    found = {name: value for name, value in site_values.items() if value}
    if not found and sum(1 for name in DOCUMENT_EVIDENCE if header.get(name)) < MIN_EVIDENCE:
        return None
    return {**_from_meta(tags), **header, **found}


def clean_document(raw: dict[str, str] | None, fetched: datetime | None = None) -> dict[str, str | None] | None:
    """The stored fields of a document: dates in ISO 8601 as `published` has them (China time),
    the 文号 and 索引号 as printed without stray spaces, other values with their spaces tidied."""
    if not raw:
        return None
    cleaned = {}
    for name in FIELDS:
        value = normalize_space(raw.get(name) or "")
        if name in DATE_FIELDS:
            # a document takes effect or expires after it is published, maybe after the fetch
            value = parse_date(value, now=fetched if name in PAST_DATES else _FAR_FUTURE)
        elif name in UNSPACED:
            value = _SPACES.sub("", value)
        cleaned[name] = value or None
    return cleaned
