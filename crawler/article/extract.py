"""Raw page bytes -> raw article fields (before cleaning).

The chain, field by field: the site's own selectors when it has a site module, then the generic
government-page extractor (standard meta tags of 国办发〔2017〕47号, CMS body containers, a
text-density score suited to Chinese), then trafilatura for the body. The result records which
extractor produced the body; `extract(..., trace={})` also says which rule produced each field
and, for an empty body, why (`crawler extract --explain`). Everything here is a pure function
of the page bytes and URL. The words it looks for are in `crawler.article.patterns`.
"""
from __future__ import annotations

import codecs
import copy
import re
from dataclasses import dataclass
from itertools import islice

import parsel
from lxml import etree
from parsel.csstranslator import HTMLTranslator

from crawler.article.dates import date_from_url, parse_date
from crawler.article.decode import decode_html
from crawler.article.items import RawArticle
from crawler.article.patterns import (ARTICLE_END, CMS_BODIES, DATE_LABELS, FURNITURE_BLOCK_TAGS, FURNITURE_NAME,
                                      INFO_CLASS, INFO_ID, LOGO_NAME, META, ORGANISATION, SITE_NAME_META, SITE_WORDS,
                                      SUMMARY_CLASSES, TITLE_NAME, TITLE_SEPARATOR, UNFOLD)
from crawler.article.text import CJK, is_boilerplate, normalize_space

TEXT_FIELDS = ("title", "published", "source", "author", "summary")
MIN_BODY_CHARS = 40  # fewer CJK characters than this is not an article body

_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "br", "center", "dd", "div", "dl", "dt",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "td", "th",
    "tr", "ul",
}
_SKIP_TAGS = {"script", "style", "noscript", "iframe", "template", "select", "option", "button", "svg", "textarea"}
_CSS = HTMLTranslator()

_CMS_INDEX = {query: index for index, query in reversed(list(enumerate(CMS_BODIES)))}
# A date as bylines print it: a full year, or a two-digit one (`19-09-18`, `19.09.18`).
_YMD = r"(?:19|20)\d{2}(?:\s*[-/.年]\s*|\s+(?=\d{1,2}\s*/))\d{1,2}\s*[-/.月]\s*\d{1,2}(?!\d)\s*日?"
_YY_MD = r"(?<![\d.:/-])\d{2}(?P<sep>[-./])\d{2}(?P=sep)\d{2}(?![\d.:/-])"
_CLOCK = r"(?:\s*\d{1,2}\s*[:：时]\s*\d{1,2}(?:\s*[:：分]\s*\d{1,2})?)?"
_DATE_LABEL = re.compile(rf"(?:{DATE_LABELS})\s*[:：]?\s*((?:{_YMD}|{_YY_MD}){_CLOCK})")
_STAMP = re.compile(rf"(?<!\d)(?:{_YMD}|{_YY_MD}){_CLOCK}")
_DATE_WITH_TIME = re.compile(r"(?<!\d)(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}(?!\d)(?:\s*日)?\s*\d{1,2}[:：]\d{2}")
# After a date in prose (an event: `2019年7月20日上午，…`) a clause goes on at once; after a
# byline's stamp comes a space, a time, a label (来源, 作者, 浏览...) or the end.
_PROSE_AFTER = re.compile(rf"[，,。、；]|\s*[（(]|[{CJK}](?<![来作浏点阅编责发信文字稿出审校星周第])")
_PROSE_BEFORE = re.compile(r"(?:[于在至到从自截止为是]|截至)\s*$")
_PUBLISHED_IN = re.compile(r"于\s*(\d{4}年\d{1,2}月\d{1,2}日)\s*发表")
# A date a script writes into the page: `var pubdata = "2019-07-22"; document.write(pubdata)`.
_SCRIPT_DATE = re.compile(rf"""["']\s*({_YMD}{_CLOCK})\s*["']""")
_ASSIGNED = re.compile(r"([A-Za-z_$][\w$]*)\s*=\s*$")
_SCRIPT_WRITE = re.compile(r"(?:document\.write(?:ln)?|\.innerHTML\s*=|\.(?:html|text|append)\s*\()\s*\(?([^;\n]*)")
_TAG = re.compile(r"<[^>]+>")
_SCORED_TAGS = ("p", "div", "td", "section", "article", "li", "span", "font")  # blocks the density score weighs
_LINK_BLOCKS = {"p", "li", "div", "dd", "dt", "h3", "h4", "h5", "td", "tr"}
_ATTACHMENT = re.compile(r"\.(?:pdf|docx?|xlsx?|pptx?|wps|ofd|zip|rar|7z|txt|jpe?g|png)(?:$|\?)", re.IGNORECASE)
_SENTENCE_MARKS = re.compile(r"[，。？！：；、“”\"]|\s[,.?!:]")

# The elements with a class or id, in document order: found by libxml2, not by a Python look at
# every element of the page (the largest cost of a page whose fields are all selected).
_WITH_CLASS_OR_ID = etree.XPath("descendant-or-self::*[@class or @id]")


# --- small helpers ------------------------------------------------------------------------------
def _is_xpath(query: str) -> bool:
    return query.startswith(("/", "(", "./", "descendant"))


def select(sel: parsel.Selector, query: str) -> parsel.SelectorList:
    return sel.xpath(query) if _is_xpath(query) else sel.css(query)


def select_text(sel: parsel.Selector, query: str) -> str | None:
    """Text of what the query matches: attribute and text nodes as they are, elements as all
    the text they contain."""
    texts = []
    for node in select(sel, query):
        texts.append(node.root if isinstance(node.root, str) else node.xpath("string()").get())
    text = normalize_space(" ".join(texts))
    return text or None


def _remove(element) -> None:
    """Remove an element but keep the text that follows it (its tail) in the document."""
    parent = element.getparent()
    if parent is None:
        return
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def paragraphs(element) -> list[str]:
    """Block-level text of an element, one string per paragraph, in document order."""
    lines: list[str] = []
    buffer: list[str] = []

    def flush():
        text = normalize_space("".join(buffer))
        if text:
            lines.append(text)
        buffer.clear()

    def walk(node):
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in _SKIP_TAGS or not tag:  # comments and processing instructions have no str tag
            if node.tail:
                buffer.append(node.tail)
            return
        block = tag.lower() in _BLOCK_TAGS
        if block:
            flush()
        if node.text:
            buffer.append(node.text)
        for child in node:
            walk(child)
        if block:
            flush()
        if node.tail:
            buffer.append(node.tail)

    walk(element)
    flush()
    return lines


_CJK_RUN = re.compile(f"[{CJK}]+")
_PUNCTUATION = re.compile(r"[，。；！？,;]")


def cjk_len(text: str) -> int:
    return sum(map(len, _CJK_RUN.findall(text))) if text else 0


def _body_from(elements, drop: tuple[str, ...] = ()) -> list[str]:
    lines: list[str] = []
    for element in elements:
        element = copy.deepcopy(element)
        element.tail = None
        for query in drop:
            xpath = query if _is_xpath(query) else _CSS.css_to_xpath(query)
            for bad in element.xpath(xpath):
                _remove(bad)
        lines.extend(paragraphs(element))
    return lines


def _describe(element) -> str:
    """`<div class="TRS_Editor">`: an element as an operator finds it in the page source."""
    names = "".join(f' {key}="{element.get(key)}"' for key in ("id", "class") if element.get(key))
    return f"<{element.tag}{names}>"


# --- the generic government-page extractor ---------------------------------------------------------
def _text_of(element) -> str:
    return normalize_space("".join(element.itertext()))


def _meta_tags(root) -> dict[str, str]:
    tags: dict[str, str] = {}
    for meta in root.iter("meta"):
        key = (meta.get("name") or meta.get("property") or "").strip().lower()
        content = normalize_space(meta.get("content") or "")
        if key and content and key not in tags:
            tags[key] = content
    return tags


def _from_meta(tags: dict[str, str], name: str) -> str | None:
    return next((tags[key] for key in META[name] if tags.get(key)), None)


# --- the headline --------------------------------------------------------------------------------
def _key(text: str) -> str:
    """A headline as compared: without spaces (pages space their headlines differently)."""
    return re.sub(r"\s+", "", text)


def _site_names(root, tags: dict[str, str]) -> set[str]:
    """What names the site or its column rather than an article: the SiteName / ColumnName meta
    tags and the logo's alt text."""
    names = {_key(tags[name]) for name in SITE_NAME_META if tags.get(name)}
    for element in _WITH_CLASS_OR_ID(root):
        if element.tag != "img" and LOGO_NAME.search(_names_of(element)):
            for image in element.iter("img"):
                names.add(_key(image.get("alt") or image.get("title") or ""))
            if element.tag in ("a", "h1", "span", "div") and len(_text_of(element)) <= 20:
                names.add(_key(_text_of(element)))
        elif element.tag == "img" and LOGO_NAME.search(_names_of(element)):
            names.add(_key(element.get("alt") or ""))
    names.discard("")
    return names


def _is_site_name(text: str, names: set[str], loose: bool = True) -> bool:
    """A known site or column name; `loose`: or one that reads like one (`某某市人民政府网`)."""
    key = _key(text)
    return key in names or loose and len(key) <= 20 and bool(SITE_WORDS.search(key))


def _name_like(text: str, names: set[str]) -> bool:
    """Reads as a name (of a site, a column, a department), not as part of a headline: no
    sentence punctuation, not long."""
    return _is_site_name(text, names) or len(text) <= 30 and not _SENTENCE_MARKS.search(text)


def _strip_site_name(title: str, names: set[str]) -> tuple[str, list[str]]:
    """A `<title>` or og:title without the site and column names around the headline:
    `标题_某某市人民政府` -> `标题`, `标题 - 要闻 - 某某日报网` -> `标题`, `某某网 | 标题` ->
    `标题`; `标题——副题` stays whole unless what follows the dash names a site. Also returns
    the names cut."""
    cut: list[str] = []
    while True:
        separators = list(TITLE_SEPARATOR.finditer(title))
        if not separators:
            return title, cut
        first, last = separators[0], separators[-1]
        head, tail = title[:last.start()], title[last.end():]
        dash = "—" in last.group()
        if head and (not tail or (_is_site_name(tail, names) if dash else _name_like(tail, names))):
            cut += [tail] if tail else []
            title = head
            continue
        lead = title[:first.start()]
        if not lead or _is_site_name(lead, names, loose=False):
            cut += [lead] if lead else []
            title = title[first.end():]
            continue
        return title, cut


def _title_candidates(root):
    """The elements that may hold the headline: h1-h3 and elements named as titles."""
    for element in root.iter("h1", "h2", "h3"):
        yield element, {"h1": 3, "h2": 2, "h3": 1}[element.tag]
    for element in _WITH_CLASS_OR_ID(root):
        if element.tag not in ("h1", "h2", "h3", "body", "html", "title", "meta", "img", "input", "li", "a") \
                and TITLE_NAME.search(_names_of(element)):
            yield element, 2


def _agreement(text: str, head: str, full: str, metas: list[str]) -> int:
    """How well a heading agrees with the page's other statements of its headline."""
    key, head_key = _key(text), _key(head).rstrip(".…")  # `<title>` may cut a long headline short
    if key == head_key or any(key == _key(meta) for meta in metas):
        return 4
    rest = full[len(text):] if full.startswith(text) else ""
    if len(key) < 4:
        return 2 if rest and TITLE_SEPARATOR.match(rest) else 0  # `金锺国 - 维基百科`
    if head_key and (head_key.startswith(key) and len(key) >= 0.5 * len(head_key)
                     or len(head_key) >= 6 and (key.startswith(head_key) or key.endswith(head_key)
                                                and len(key) - len(head_key) <= 6)):
        return 3
    if _key(full).startswith(key):
        return 2
    if key in _key(full) or any(key in _key(meta) for meta in metas):
        return 1
    return 0


def _generic_title(root, tags: dict[str, str], body_element=None) -> tuple[str | None, str]:
    """The headline, from what a page says about it: the heading near the body, the `<title>`
    minus the site's name, og:title / ArticleTitle meta, and whether they agree. A site or
    column name is never the headline. Returns the headline and the rule that gave it."""
    names = _site_names(root, tags)
    full = normalize_space(" ".join(_text_of(t) for t in islice(root.iter("title"), 1)))
    head, cut = _strip_site_name(full, names)
    names.update(_key(name) for name in cut)
    named = []
    for name in META["title"]:
        value = normalize_space(_TAG.sub("", tags.get(name, "")))
        if value:
            named.append((name, _strip_site_name(value, names)[0] if name != "articletitle" else value))
    metas = [value for _, value in named]
    scored = []
    for position, (element, rank) in enumerate(_title_candidates(root)):
        text = _text_of(element)
        if not 2 <= len(text) <= 150 or _is_site_name(text, names):
            continue
        scored.append((_agreement(text, head, full, metas), rank, len(text), -position, text, element))
    best = max(scored, default=None, key=lambda s: s[:4])
    if best and best[0] >= 2:
        text = best[4]
        if best[0] == 3 and len(_key(text)) > len(_key(head)) and not head.endswith((".", "…")) \
                and _beside_headline(_extra(text, head)):
            text = head  # the heading holds a badge (原创), the byline, a translation or the department too
        return text, f"heading {_describe(best[5])}, agreeing with <title> or the title meta tag"
    usable = [(name, value) for name, value in named
              if len(value) >= 4 and not _is_site_name(value, names, loose=False)]
    if usable and usable[0][0] == "articletitle":
        return usable[0][1], "meta tag articletitle"
    h1 = next((s for s in scored if s[5].tag == "h1" and s[2] >= 6
               and _before(root, s[5], body_element)), None)
    if h1:
        return h1[4], f"the page's {_describe(h1[5])} (nothing else states the headline the same way)"
    if usable:
        return usable[0][1], f"meta tag {usable[0][0]}"
    if len(head) >= 4 and not _is_site_name(head, names):
        return head, "<title> without the site name" if cut else "<title>"
    if best and best[0] == 1:
        return best[4], f"heading {_describe(best[5])}, inside <title>"
    # a column's name (通知公告, 部门动态) can head the body too; a headline is longer
    nearest = _nearest_heading(root, [s[5] for s in scored if s[1] >= 2 and s[2] >= 6], body_element)
    if nearest is not None:
        return _text_of(nearest), f"heading {_describe(nearest)} nearest before the body"
    return None, "none: no heading, title meta tag or <title> other than the site's name"


def _extra(heading: str, head: str) -> str:
    """What a heading holds beyond the headline `head` (before or after it)."""
    key, head_key = _key(heading), _key(head).rstrip(".…")
    return key[len(head_key):] if key.startswith(head_key) else key[:len(key) - len(head_key)]


def _beside_headline(extra: str) -> bool:
    """Text a heading element holds beside the headline that is not part of it: a badge (原创,
    独家), a date, a translation, a department's name; not a subtitle (——…, ：…)."""
    if extra.startswith(("—", "-", "：", ":", "（", "(")):
        return False
    name = len(extra) <= 4 or len(extra) <= 15 and bool(ORGANISATION.search(extra))
    return bool(_STAMP.search(extra)) or not cjk_len(extra) or name and not _SENTENCE_MARKS.search(extra)


def _before(root, element, body_element) -> bool:
    """The element comes before the body container in the page or starts it (or there is no
    container)."""
    if body_element is None or any(a is body_element for a in element.iterancestors()):
        return True
    for node in root.iter():
        if node is element:
            return True
        if node is body_element:
            return False
    return False


def _nearest_heading(root, headings: list, body_element):
    """The last of these headings before the body container, within a few levels of it (a
    sidebar's headings are not the article's)."""
    if not headings or body_element is None:
        return None
    near = set(islice(body_element.iterancestors(), 4))
    wanted = {h for h in headings if near.intersection(h.iterancestors())}
    nearest = None
    for element in root.iter():
        if element is body_element:
            return nearest
        if element in wanted:
            nearest = element
    return None


# --- the publication date ------------------------------------------------------------------------
def _page_text(body) -> str:
    return normalize_space(" ".join(_visible_texts(body)))


def _visible_texts(root):
    for node in root.iter():
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag and tag not in _SKIP_TAGS and node.text:
            yield node.text
        if node.tail:
            yield node.tail


def _info_text(root) -> str:
    blocks = (e for e in _WITH_CLASS_OR_ID(root)
              if INFO_CLASS.search(e.get("class", "")) or INFO_ID.search(e.get("id", "")))
    texts = [_text_of(block) for block in islice(blocks, 20)]
    return " ".join(t for t in texts if len(t) < 300)


def _script_date(root) -> str | None:
    """The date a script writes into the page: `var pubdata = "2019-07-22";` and then
    `document.write(pubdata)`, or a date literal inside the write call itself."""
    codes = [script.text for script in root.iter("script") if script.text]
    written = [m.group(1) for code in codes if "write" in code or "html" in code or "text(" in code
               for m in _SCRIPT_WRITE.finditer(code)]
    if not written:
        return None
    assigned: dict[str, str] = {}
    for code in codes:
        for m in _SCRIPT_DATE.finditer(code):
            name = _ASSIGNED.search(code, max(0, m.start() - 60), m.start())
            if name:
                assigned.setdefault(name.group(1), m.group(1))
    for call in written:
        literal = _SCRIPT_DATE.search(call)
        if literal:
            return literal.group(1)
        for name in re.findall(r"[A-Za-z_$][\w$]*", call):
            if name in assigned:
                return assigned[name]
    return None


def _stamps(window: str, prose: bool):
    """The dates in a stretch of page text that read as a byline's stamp (or, with `prose`,
    those that read as a date inside a sentence)."""
    for m in _STAMP.finditer(window):
        in_prose = bool(_PROSE_AFTER.match(window, m.end()) or _PROSE_BEFORE.search(window[:m.start()]))
        if in_prose == prose:
            yield m.group(0)


def _generic_published(root, body, tags: dict[str, str], info: str, title: str | None) -> tuple[str | None, str]:
    """The page's own date: a government meta tag, unless the page displays another date beside
    the headline (then the meta is the time the page was generated, and the displayed date
    wins); else a labelled date (`发布时间：…`), a date a script writes, the date stamp next to
    the headline, the canonical URL's date, the first date with a time of day."""
    meta = _from_meta(tags, "published")
    text = _page_text(body)
    after, before = _title_windows(text, title)
    found = [(m.group(1), "labelled date in the byline") for m in islice(_DATE_LABEL.finditer(info), 1)]
    found += [(m.group(1), "date in the byline") for m in islice(_PUBLISHED_IN.finditer(info), 1)]
    if not meta:
        found += [(m.group(1), "labelled date in the page") for m in islice(_DATE_LABEL.finditer(text[:5000]), 1)]
    found += [(written, "date written by a script") for written in filter(None, [_script_date(root)])]
    found += [(stamp, f"date stamp {where} the headline")
              for windows, where in ((after, "after"), (before, "before"))
              for window in windows for stamp in islice(_stamps(window, prose=False), 1)][:1]
    if meta:
        if found:
            shown = parse_date(found[0][0])
            if shown and shown[:10] != (parse_date(meta) or "")[:10]:
                return found[0][0], f"{found[0][1]} (the meta tag's {meta!r} disagrees)"
        return meta, "meta tag"
    found += [(stamp, "first date after the headline") for window in after
              for stamp in islice(_stamps(window, prose=True), 1)][:1]
    canonical = next((link.get("href") for link in root.iter("link") if link.get("rel") == "canonical"), None)
    found += [(url_date, "date in the canonical URL")
              for url_date in filter(None, [date_from_url(canonical or tags.get("og:url") or "")])]
    found += [(m.group(0), "first date with a time of day") for m in islice(_DATE_WITH_TIME.finditer(text), 1)]
    return found[0] if found else (None, "none found")


def _title_windows(text: str, title: str | None) -> tuple[list[str], list[str]]:
    """The text right after each place the headline appears (where CMSs put the date stamp),
    and right before it."""
    if not title or len(title) < 4:
        return [], []
    starts = [m.start() for m in re.finditer(re.escape(title[:20]), text)][:5]
    return ([text[start + len(title): start + len(title) + 250] for start in starts],
            [text[max(0, start - 120): start] for start in starts])


def _generic_labelled(info: str, labels: str) -> str | None:
    m = re.search(rf"(?:{labels})\s*[:：]\s*([^\s|｜【\[]{{2,40}})", info)
    return m.group(1) if m else None


def _generic_summary(root) -> str | None:
    classed = [(e, names) for e in _WITH_CLASS_OR_ID(root) if (names := e.get("class"))]
    for name in SUMMARY_CLASSES:
        text = normalize_space(" ".join(_text_of(e) for e, names in classed if name in names))
        if 10 <= len(text) <= 1000:
            return text
    return None


# --- the body -------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Counts:
    """Text measures of one element, computed for the whole page in one pass."""
    chars: int = 0  # Chinese characters in all its text
    punctuation: int = 0  # sentence punctuation in all its text
    link_chars: int = 0  # Chinese characters inside its <a> elements
    links: int = 0  # <a href> elements inside it
    own_chars: int = 0  # Chinese characters in its own text nodes (not its children's)
    own_punctuation: int = 0


def _count_text(root) -> dict:
    counts: dict = {}
    for element in reversed(list(root.iter())):  # children before their parents
        tag = element.tag if isinstance(element.tag, str) else ""
        c = _Counts()
        if tag and tag not in _SKIP_TAGS and element.text:
            c.own_chars, c.own_punctuation = cjk_len(element.text), len(_PUNCTUATION.findall(element.text))
        c.chars, c.punctuation = c.own_chars, c.own_punctuation
        for child in element:
            inner = counts[child]
            tail_chars = cjk_len(child.tail) if child.tail else 0
            tail_punctuation = len(_PUNCTUATION.findall(child.tail)) if child.tail else 0
            c.own_chars += tail_chars
            c.own_punctuation += tail_punctuation
            c.chars += inner.chars + tail_chars
            c.punctuation += inner.punctuation + tail_punctuation
            c.link_chars += inner.link_chars
            c.links += inner.links
        if tag == "a":
            c.link_chars = c.chars
            c.links += 1 if element.get("href") else 0
        counts[element] = c
    return counts


def _score_blocks(root, counts: dict, furniture: bool = True) -> dict:
    """Content score per element: Chinese characters and sentence punctuation of the text blocks
    it holds, minus link text; parents get a share of their children's score. With `furniture`,
    blocks named like furniture do not count."""
    scores: dict = {}
    # comment threads and related lists can be long; they are still not the article
    excluded = set()
    for element in root.iter(*FURNITURE_BLOCK_TAGS) if furniture else ():
        if element not in excluded and FURNITURE_NAME.search(_names_of(element)):
            excluded.update(element.iter())
    for block in root.iter(*_SCORED_TAGS):
        if block in excluded:
            continue
        c = counts[block]
        # A div is scored on its own text only, so that a page wrapper does not win by nesting.
        chars, punctuation = (c.own_chars, c.own_punctuation) if block.tag == "div" else (c.chars, c.punctuation)
        if chars < 10 or c.link_chars > chars * 0.5:
            continue
        score = chars + 10 * punctuation - 2 * c.link_chars
        parent = block.getparent()
        if parent is None:
            continue
        scores[parent] = scores.get(parent, 0) + score
        grandparent = parent.getparent()
        if grandparent is not None:
            scores[grandparent] = scores.get(grandparent, 0) + score / 3
    return scores


def _cms_containers(root) -> list[list]:
    """Elements matching each of `CMS_BODIES`, in its order, found in one pass over the page."""
    found: list[list] = [[] for _ in CMS_BODIES]
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for token in element.get("class", "").split():
            if "." + token in _CMS_INDEX:
                found[_CMS_INDEX["." + token]].append(element)
        element_id = element.get("id")
        if element_id and "#" + element_id in _CMS_INDEX:
            found[_CMS_INDEX["#" + element_id]].append(element)
        if element.tag in _CMS_INDEX:
            found[_CMS_INDEX[element.tag]].append(element)
    return found


@dataclass(slots=True)
class _Body:
    lines: list[str]
    rule: str  # how it was found, for `crawler extract --explain`
    element: object = None  # its container, when one element holds it
    chars: int = 0  # Chinese characters of its lines that are not page furniture (what cleaning keeps)

    def __post_init__(self):
        self.chars = sum(map(cjk_len, self.lines))
        if self.chars < 4 * MIN_BODY_CHARS:  # a long text is not all furniture; a short one may be
            self.chars = sum(cjk_len(line) for line in self.lines if not is_boilerplate(line))


def _generic_body(root) -> _Body:
    """The body by the CMS containers, then by text density. Below `MIN_BODY_CHARS` it is the
    best short block found, so that the chain can weigh it against trafilatura's."""
    counts = _count_text(root)
    best = _Body([], "no text block on the page")
    for query, candidates in zip(CMS_BODIES, _cms_containers(root)):
        qualified = [e for e in candidates if counts[e].chars and counts[e].link_chars < 0.3 * counts[e].chars]
        if qualified:
            element = max(qualified, key=lambda e: counts[e].chars)
            found = _container_body(element, counts, f"CMS container {query} {_describe(element)}")
            if counts[element].chars >= MIN_BODY_CHARS and found.chars:
                return found
            best = max(best, found, key=lambda b: b.chars)
    # A short article can sit inside a block named like furniture (a page wrapper `has-sidebar`):
    # then the page is scored again without that rule.
    for furniture in (True, False):
        scores = _score_blocks(root, counts, furniture)
        if scores:
            element = max(scores, key=scores.get)
            found = _container_body(element, counts, f"densest text block {_describe(element)}")
            if found.chars >= MIN_BODY_CHARS:
                return found
            best = max(best, found, key=lambda b: b.chars)
    if not best.chars:
        # Last resort, for a short text amid links (a cell of a link-heavy table): the block with
        # the most text of its own, if that reads as sentences.
        prose = [e for e in root.iter(*_SCORED_TAGS) if counts[e].own_punctuation and counts[e].own_chars >= 20]
        if prose:
            element = max(prose, key=lambda e: counts[e].own_chars)
            best = _Body(_article_lines(element, counts), f"block with the most text of its own {_describe(element)}",
                         element)
    return best


def _container_body(element, counts: dict, rule: str) -> _Body:
    """The article lines of a container; if leaving out its furniture-named blocks leaves too
    little, the container without that rule (a short article inside a `share-box` wrapper)."""
    found = _Body(_article_lines(element, counts), rule, element)
    if found.chars < MIN_BODY_CHARS and counts[element].chars >= MIN_BODY_CHARS:
        lenient = _Body(_article_lines(element, counts, furniture=False), f"{rule}, its furniture-named blocks kept",
                        element)
        found = max(found, lenient, key=lambda b: b.chars)
    return found


def _article_lines(container, counts: dict, furniture: bool = True) -> list[str]:
    """The paragraphs of a body container without what CMSs and blogs put inside it: link
    lists (related articles, navigation), comment threads (`furniture`: blocks named so), forms;
    cut at the first heading of what follows an article (相关报道, 发表评论...) once some article
    text has come."""
    doomed = [element for element in container.iter(*FURNITURE_BLOCK_TAGS) if element is not container and (
        furniture and FURNITURE_NAME.search(_names_of(element)) or _is_link_list(counts[element]))]
    doomed += _link_runs(container, counts)
    # forms of comment boxes and searches, not a form around the article itself (VSB pages)
    doomed += (form for form in container.iter("form") if counts[form].chars < 0.5 * counts[container].chars)
    copied = copy.deepcopy(container)
    copied.tail = None
    twin = dict(zip(container.iter(), copied.iter()))
    for element in doomed:
        _remove(twin[element])
    before, after = _unfolded(container, counts)
    lines = (before or _lead(container, counts)) + paragraphs(copied) + after
    seen = 0
    for index, line in enumerate(lines):
        if seen >= 2 * MIN_BODY_CHARS and ARTICLE_END.match(line):
            return lines[:index]
        seen += cjk_len(line)
    return lines


def _unfolded(container, counts: dict) -> tuple[list[str], list[str]]:
    """The rest of a body the page shows folded, outside the container: the prose blocks on
    the far side of a "展开全文" button next to it (the hidden part the button reveals, or the
    visible part when the hidden one holds more text). Lines before and after the container."""
    found: list[list[str]] = []
    for preceding in (True, False):
        button = next((s for s in container.itersiblings(preceding=preceding) if isinstance(s.tag, str)), None)
        lines: list[str] = []
        if button is not None and UNFOLD.match(_text_of(button)):
            for sibling in button.itersiblings(preceding=preceding):
                if not _is_prose(sibling, counts):
                    break
                lines[:0 if preceding else len(lines)] = paragraphs(sibling)
        found.append(lines)
    return found[0], found[1]


def _lead(container, counts: dict) -> list[str]:
    """Paragraphs right before the container, beside it in the same parent: the lead that a
    template puts apart from the rest of the text (after a summary box)."""
    lines: list[str] = []
    for sibling in container.itersiblings(preceding=True):
        if sibling.tag not in ("p", "div") or not _is_prose(sibling, counts) \
                or sibling.tag == "div" and any(child.tag in _BLOCK_TAGS for child in sibling):
            break
        lines[:0] = paragraphs(sibling)
    return lines


def _link_runs(container, counts: dict) -> list:
    """Runs of two or more sibling blocks that are each one link to another page (a related-
    articles list written as `<p><a>…</a></p>` paragraphs), except links to attachments."""
    doomed = []
    for parent in container.iter():
        run = []
        for child in list(parent) + [None]:
            if child is not None and child.tag in _LINK_BLOCKS and _is_link_only(child, counts):
                run.append(child)
                continue
            if len(run) >= 2:
                doomed.extend(run)
            run = []
    return doomed


def _is_link_only(element, counts: dict) -> bool:
    c = counts[element]
    if not c.links or c.link_chars < 0.8 * c.chars or not c.chars:
        return False
    return not any(_ATTACHMENT.search(a.get("href", "")) for a in element.iter("a"))


def _is_prose(element, counts: dict) -> bool:
    """A block of sentences: text with sentence punctuation, not links, not named as furniture."""
    if not isinstance(element.tag, str) or FURNITURE_NAME.search(_names_of(element)) \
            or any(name in _names_of(element) for name in SUMMARY_CLASSES):
        return False
    c = counts[element]
    return c.chars >= 10 and c.punctuation > 0 and not _is_link_list(c) and c.link_chars < 0.3 * c.chars


def _names_of(element) -> str:
    return f"{element.get('class', '')} {element.get('id', '')}"


def _is_link_list(c: _Counts) -> bool:
    """A block that is mostly link text, with several links: a list of other articles."""
    return c.links >= 2 and c.link_chars > 0.5 * max(c.chars, 1)


def _trafilatura_body(html: str, url: str) -> list[str]:
    import trafilatura  # here, not at the top: its import takes 0.3 s, and `crawler ingest` never calls it
    text = trafilatura.extract(html, url=url or None, include_comments=False, include_tables=True,
                               favor_precision=True) or ""
    return [line for line in (normalize_space(x) for x in text.splitlines()) if line]


# --- the chain -----------------------------------------------------------------------------------
class NotHtml(ValueError):
    """The bytes are not a text page (an image, a PDF, an executable)."""


# Signatures of the files that sites link as if they were pages: PDF, Office (old and new),
# images, archives, executables.
_MAGIC_NUMBERS = (b"%PDF-", b"\xd0\xcf\x11\xe0", b"PK\x03\x04", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"RIFF",
                  b"\x1f\x8b", b"Rar!", b"7z\xbc\xaf", b"BZh", b"\x7fELF", b"MZ\x90\x00")
# Control bytes (not tab, newline, form feed, carriage return, escape): about a tenth of any
# compressed or binary file, none in a text page but for a stray NUL or two.
_TEXT_BYTES = bytes(b for b in range(256) if b >= 0x20 or b in b"\t\n\x0b\x0c\r\x1b")
BINARY_SHARE = 0.02


def _is_binary(body: bytes, content_type: str | None = None) -> bool:
    """A file by its signature; else, unless the server calls it text, by the share of control
    bytes in its first 4 KB (UTF-16 pages, half NUL bytes, start with a BOM)."""
    head = body[:4096]
    if head.startswith(_MAGIC_NUMBERS):
        return True
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or "text/" in (content_type or "").lower():
        return False
    return len(head.translate(None, _TEXT_BYTES)) > BINARY_SHARE * len(head)


def parse_page(body: bytes, content_type: str | None = None) -> tuple[parsel.Selector, str, bool]:
    if _is_binary(body, content_type):
        raise NotHtml("not an HTML page: the bytes are binary")
    decoded = decode_html(body, content_type)
    # lxml rejects a str with an encoding declaration only for XML; HTML parses fine.
    sel = parsel.Selector(text=decoded.text or "<html></html>")
    whole_document(sel.root)
    return sel, decoded.encoding, decoded.lossy


def whole_document(root) -> None:
    """Move what the parser put beside the root element into the root's body. After a stray
    `</html>` mid-page, libxml2 2.14 starts a second `<html>` root for the rest of the page,
    where CSS selectors and the generic chain, which start from the first root, do not look."""
    strays = [sibling for sibling in root.itersiblings() if isinstance(sibling.tag, str)]
    if not strays:
        return
    body = next(root.iter("body"), None)
    if body is None:
        body = etree.SubElement(root, "body")
    for stray in strays:
        for child in list(stray):
            if child.tag in ("head", "body"):  # a second <head> or <body>: their content moves
                body.extend(list(child))
            else:
                body.append(child)


def extract(body: bytes, url: str = "", site=None, content_type: str | None = None,
            trace: dict | None = None) -> RawArticle:
    """Extract an article from raw page bytes. `site` is a site spider class (see crawler.sites.spider)
    or None for the generic chain. A `trace` dict receives, per field, the rule that gave it."""
    sel, encoding, lossy = parse_page(body, content_type)
    trace = {} if trace is None else trace
    site_name = getattr(site, "name", None)
    article = RawArticle(url=url, site=site_name, extractor="generic", encoding=encoding, lossy=lossy)
    site_fields = _site_fields(article, sel, site, trace)
    body_element = _fill_body(article, sel, site, url, trace)
    _fill_generic(article, sel, site_fields, body_element, trace)
    return article


def _site_fields(article: RawArticle, sel: parsel.Selector, site, trace: dict) -> set[str]:
    """The text fields the site module selects; returns the names of those it defines. A field
    whose selector matches nothing (a layout change, a typo) is left to the generic chain, and
    noted in `article.selector_misses`."""
    rules = dict(getattr(site, "fields", {}) or {})
    defined = set(rules)
    for name in TEXT_FIELDS:
        custom = getattr(site, f"extract_{name}", None)
        if custom is not None:
            setattr(article, name, custom(sel))
            trace[name] = f"site module {article.site}: extract_{name}()"
            defined.add(name)
        elif rules.get(name):
            setattr(article, name, select_text(sel, rules[name]))
            trace[name] = f"site module {article.site}: selector {rules[name]!r}"
            if getattr(article, name) is None:
                article.selector_misses += (name,)
                defined.discard(name)
                trace[name] += " matched nothing"
    return defined


def _fill_body(article: RawArticle, sel: parsel.Selector, site, url: str, trace: dict):
    """The body by the site's selector, else the generic extractor, else trafilatura, else the
    best short block the page has. Returns the element that holds it, if one does."""
    rules = dict(getattr(site, "fields", {}) or {})
    custom_body = getattr(site, "extract_body", None)
    if custom_body is not None:
        article.body = custom_body(sel)
        if article.body:
            article.extractor, trace["body"] = f"site:{article.site}", f"site module {article.site}: extract_body()"
            return None
    elif rules.get("body"):
        containers = [n.root for n in select(sel, rules["body"]) if not isinstance(n.root, str)]
        if not containers:
            article.selector_misses += ("body",)
        else:
            # The site's container exists: trust it, even empty (an empty page is not a reason to
            # go and extract the sidebar instead).
            article.body = _body_from(containers, tuple(getattr(site, "drop", ()) or ()))
            article.extractor = f"site:{article.site}"
            trace["body"] = f"site module {article.site}: selector {rules['body']!r}"
            return containers[0]
    found = _generic_body(_body_of(sel))
    if found.chars < MIN_BODY_CHARS:
        fallback = _Body(_trafilatura_body(sel.get(), url), "trafilatura")
        why = (f"the generic extractor's best ({found.rule}) has {found.chars} Chinese characters, "
               f"fewer than {MIN_BODY_CHARS}")
        if fallback.chars >= found.chars and fallback.lines:
            article.body, article.extractor = fallback.lines, "trafilatura"
            trace["body"] = f"trafilatura: {why}"
            return None
        fallback_said = f"trafilatura found {fallback.chars}"
        if not found.lines:
            frames = [frame.get("src") for frame in sel.root.iter("frame", "iframe") if frame.get("src")]
            where = f"; the page shows other pages in frames: {', '.join(frames[:3])}" if frames else ""
            trace["body"] = f"empty: {why}; {fallback_said}{where}"
            article.body, article.extractor = fallback.lines, "trafilatura"
            return None
        found.rule = f"{found.rule}, short ({found.chars} Chinese characters; {fallback_said})"
    article.body, article.extractor = found.lines, "generic"
    trace["body"] = found.rule
    return found.element


def _body_of(sel: parsel.Selector):
    return next(sel.root.iter("body"), sel.root)


def _fill_generic(article: RawArticle, sel: parsel.Selector, site_fields: set[str], body_element, trace: dict) -> None:
    """Fill the fields the site module does not define, or whose selector found nothing, from the
    generic extractor. A field its `extract_<field>` hook left empty stays empty (a page without
    a date has none), except the title, which every article has."""
    missing = [name for name in TEXT_FIELDS if not getattr(article, name)
               and (name not in site_fields or name == "title")]
    if not missing:
        return
    root, body = sel.root, _body_of(sel)
    tags = _meta_tags(root)
    info = _info_text(root)

    def labelled(name: str, labels: str):
        found = _from_meta(tags, name)
        if found:
            return found, "meta tag"
        found = _generic_labelled(info, labels)
        return found, "labelled in the byline" if found else "none found"

    generic = {
        "title": lambda: _generic_title(root, tags, body_element),
        "published": lambda: _generic_published(root, body, tags, info, article.title),
        "source": lambda: labelled("source", "来源|稿源|信息来源|文章来源"),
        "author": lambda: labelled("author", "作者|记者"),
        "summary": lambda: (lambda found: (found, "summary box" if found else "none found"))(_generic_summary(root)),
    }
    for name in missing:
        value, rule = generic[name]()
        setattr(article, name, value)
        trace[name] = f"{trace[name]}; generic: {rule}" if name in trace else rule
