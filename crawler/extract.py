"""Raw page bytes -> raw article fields (before cleaning).

The chain, field by field: the site's own selectors when it has a site module, then the generic
government-page extractor (standard meta tags of 国办发〔2017〕47号, CMS body containers, a
text-density score suited to Chinese), then trafilatura for the body. The result records which
extractor produced the body. Everything here is a pure function of the page bytes and URL.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

import parsel
import trafilatura
from lxml import etree
from parsel.csstranslator import HTMLTranslator

from crawler.dates import date_from_url
from crawler.decode import decode_html
from crawler.text import CJK, normalize_space

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
_INFO_BLOCKS = (
    "//*[contains(@class,'info') or contains(@class,'meta') or contains(@class,'time') or "
    "contains(@class,'date') or contains(@class,'source') or contains(@class,'attr') or "
    "contains(@id,'info') or contains(@id,'time') or contains(@id,'date')]"
)
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
    r"\bnav|breadcrumb|crumb|position|location|toolbar|pager|pagination|\bad\b|advert|qrcode|erweima",
    re.IGNORECASE,
)
# A line that starts what comes after an article: related lists, comments.
_ARTICLE_END = re.compile(
    r"^[【\[]?(?:相关(?:报道|新闻|文章|内容|阅读|链接|稿件|专题)|延伸阅读|推荐阅读|热门推荐|猜你喜欢|"
    r"文章评论|发表评论|网友评论|我要评论|最新评论|评论列表)[】\]]?\s*[:：]?\s*$"
)
_SUMMARY_CLASSES = ("daodu", "summary", "abstract", "zhaiyao", "lead", "intro", "description")


@dataclass
class RawArticle:
    url: str
    site: str | None
    extractor: str
    title: str | None = None
    published: str | None = None  # text that holds the date; parsed by crawler.clean
    source: str | None = None
    author: str | None = None
    summary: str | None = None
    body: list[str] = field(default_factory=list)
    encoding: str = "utf-8"
    lossy: bool = False  # the bytes did not fully decode


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


def cjk_len(text: str) -> int:
    return len(re.findall(f"[{CJK}]", text))


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
def _meta_tags(sel: parsel.Selector) -> dict[str, str]:
    tags: dict[str, str] = {}
    for meta in sel.xpath("//meta[@content]"):
        key = (meta.attrib.get("name") or meta.attrib.get("property") or "").strip().lower()
        content = normalize_space(meta.attrib.get("content", ""))
        if key and content and key not in tags:
            tags[key] = content
    return tags


def _from_meta(tags: dict[str, str], name: str) -> str | None:
    return next((tags[key] for key in _META[name] if tags.get(key)), None)


def _generic_title(sel: parsel.Selector, tags: dict[str, str]) -> str | None:
    if tags.get("articletitle"):
        return tags["articletitle"]
    page_title = select_text(sel, "title") or ""
    for query in ("h1", "h2", "[class*=title]"):
        for candidate in sel.css(query):
            text = normalize_space(candidate.xpath("string()").get() or "")
            if len(text) >= 4 and text in page_title:
                return text
    h1 = select_text(sel, "(//h1)[1]")
    if h1 and len(h1) >= 4:
        return h1
    # `<title>` minus the site-name suffix: `标题_某某市人民政府` -> `标题`
    return re.split(r"\s*(?:[_|｜]|--?|—+)\s*", page_title)[0] or tags.get("og:title") or None


def page_text(sel: parsel.Selector) -> str:
    body = sel.xpath("//body")
    root = body[0].root if body else sel.root
    return normalize_space(" ".join(t for t in _visible_texts(root)))


def _visible_texts(root):
    for node in root.iter():
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag and tag not in _SKIP_TAGS and node.text:
            yield node.text
        if node.tail:
            yield node.tail


def _info_text(sel: parsel.Selector) -> str:
    texts = [normalize_space(node.xpath("string()").get() or "") for node in sel.xpath(_INFO_BLOCKS)[:20]]
    return " ".join(t for t in texts if len(t) < 300)


def _generic_published(sel: parsel.Selector, tags: dict[str, str], info: str, title: str | None) -> str | None:
    """The page's own date: a government meta tag, a labelled date (`发布时间：…`), the date
    stamp next to the headline, the canonical URL's date, the first date with a time of day."""
    found = _from_meta(tags, "published")
    if found:
        return found
    text = page_text(sel)
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
    canonical = sel.xpath("//link[@rel='canonical']/@href").get() or tags.get("og:url") or ""
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


def _generic_summary(sel: parsel.Selector) -> str | None:
    for name in _SUMMARY_CLASSES:
        text = select_text(sel, f"[class*={name}]")
        if text and 10 <= len(text) <= 1000:
            return text
    return None


def _score_blocks(root) -> dict:
    """Content score per element: Chinese characters and sentence punctuation of the text blocks
    it holds, minus link text; parents get a share of their children's score."""
    scores: dict = {}
    furniture = {element for element in root.iter(*_FURNITURE_BLOCK_TAGS) if _FURNITURE_NAME.search(_names_of(element))}
    for block in root.iter("p", "div", "td", "section", "article", "li", "span", "font"):
        if furniture and any(ancestor in furniture for ancestor in block.iterancestors()):
            continue  # comment threads and related lists can be long; they are still not the article
        # A div is scored on its own text only, so that a page wrapper does not win by nesting.
        own = normalize_space("".join(block.xpath("text()")) if block.tag == "div" else block.xpath("string()"))
        chars = cjk_len(own)
        if chars < 10:
            continue
        link_chars = sum(cjk_len(a.xpath("string()")) for a in block.iter("a"))
        if link_chars > chars * 0.5:
            continue
        score = chars + 10 * len(re.findall(r"[，。；！？,;]", own)) - 2 * link_chars
        parent = block.getparent()
        if parent is None:
            continue
        scores[parent] = scores.get(parent, 0) + score
        grandparent = parent.getparent()
        if grandparent is not None:
            scores[grandparent] = scores.get(grandparent, 0) + score / 3
    return scores


def _link_density(element) -> float:
    text = cjk_len(element.xpath("string()"))
    links = sum(cjk_len(a.xpath("string()")) for a in element.iter("a"))
    return links / max(text, 1)


def _generic_body(sel: parsel.Selector) -> tuple[list[str], str]:
    best = None
    for query in _CMS_BODIES:
        for node in sel.css(query):
            element = node.root
            chars = cjk_len(element.xpath("string()"))
            if chars >= MIN_BODY_CHARS and _link_density(element) < 0.3:
                if best is None or chars > best[1]:
                    best = (element, chars)
        if best:
            return _article_lines(best[0]), "generic"
    body = sel.css("body")
    scores = _score_blocks(body[0].root if body else sel.root)
    if scores:
        lines = _article_lines(max(scores, key=scores.get))
        if cjk_len("".join(lines)) >= MIN_BODY_CHARS:
            return lines, "generic"
    return [], "generic"


def _article_lines(container) -> list[str]:
    """The paragraphs of a body container without what CMSs and blogs put inside it: link
    lists (related articles, navigation), comment threads, forms; cut at the first heading
    of what follows an article (相关报道, 发表评论...) once some article text has come."""
    container = copy.deepcopy(container)
    container.tail = None
    for element in list(container.iter(*_FURNITURE_BLOCK_TAGS)):
        if element.getparent() is None and element is not container:
            continue  # already removed with an ancestor
        if element is not container and (_FURNITURE_NAME.search(_names_of(element)) or
                                          _is_link_list(element)):
            _remove(element)
    for form in list(container.iter("form")):
        _remove(form)
    lines = paragraphs(container)
    seen = 0
    for index, line in enumerate(lines):
        if seen >= 2 * MIN_BODY_CHARS and _ARTICLE_END.match(line):
            return lines[:index]
        seen += cjk_len(line)
    return lines


def _names_of(element) -> str:
    return f"{element.get('class', '')} {element.get('id', '')}"


def _is_link_list(element) -> bool:
    """A block that is mostly link text, with several links: a list of other articles."""
    links = [a for a in element.iter("a") if a.get("href")]
    if len(links) < 2:
        return False
    text = cjk_len(element.xpath("string()"))
    return sum(cjk_len(a.xpath("string()")) for a in links) > 0.5 * max(text, 1)


def _trafilatura_body(html: str, url: str) -> list[str]:
    text = trafilatura.extract(html, url=url or None, include_comments=False, include_tables=True,
                               favor_precision=True) or ""
    return [line for line in (normalize_space(x) for x in text.splitlines()) if line]


# --- the chain -----------------------------------------------------------------------------------
def parse_page(body: bytes, content_type: str | None = None) -> tuple[parsel.Selector, str, bool]:
    decoded = decode_html(body, content_type)
    # lxml rejects a str with an encoding declaration only for XML; HTML parses fine.
    return parsel.Selector(text=decoded.text or "<html></html>"), decoded.encoding, decoded.lossy


def extract(body: bytes, url: str = "", site=None, content_type: str | None = None) -> RawArticle:
    """Extract an article from raw page bytes. `site` is a site spider class (see crawler.site)
    or None for the generic chain."""
    sel, encoding, lossy = parse_page(body, content_type)
    rules = dict(getattr(site, "fields", {}) or {})
    site_name = getattr(site, "name", None)
    article = RawArticle(url=url, site=site_name, extractor="generic", encoding=encoding, lossy=lossy)

    for name in TEXT_FIELDS:
        custom = getattr(site, f"extract_{name}", None)
        if custom is not None:
            setattr(article, name, custom(sel))
        elif rules.get(name):
            setattr(article, name, select_text(sel, rules[name]))

    body_found = False
    custom_body = getattr(site, "extract_body", None)
    if custom_body is not None:
        article.body = custom_body(sel)
        body_found = bool(article.body)
    elif rules.get("body"):
        containers = [n.root for n in select(sel, rules["body"]) if not isinstance(n.root, str)]
        article.body = _body_from(containers, tuple(getattr(site, "drop", ()) or ()))
        body_found = bool(containers)
    if body_found:
        # The site's container exists: trust it, even empty (an empty page is not a reason to
        # go and extract the sidebar instead).
        article.extractor = f"site:{site_name}"
    else:
        article.body, article.extractor = _generic_body(sel)
        if cjk_len("".join(article.body)) < MIN_BODY_CHARS:
            article.body, article.extractor = _trafilatura_body(sel.get(), url), "trafilatura"

    _fill_generic(article, sel, set(rules) | {n for n in TEXT_FIELDS if hasattr(site, f"extract_{n}")})
    return article


def _fill_generic(article: RawArticle, sel: parsel.Selector, site_fields: set[str]) -> None:
    """Fill the fields the site module does not define from the generic extractor. A field the
    site defines stays empty when its selector finds nothing (a page without a date has none),
    except the title, which every article has."""
    missing = [name for name in TEXT_FIELDS if not getattr(article, name)
               and (name not in site_fields or name == "title")]
    if not missing:
        return
    tags = _meta_tags(sel)
    info = _info_text(sel)
    generic = {
        "title": lambda: _generic_title(sel, tags),
        "published": lambda: _generic_published(sel, tags, info, article.title),
        "source": lambda: _from_meta(tags, "source") or _generic_labelled(info, "来源|稿源|信息来源|文章来源"),
        "author": lambda: _from_meta(tags, "author") or _generic_labelled(info, "作者|记者"),
        "summary": lambda: _generic_summary(sel),
    }
    for name in missing:
        setattr(article, name, generic[name]())
