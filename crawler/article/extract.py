"""Raw page bytes -> raw article fields (before cleaning).

The chain, field by field: the site's own selectors when it has a site module, then the generic
government-page extractor (standard meta tags of 国办发〔2017〕47号, CMS body containers, a
text-density score suited to Chinese), then trafilatura for the body. The result records which
extractor produced the body. Everything here is a pure function of the page bytes and URL.
"""
from __future__ import annotations

import codecs
import copy
import re
from itertools import islice
from dataclasses import dataclass

import parsel
from lxml import etree
from parsel.csstranslator import HTMLTranslator

from crawler.article.dates import date_from_url
from crawler.article.decode import decode_html
from crawler.article.items import RawArticle
from crawler.article.text import CJK, normalize_space

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

# Meta tag names by field, most specific first; matched case-insensitively on name= or property=.
_META = {
    "title": ("articletitle", "og:title"),
    "published": ("pubdate", "publishdate", "article:published_time", "og:article:published_time",
                  "publish_time", "published_time", "firstpublishedtime", "dc.date", "date"),
    "source": ("contentsource", "source", "og:article:source"),
    "author": ("author", "article:author", "dc.creator"),
}
# Body containers of the CMS products that most government sites run on, then common names.
_CMS_BODIES = (
    ".TRS_Editor", ".TRS_UEDITOR", ".Custom_UnionStyle", "#zoom", "#Zoom", "#UCAP-CONTENT",
    "#fontzoom", ".pages_content", ".article-content", ".article_content", "#article_content",
    ".art_con", ".news_content", ".content_text", ".contentText", "#content", ".content",
    ".detail-content", ".zw", "#zw", "article", ".article",
)
_CMS_INDEX = {query: index for index, query in reversed(list(enumerate(_CMS_BODIES)))}
# Byline blocks (date, source, author) by their class or id names.
_INFO_CLASS = re.compile("info|meta|time|date|source|attr")
_INFO_ID = re.compile("info|time|date")
_DATE_LABEL = re.compile(
    r"(?:发布时间|发布日期|发表时间|发文日期|成文日期|时间|日期|发布于|更新时间)\s*[:：]?\s*"
    r"(\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(?:\s*\d{1,2}\s*[:：时]\s*\d{1,2}(?:\s*[:：分]\s*\d{1,2})?)?)"
)
# A full date (year, month, day) as date stamps write it, and one with a time of day.
_FULL_DATE = re.compile(r"(?<!\d)(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}(?!\d)(?:\s*日)?(?:\s*\d{1,2}[:：]\d{2}(?::\d{2})?)?")
_DATE_WITH_TIME = re.compile(r"(?<!\d)(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}(?!\d)(?:\s*日)?\s*\d{1,2}[:：]\d{2}")
_FURNITURE_BLOCK_TAGS = ("div", "ul", "ol", "dl", "table", "section", "aside", "nav", "p", "span", "td")
# Class or id names of blocks that are not article text, whatever the CMS.
_FURNITURE_NAME = re.compile(
    r"comment|pinglun|reply|related|xiangguan|recommend|tuijian|share|fenxiang|footer|sidebar|"
    r"\bnav|breadcrumb|crumb|position|location|toolbar|pager|pagination|\bad\b|advert|qrcode|erweima|"
    r"promo|weixin|wechat|\bwx[-_]",
    re.IGNORECASE,
)
# A line that starts what comes after an article: related lists, comments.
_ARTICLE_END = re.compile(
    r"^[【\[]?(?:相关(?:报道|新闻|文章|内容|阅读|链接|稿件|专题)|延伸阅读|推荐阅读|热门推荐|猜你喜欢|"
    r"文章评论|发表评论|网友评论|我要评论|最新评论|评论列表)[】\]]?\s*[:：]?\s*$"
)
_SUMMARY_CLASSES = ("daodu", "summary", "abstract", "zhaiyao", "lead", "intro", "description")

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
    return next((tags[key] for key in _META[name] if tags.get(key)), None)


def _generic_title(root, tags: dict[str, str]) -> str | None:
    if tags.get("articletitle"):
        return tags["articletitle"]
    page_title = " ".join(_text_of(t) for t in root.iter("title"))
    headings = {tag: list(root.iter(tag)) for tag in ("h1", "h2")}
    titled = [e for e in root.iter() if isinstance(e.tag, str) and "title" in e.get("class", "")]
    for candidates in (headings["h1"], headings["h2"], titled):
        for candidate in candidates:
            text = _text_of(candidate)
            if len(text) >= 4 and text in page_title:
                return text
    h1 = _text_of(headings["h1"][0]) if headings["h1"] else ""
    if len(h1) >= 4:
        return h1
    # `<title>` minus the site-name suffix: `标题_某某市人民政府` -> `标题`
    return re.split(r"\s*(?:[_|｜]|--?|—+)\s*", page_title)[0] or tags.get("og:title") or None


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
              if _INFO_CLASS.search(e.get("class", "")) or _INFO_ID.search(e.get("id", "")))
    texts = [_text_of(block) for block in islice(blocks, 20)]
    return " ".join(t for t in texts if len(t) < 300)


def _generic_published(root, body, tags: dict[str, str], info: str, title: str | None) -> str | None:
    """The page's own date: a government meta tag, a labelled date (`发布时间：…`), the date
    stamp next to the headline, the canonical URL's date, the first date with a time of day."""
    found = _from_meta(tags, "published")
    if found:
        return found
    text = _page_text(body)
    for source in (info, text[:5000]):
        m = _DATE_LABEL.search(source)
        if m:
            return m.group(1)
    m = re.search(r"于\s*(\d{4}年\d{1,2}月\d{1,2}日)\s*发表", info)
    if m:
        return m.group(1)
    for window in _title_windows(text, title):
        m = _FULL_DATE.search(window)
        if m:
            return m.group(0)
    canonical = next((link.get("href") for link in root.iter("link") if link.get("rel") == "canonical"), None)
    canonical = canonical or tags.get("og:url") or ""
    if date_from_url(canonical):
        return date_from_url(canonical)
    m = _DATE_WITH_TIME.search(text)
    return m.group(0) if m else None


def _title_windows(text: str, title: str | None):
    """The text right after each place the headline appears (where CMSs put the date stamp),
    then right before it."""
    if not title or len(title) < 4:
        return
    starts = [m.start() for m in re.finditer(re.escape(title[:20]), text)][:5]
    for start in starts:
        yield text[start + len(title): start + len(title) + 250]
    for start in starts:
        yield text[max(0, start - 120): start]


def _generic_labelled(info: str, labels: str) -> str | None:
    m = re.search(rf"(?:{labels})\s*[:：]\s*([^\s|｜]{{2,40}})", info)
    return m.group(1) if m else None


def _generic_summary(root) -> str | None:
    classed = [(e, names) for e in _WITH_CLASS_OR_ID(root) if (names := e.get("class"))]
    for name in _SUMMARY_CLASSES:
        text = normalize_space(" ".join(_text_of(e) for e, names in classed if name in names))
        if 10 <= len(text) <= 1000:
            return text
    return None


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


def _score_blocks(root, counts: dict) -> dict:
    """Content score per element: Chinese characters and sentence punctuation of the text blocks
    it holds, minus link text; parents get a share of their children's score."""
    scores: dict = {}
    # comment threads and related lists can be long; they are still not the article
    excluded = set()
    for element in root.iter(*_FURNITURE_BLOCK_TAGS):
        if element not in excluded and _FURNITURE_NAME.search(_names_of(element)):
            excluded.update(element.iter())
    for block in root.iter("p", "div", "td", "section", "article", "li", "span", "font"):
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
    """Elements matching each of `_CMS_BODIES`, in its order, found in one pass over the page."""
    found: list[list] = [[] for _ in _CMS_BODIES]
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


def _generic_body(root) -> tuple[list[str], str]:
    counts = _count_text(root)
    for candidates in _cms_containers(root):
        qualified = [e for e in candidates if counts[e].chars >= MIN_BODY_CHARS
                     and counts[e].link_chars < 0.3 * counts[e].chars]
        if qualified:
            return _article_lines(max(qualified, key=lambda e: counts[e].chars), counts), "generic"
    scores = _score_blocks(root, counts)
    if scores:
        lines = _article_lines(max(scores, key=scores.get), counts)
        if cjk_len("".join(lines)) >= MIN_BODY_CHARS:
            return lines, "generic"
    return [], "generic"


def _article_lines(container, counts: dict) -> list[str]:
    """The paragraphs of a body container without what CMSs and blogs put inside it: link
    lists (related articles, navigation), comment threads, forms; cut at the first heading
    of what follows an article (相关报道, 发表评论...) once some article text has come."""
    doomed = [element for element in container.iter(*_FURNITURE_BLOCK_TAGS) if element is not container and (
        _FURNITURE_NAME.search(_names_of(element)) or _is_link_list(counts[element]))]
    doomed += container.iter("form")
    copied = copy.deepcopy(container)
    copied.tail = None
    twin = dict(zip(container.iter(), copied.iter()))
    for element in doomed:
        _remove(twin[element])
    lines = paragraphs(copied)
    seen = 0
    for index, line in enumerate(lines):
        if seen >= 2 * MIN_BODY_CHARS and _ARTICLE_END.match(line):
            return lines[:index]
        seen += cjk_len(line)
    return lines


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


def _is_binary(body: bytes) -> bool:
    """NUL bytes do not occur in HTML, except in UTF-16 pages, which start with a BOM."""
    head = body[:4096]
    return b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))


def parse_page(body: bytes, content_type: str | None = None) -> tuple[parsel.Selector, str, bool]:
    if _is_binary(body):
        raise NotHtml("not an HTML page: the bytes are binary")
    decoded = decode_html(body, content_type)
    # lxml rejects a str with an encoding declaration only for XML; HTML parses fine.
    return parsel.Selector(text=decoded.text or "<html></html>"), decoded.encoding, decoded.lossy


def extract(body: bytes, url: str = "", site=None, content_type: str | None = None) -> RawArticle:
    """Extract an article from raw page bytes. `site` is a site spider class (see crawler.sites.spider)
    or None for the generic chain."""
    sel, encoding, lossy = parse_page(body, content_type)
    rules = dict(getattr(site, "fields", {}) or {})
    site_name = getattr(site, "name", None)
    article = RawArticle(url=url, site=site_name, extractor="generic", encoding=encoding, lossy=lossy)

    misses = []  # fields whose site selector matched nothing: the generic chain fills them
    for name in TEXT_FIELDS:
        custom = getattr(site, f"extract_{name}", None)
        if custom is not None:
            setattr(article, name, custom(sel))
        elif rules.get(name):
            setattr(article, name, select_text(sel, rules[name]))
            if getattr(article, name) is None:
                misses.append(name)

    body_found = False
    custom_body = getattr(site, "extract_body", None)
    if custom_body is not None:
        article.body = custom_body(sel)
        body_found = bool(article.body)
    elif rules.get("body"):
        containers = [n.root for n in select(sel, rules["body"]) if not isinstance(n.root, str)]
        article.body = _body_from(containers, tuple(getattr(site, "drop", ()) or ()))
        body_found = bool(containers)
        if not containers:
            misses.append("body")
    if body_found:
        # The site's container exists: trust it, even empty (an empty page is not a reason to
        # go and extract the sidebar instead).
        article.extractor = f"site:{site_name}"
    else:
        article.body, article.extractor = _generic_body(_body_of(sel))
        if cjk_len("".join(article.body)) < MIN_BODY_CHARS:
            article.body, article.extractor = _trafilatura_body(sel.get(), url), "trafilatura"

    article.selector_misses = tuple(misses)
    _fill_generic(article, sel, (set(rules) - set(misses)) | {n for n in TEXT_FIELDS if hasattr(site, f"extract_{n}")})
    return article


def _body_of(sel: parsel.Selector):
    return next(sel.root.iter("body"), sel.root)


def _fill_generic(article: RawArticle, sel: parsel.Selector, site_fields: set[str]) -> None:
    """Fill the fields the site module does not define, or whose selector matched nothing (a
    layout change, a typo), from the generic extractor. A field the site's selector found empty,
    or its hook left empty, stays empty (a page without a date has none), except the title, which
    every article has."""
    missing = [name for name in TEXT_FIELDS if not getattr(article, name)
               and (name not in site_fields or name == "title")]
    if not missing:
        return
    root, body = sel.root, _body_of(sel)
    tags = _meta_tags(root)
    info = _info_text(root)
    generic = {
        "title": lambda: _generic_title(root, tags),
        "published": lambda: _generic_published(root, body, tags, info, article.title),
        "source": lambda: _from_meta(tags, "source") or _generic_labelled(info, "来源|稿源|信息来源|文章来源"),
        "author": lambda: _from_meta(tags, "author") or _generic_labelled(info, "作者|记者"),
        "summary": lambda: _generic_summary(root),
    }
    for name in missing:
        setattr(article, name, generic[name]())
