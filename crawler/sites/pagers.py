"""The next list page of a list page, as the pagers of Chinese government CMSs write it.

A list page says where its next page is in one of these ways, each a named pager:

- `link`: an `<a>` labelled 下一页 / 下页 / 后页 / next / > / » (in its text, title or image alt),
  or classed `next`; a `javascript:` href whose onclick holds the URL
  (`onclick="location.href=encodeURI('index_2.jhtml')"`) counts too.
- `trs`: TRS WCM writes the pager with a script: `createPageHTML(10, 0, "index", "html")`
  (also `createPageHTML('page_div', 10, 1, 'index', 'html', 96)`, arguments in variables set
  in another `<script>`), `var countPage = 10; var currentPage = 0;` with `document.write`,
  or `new Pager({size: 10, current: 0, prefix: 'index', suffix: 'html'})`. Page i + 1 is
  `index_i.html`; the first is `index.html`.
- `hanweb`: Hanweb (大汉) jpage lists hold their records in `<script type="text/xml">` and
  serve the rest from `/module/web/jpage/dataproxy.jsp?startrecord=&endrecord=&perpage=`
  (see crawler.sites.listing).
- `select`: a `<select>` 跳转 box whose options are the pages' URLs.
- `numbered`: a link to the page after this one by its URL: `index_1.html` or `list_2.html`
  after `index.html`, `index_3.shtml` after `index_2.shtml`, `?page=3` (`pageIndex`, `PageNo`,
  `pageNum`, ...) after `?page=2`.
- `form`: a GET 跳转 form with a page-number input (`<input name="pageNo">`).

Site modules name one of them (`next_page = "trs"`), give a CSS/XPath selector of the next
link, or a URL template with `{n}` (the next page's number, 2 for the second page) or `{i}`
(its zero-based index, 1 for the second page). `crawl --url` tries them all, in the order
above. Every function here is pure: page text and URL in, URLs out.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import parsel
from w3lib.html import get_base_url

from crawler.article.extract import select, whole_document
from crawler.article.text import normalize_space
from crawler.sites import jpage

PAGER_STAT = "list_pages/pager/"  # + pager name: the run stat of next list pages it found (crawl_runs.pagers)
PAGE_PARAMS = ("page", "pageindex", "pageno", "pagenum", "pagenumber", "currentpage", "curpage", "currpage",
               "cpage", "pn", "p", "pg", "pageid", "page_no", "page_index")
_PAGE_EXT = r"(?:s?html?|jhtml|jsp|php|aspx?|do|action)"

# --- one list page, as the rules below read it -------------------------------------------------


@dataclass(frozen=True)
class Link:
    url: str
    label: str  # visible text, else title, else an image's alt
    names: str  # class and id, lower case


class ListDoc:
    """A list page: its URL, the base its links resolve against (`<base href>` honoured), its
    parsed tree and the text of its inline scripts."""

    def __init__(self, text: str, url: str, selector: parsel.Selector | None = None):
        self.text = text
        self.url = url
        if jpage.has_datastore(text):  # Hanweb: the records' markup where the browser shows it
            selector = parsel.Selector(text=jpage.expand_datastores(text))
        self.selector = selector if selector is not None else parsel.Selector(text=text or "<html></html>")
        whole_document(self.selector.root)  # a list after a stray </html> is still the page's
        self.base = get_base_url(text[:20000], url) if text else url

    def absolute(self, href: str) -> str | None:
        href = (href or "").strip()
        if not href or href.startswith(("javascript:", "#", "mailto:", "tel:")):
            return None
        return urljoin(self.base, href).split("#", 1)[0]

    @cached_property
    def scripts(self) -> str:
        """The inline scripts, joined: a pager's numbers may be set in one and used in another."""
        return "\n".join(self.selector.xpath("//script[not(@src)]/text()").getall())

    @cached_property
    def links(self) -> list[Link]:
        """Every link of the page, with the URL a click would go to (onclick included)."""
        found = []
        for node in self.selector.xpath("//a | //area | //*[@onclick]"):
            url = self.absolute(node.attrib.get("href", "")) or _url_in_script(node.attrib.get("onclick", ""), self)
            if not url:
                continue
            label = normalize_space(node.xpath("string()").get() or "") or node.attrib.get("title", "") \
                or node.attrib.get("value", "") or " ".join(node.xpath(".//img/@alt").getall())
            names = f"{node.attrib.get('class', '')} {node.attrib.get('id', '')}".lower()
            found.append(Link(url, normalize_space(label), names))
        return found


_SCRIPT_URL = re.compile(
    r"""["']([^"'\s<>]*?(?:\.""" + _PAGE_EXT + r"""(?:\?[^"'\s<>]*)?|\?[^"'\s<>]*=[^"'\s<>]*|/))["']""",
    re.IGNORECASE)


def _url_in_script(script: str, doc: ListDoc) -> str | None:
    """The URL a `location.href = encodeURI('index_2.jhtml')` or `openDetail('./t2022_1.html')`
    handler goes to: its first quoted string that reads as a page URL."""
    match = _SCRIPT_URL.search(script or "")
    return doc.absolute(match.group(1)) if match else None


# --- link: 下一页 ------------------------------------------------------------------------------
_NEXT_WORDS = {"下一页", "下页", "后页", "后一页", "下一頁", "下頁", "後頁", "next", "nextpage", "下一页面", "向后"}
_NEXT_SIGNS = {">", ">>", "›", "»", "＞", "＞＞", "→", "->", "〉", "》"}
_PUNCT = re.compile(r"[\s\[\]【】()（）<>《》«»‹›＞＜〈〉.…·|:：]")
_PREV_WORDS = re.compile(r"上一页|上页|前页|首页|尾页|末页|prev|first|last", re.IGNORECASE)


def is_next_label(label: str) -> bool:
    core = _PUNCT.sub("", label).lower()
    if core:
        return core in _NEXT_WORDS
    return label.replace(" ", "") in _NEXT_SIGNS


def next_by_link(doc: ListDoc) -> str | None:
    classed = None
    for link in doc.links:
        if link.url == doc.url:
            continue
        if is_next_label(link.label):
            return link.url
        if classed is None and re.search(r"\bnext|pagenext|next_?page", link.names) and not _PREV_WORDS.search(link.label):
            classed = link.url
    return classed


# --- trs: createPageHTML / countPage / Pager ---------------------------------------------------
_CALL = re.compile(r"(?<![\w.])(function\s+)?(createPage\w*|_?createPageHTML)\s*\(([^()]*)\)", re.IGNORECASE)
_PAGER_OBJECT = re.compile(r"(?:new\s+)?Pager\s*\(\s*\{([^{}]*)\}", re.IGNORECASE)
_COUNT_VAR = re.compile(r"\b(?:countPage|pageCount|totalPage|totalPages|pageTotal|page_count|maxPage|allPage)\s*=\s*"
                        r"['\"]?(\d+)", re.IGNORECASE)
_CURRENT_VAR = re.compile(r"\b(?:currentPage|curPage|currPage|pageIndex|nCurrIndex)\s*=\s*['\"]?(\d+)", re.IGNORECASE)
_EXT = re.compile(r"^(?:s?html?|jhtml|shtm)$", re.IGNORECASE)
_NAME_PLUS_UNDERSCORE = re.compile(r"""["']([A-Za-z][\w-]*?)_?["']\s*\+\s*(?:["']_["']\s*\+|\(?\s*\w)""")
_JS_COMMENT = re.compile(r"(^|[;{}\s])//[^\n]*|/\*.*?\*/", re.S)  # not the // of "http://"
_EXT_IN_STRING = re.compile(r"""["']\.?(s?html?|jhtml)["']""", re.IGNORECASE)


@dataclass(frozen=True)
class ScriptPager:
    """What a TRS pager script says: how many pages, and how their files are named. Page n >= 2
    is `{name}_{n - 1 + offset}.{ext}`: TRS WCM counts from 0 (`index_1.html` is page 2); the
    `createPageHTML('page_div', 10, 1, 'index', 'html', 96)` variant counts from 1
    (`index_2.html` is page 2)."""
    count: int
    name: str
    ext: str
    offset: int = 0

    def next_file(self, url: str) -> str | None:
        """The file name of the page after the one at `url` (whose number its file name says)."""
        stem = urlsplit(url).path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        numbered = re.fullmatch(re.escape(self.name) + r"_(\d+)", stem)
        page = int(numbered.group(1)) + 1 - self.offset if numbered else 1
        return f"{self.name}_{page + self.offset}.{self.ext}" if page < self.count else None


def _arguments(text: str) -> list[str]:
    return [a.strip() for a in re.findall(r"""'[^']*'|"[^"]*"|[^,]+""", text) if a.strip()]


def _variables(scripts: str) -> dict[str, str]:
    """`var countPage = 10//共多少页`, `var pageName = "index";`: name -> value."""
    return {m.group(1): next(v for v in m.groups()[1:] if v is not None)
            for m in re.finditer(r"\b(\w+)\s*=\s*(?:'([^'\n]*)'|\"([^\"\n]*)\"|(\d+)\b)", scripts)}


def trs_pager(scripts: str) -> ScriptPager | None:
    """The pager a TRS list page's scripts write, if any."""
    scripts = _JS_COMMENT.sub(r"\1", scripts or "")  # `//createPageHTML(9, 0, ...)` left in a template
    if not scripts:
        return None
    variables = _variables(scripts)
    for match in _CALL.finditer(scripts):
        if match.group(1):  # the function's own definition, not a call
            continue
        arguments = _arguments(match.group(3))
        numbers, strings = [], []
        for arg in arguments:
            value = arg[1:-1] if arg[0] in "'\"" else variables.get(arg, arg)
            if value.isdigit():
                numbers.append(int(value))
            elif arg[0] in "'\"" or arg in variables:
                strings.append(value)
        offset = int(bool(arguments) and arguments[0][0] in "'\"")  # ('page_div', count, current, ...)
        ext_at = next((i for i, s in enumerate(strings) if _EXT.match(s)), None)
        if numbers and ext_at:
            return ScriptPager(numbers[0], strings[ext_at - 1], strings[ext_at], offset)
        if numbers:
            return ScriptPager(numbers[0], *_name_and_ext(scripts), offset)
    for match in _PAGER_OBJECT.finditer(scripts):
        fields = {k.lower(): v for k, v in re.findall(r"""(\w+)\s*:\s*['"]?([\w.-]*)['"]?""", match.group(1))}
        count = next((fields[k] for k in ("size", "total", "count", "pagecount", "totalpage", "pages") if k in fields), "")
        if count.isdigit():
            return ScriptPager(int(count), fields.get("prefix") or "index", (fields.get("suffix") or "html").lstrip("."))
    count = _COUNT_VAR.search(scripts)
    if count and (_CURRENT_VAR.search(scripts) or "document.write" in scripts):
        return ScriptPager(int(count.group(1)), *_name_and_ext(scripts))
    return None


def _name_and_ext(scripts: str) -> tuple[str, str]:
    """A `document.write` pager's file name and extension: `"index" + "_" + n + "." + "html"`."""
    name = _NAME_PLUS_UNDERSCORE.search(scripts)
    ext = _EXT_IN_STRING.search(scripts)
    return (name.group(1) if name else "index"), (ext.group(1) if ext else "html")


def next_by_trs(doc: ListDoc) -> str | None:
    pager = trs_pager(doc.scripts)
    following = pager.next_file(doc.url) if pager else None
    return urljoin(doc.base, following) if following else None


# --- select: a 跳转 box of page URLs ---------------------------------------------------------------
def next_by_select(doc: ListDoc) -> str | None:
    for box in doc.selector.xpath("//select"):
        options = [(doc.absolute(o.attrib.get("value", "")), "selected" in o.attrib) for o in box.xpath(".//option")]
        urls = [url for url, _ in options if url and re.search(r"[./?]", url)]
        if len(urls) < 2 or len(urls) < len(options) - 1:
            continue  # not a box of page URLs
        position = next((i for i, (url, chosen) in enumerate(options) if chosen), None)
        if position is None:
            position = next((i for i, (url, _) in enumerate(options) if url == doc.url), 0)
        following = [url for url, _ in options[position + 1:] if url]
        if following and following[0] != doc.url:
            return following[0]
    return None


# --- numbered: the link to this URL's successor ----------------------------------------------------
_NUMBERED_FILE = re.compile(r"^(?P<stem>.*?[_-]?)(?P<n>\d+)(?P<ext>\.\w+)$")


def successors(url: str) -> list[str]:
    """URLs that the page after `url` has on real sites, most likely first."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    found = []
    for i, (key, value) in enumerate(query):
        if key.lower() in PAGE_PARAMS and value.isdigit():
            changed = query[:i] + [(key, str(int(value) + 1))] + query[i + 1:]
            found.append(urlunsplit(parts._replace(query=urlencode(changed))))
    if found:
        return found
    head, _, file = parts.path.rpartition("/")
    numbered = _NUMBERED_FILE.match(file)
    if numbered and re.search(r"[_-]$|^(?:index|list|page|default)", numbered.group("stem"), re.IGNORECASE):
        files = [f"{numbered.group('stem')}{int(numbered.group('n')) + 1}{numbered.group('ext')}"]
    elif "." in file:
        stem, ext = file.rsplit(".", 1)
        files = [f"{stem}_1.{ext}", f"{stem}_2.{ext}", f"{stem}-2.{ext}", f"{stem}2.{ext}"]
    else:
        files = [f"{file}/" * bool(file) + f for f in ("index_1.html", "index_2.html", "index_1.shtml",
                                                         "index_2.shtml", "index_1.htm", "index_2.htm", "2.html")]
    paths = [f"{head}/{f}" for f in files]
    if not file or "." not in file:
        paths.append(f"{parts.path.rstrip('/')}/page/2/")
    found = [urlunsplit(parts._replace(path=path)) for path in paths]
    for key in ("page", "pageIndex", "pageNo", "pageNum", "PageNo", "p"):
        found.append(urlunsplit(parts._replace(query=urlencode(query + [(key, "2")]))))
    return found


def _same_url(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.netloc.lower(), pa.path, sorted(parse_qsl(pa.query))) == (pb.netloc.lower(), pb.path, sorted(parse_qsl(pb.query)))


def next_by_number(doc: ListDoc) -> str | None:
    urls = [link.url for link in doc.links]
    for candidate in successors(doc.url):
        for url in urls:
            if _same_url(url, candidate):
                return url
    return None


# --- form: a GET 跳转 form with a page input ----------------------------------------------------
def next_by_form(doc: ListDoc) -> str | None:
    for form in doc.selector.xpath("//form[not(@method) or translate(@method, 'GET', 'get')='get']"):
        inputs = [(i.attrib.get("name", ""), i.attrib.get("value", "")) for i in form.xpath(".//input[@name]")]
        page = next((name for name, _ in inputs if name.lower() in PAGE_PARAMS), None)
        if page is None:
            continue
        current = dict(parse_qsl(urlsplit(doc.url).query)).get(page) or next(v for n, v in inputs if n == page)
        number = int(current) + 1 if current.isdigit() else 2
        values = [(n, str(number) if n == page else v) for n, v in inputs]
        action = doc.absolute(form.attrib.get("action", "")) or doc.url.split("?", 1)[0]
        return action.split("?", 1)[0] + "?" + urlencode(values)
    return None


# --- declared pagers: a template -------------------------------------------------------------------
def next_by_template(template: str, url: str) -> str:
    """The page after `url` by a URL template with `{n}` (page number, 2 for the second page)
    or `{i}` (zero-based index, 1 for the second page); a URL that does not fit the template
    is the first page."""
    absolute = urljoin(url, template)
    pattern = re.escape(absolute).replace(r"\{n\}", r"(?P<n>\d+)").replace(r"\{i\}", r"(?P<i>\d+)")
    match = re.fullmatch(pattern, url)
    if match and match.groupdict().get("n"):
        number = int(match.group("n")) + 1
    elif match and match.groupdict().get("i"):
        number = int(match.group("i")) + 2
    else:
        number = 2
    return absolute.replace("{n}", str(number)).replace("{i}", str(number - 1))


# --- which rule finds the next page ----------------------------------------------------------------
def next_by_hanweb(doc: ListDoc) -> str | None:
    return jpage.next_records(doc.text, doc.url)


# In the order `crawl --url` tries them: an explicit 下一页 first, guesses from URLs last.
PAGERS = {"link": next_by_link, "trs": next_by_trs, "hanweb": next_by_hanweb, "select": next_by_select,
          "numbered": next_by_number, "form": next_by_form}


def detect_next(doc: ListDoc) -> tuple[str | None, str | None]:
    """(next page URL, pager name) by the first pager that finds one."""
    for name, rule in PAGERS.items():
        url = rule(doc)
        if url and url != doc.url:
            return url, name
    return None, None


def declared_next(doc: ListDoc, next_page: str | None) -> tuple[str | None, str | None]:
    """(next page URL, pager name) by a site module's `next_page`: a pager name, "auto" (all of
    them, as `crawl --url`), a URL template with `{n}` or `{i}`, or a CSS/XPath selector of the
    next link (or of its href)."""
    if not next_page:
        return None, None
    if next_page == "auto":
        return detect_next(doc)
    if next_page in PAGERS:
        url = PAGERS[next_page](doc)
        return (url, next_page) if url and url != doc.url else (None, None)
    if "{n}" in next_page or "{i}" in next_page:
        return next_by_template(next_page, doc.url), "template"
    for node in select(doc.selector, next_page):
        url = doc.absolute(node.root if isinstance(node.root, str) else node.attrib.get("href", ""))
        if url and url != doc.url:
            return url, "selector"
    return None, None


def check_next_page(next_page: str | None) -> None:
    """Raise ValueError for a `next_page` that is none of the forms `declared_next` reads (a
    misspelled pager name reads as a CSS selector, so only a selector's syntax is checked)."""
    if not next_page or next_page == "auto" or next_page in PAGERS or "{n}" in next_page or "{i}" in next_page:
        return
    try:
        select(parsel.Selector(text="<html></html>"), next_page)
    except Exception as exc:
        raise ValueError(f"next_page {next_page!r} is no pager name, URL template or selector: {exc}") from exc
