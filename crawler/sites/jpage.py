"""Hanweb (大汉) jpage lists: records kept in the page as XML, the rest from a data proxy.

Hanweb jpage lists keep their records in the page as XML,
  `<script type="text/xml"><datastore><recordset><record><![CDATA[<li><a href=…>…]]></record>`,
  which CSS and XPath on the HTML tree never see. `expand_datastores` puts the records' markup
  where the browser would show them (a `<div class="jpage-records">`), so a site's
  `article_links` selector and the generic link finder read them like any list. The next
  records come from the jpage data proxy, `/module/web/jpage/dataproxy.jsp?startrecord=46&
  endrecord=90&perpage=15` plus the page's own parameters (`columnid`, `unitid`, ...), which
  answers with the same `<datastore>` XML.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

# --- Hanweb jpage -----------------------------------------------------------------------------
_DATASTORE_SCRIPT = re.compile(r"<script\b[^>]*>\s*(<datastore\b.*?</datastore>)\s*</script>", re.S | re.I)
_BARE_DATASTORE = re.compile(r"^\s*(?:<\?xml[^>]*\?>\s*)?<datastore\b", re.I)
_RECORD = re.compile(r"<record\b[^>]*>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S | re.I)
_NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[.*?href\s*=\s*['\"]([^'\"]+)", re.S | re.I)
_TOTAL = re.compile(r"totalRecord\s*[:=]\s*['\"]?(\d+)|<totalrecord>\s*(\d+)", re.I)
_PER_PAGE = re.compile(r"\bperPage\s*[:=]\s*['\"]?(\d+)", re.I)
_GROUP = re.compile(r"\bgroupSize\s*[:=]\s*['\"]?(\d+)", re.I)
_PROXY = re.compile(r"proxyUrl\s*[:=]\s*['\"]([^'\"]+)", re.I)
_AJAX_PARAM = re.compile(r"ajaxParam\s*:\s*(?:\{([^{}]*)\}|(\w+))", re.I)
_LITERAL_FIELD = re.compile(r"""(\w+)\s*:\s*(?:'([^']*)'|"([^"]*)"|([\w./-]+))""")
DATAPROXY = "/module/web/jpage/dataproxy.jsp"
_PAGING_KEYS = {"page", "startrecord", "endrecord", "perpage"}
DEFAULT_PER_PAGE, DEFAULT_GROUP = 15, 3  # jpage's own defaults


def has_datastore(text: str) -> bool:
    return "<datastore" in text[:400000].lower()


def expand_datastores(text: str) -> str:
    """The page with each jpage datastore replaced by the markup of its records (a bare
    data-proxy answer becomes a page of its records)."""
    if _BARE_DATASTORE.match(text):
        return f'<html><body><div class="jpage-records">{"".join(_RECORD.findall(text))}</div></body></html>'
    return _DATASTORE_SCRIPT.sub(
        lambda m: f'<div class="jpage-records">{"".join(_RECORD.findall(m.group(1)))}</div>', text)


@dataclass(frozen=True)
class JPage:
    """A jpage list as its page (or a data-proxy answer) describes it."""
    proxy: str  # absolute URL of the data proxy
    params: tuple[tuple[str, str], ...]  # the column's parameters: columnid, unitid, webid, ...
    per_page: int
    group: int  # records asked for at once (perPage x groupSize)
    total: int | None  # records in the column, if the page says
    records: int  # records on this page


def jpage_of(text: str, url: str) -> JPage | None:
    stores = [m.group(1) for m in _DATASTORE_SCRIPT.finditer(text)] or ([text] if _BARE_DATASTORE.match(text) else [])
    if not stores:
        return None
    store = max(stores, key=lambda s: len(_RECORD.findall(s)))
    nextgroup = _NEXTGROUP.search(store)
    href = nextgroup.group(1).replace("&amp;", "&") if nextgroup else ""
    if _BARE_DATASTORE.match(text):  # a data-proxy answer: it was asked with the column's parameters
        href = url
    params = [(k, v) for k, v in parse_qsl(urlsplit(href).query, keep_blank_values=True) if k.lower() not in _PAGING_KEYS]
    given = {key for key, _ in params}  # the nextgroup link may lack some of what jpage posts (col=1)
    params += [(key, value) for key, value in _ajax_params(text) if key not in given]
    proxy = _PROXY.search(text)
    proxy_url = urljoin(url, href.split("?", 1)[0] if href else proxy.group(1) if proxy else DATAPROXY)
    asked = dict(parse_qsl(urlsplit(url).query))
    per_page = _number(_PER_PAGE, text) or _int(asked.get("perpage")) or _int(dict(parse_qsl(urlsplit(href).query)).get("perpage"))
    per_page = per_page or DEFAULT_PER_PAGE
    total = _TOTAL.search(text)
    start, end = _int(asked.get("startrecord")), _int(asked.get("endrecord"))
    group = end - start + 1 if start and end and end >= start else per_page * (_number(_GROUP, text) or DEFAULT_GROUP)
    return JPage(proxy_url, tuple(params), per_page, group,
                 int(total.group(1) or total.group(2)) if total else None, len(_RECORD.findall(store)))


def _ajax_params(text: str) -> list[tuple[str, str]]:
    """The parameters jpage posts to its data proxy: `ajaxParam:{columnid:1229,...}`, or
    `ajaxParam:jpage_2571` with `var jpage_2571 = {...}` beside it."""
    found = _AJAX_PARAM.search(text)
    if found is None:
        return []
    literal = found.group(1)
    if literal is None:
        named = re.search(r"\b" + re.escape(found.group(2)) + r"\s*=\s*\{([^{}]*)\}", text)
        literal = named.group(1) if named else ""
    return [(m.group(1), next(v for v in m.groups()[1:] if v is not None)) for m in _LITERAL_FIELD.finditer(literal)]


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _number(pattern: re.Pattern, text: str) -> int | None:
    match = pattern.search(text)
    return int(match.group(1)) if match else None


def next_records(text: str, url: str) -> str | None:
    """The data-proxy request for the records after this page's (a list page or a data-proxy
    answer at `url`)."""
    jpage = jpage_of(text, url)
    if jpage is None or not jpage.records:
        return None
    asked = dict(parse_qsl(urlsplit(url).query))
    start = (_int(asked.get("endrecord")) or jpage.records) + 1
    if jpage.total is not None and start > jpage.total:
        return None
    end = start + jpage.group - 1
    if jpage.total is not None:
        end = min(end, jpage.total)
    query = [("startrecord", str(start)), ("endrecord", str(end)), ("perpage", str(jpage.per_page)), *jpage.params]
    return f"{jpage.proxy}?{urlencode(query)}"
