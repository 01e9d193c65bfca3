"""Does a list page without article links look like one that a browser would draw?

Two kinds of page are empty to plain HTTP and full in a browser:

- a script challenge: an anti-crawler product answers the first request with a short page
  (often 412, 202 or 521) whose script computes a cookie and reloads; no text, no links;
- a list drawn by script: the HTML has an empty list container (`<ul id="newsList"></ul>`)
  and a script that fetches the entries (XMLHttpRequest, fetch, jQuery's ajax), or a
  template that a framework fills in (`{{ item.title }}`, `v-for`). Entries held in a script
  block (Hanweb's `<script type="text/xml"><datastore>`) are no sign: the list pages read them
  without a browser (crawler.sites.jpage).

`browser_signs` names what it sees, or returns None; the crawl counts such pages and `crawler
report` tells the operator to set `render` for the site.
"""
from __future__ import annotations

import re

from crawler.article.text import normalize_space

# Statuses anti-crawler products answer the first request with.
CHALLENGE_STATUSES = frozenset({202, 412, 521})
MAX_CHALLENGE_TEXT = 50  # characters of visible text a challenge page has at most
_COOKIE_SCRIPT = re.compile(r"document\.cookie\s*=|\$_ts\s*=|location\.(?:reload|replace)\s*\(|location\.href\s*=")
_LOADS_DATA = re.compile(
    r"XMLHttpRequest|\bfetch\s*\(|(?:\$|jQuery)\.(?:ajax|get|post|getJSON)\s*\(|\baxios\b", re.IGNORECASE)
_TEMPLATE = re.compile(r"\{\{[^}]+\}\}|\bv-for=|\bng-repeat=", re.IGNORECASE)
# Where lists go: any named ul/ol/tbody; a div or section only if its name says so (empty
# layout divs such as `<div class="clear">` are on every page).
_CONTAINERS = ("//ul | //ol | //tbody | //*[self::div or self::section][re:test(concat(@id, ' ', @class), "
               "'list|news|item|article|content|data|app|root|main', 'i')]")


def browser_signs(selector, status: int) -> str | None:
    """What makes this page (a parsel Selector of it, and its HTTP status) look drawn by a
    browser: a short description, or None."""
    scripts = selector.xpath("//script")
    if not scripts:
        return None
    code = "\n".join(scripts.xpath("string()").getall())
    text = normalize_space(" ".join(selector.xpath(
        "//body//text()[not(ancestor::script) and not(ancestor::style)]").getall()))
    if len(text) <= MAX_CHALLENGE_TEXT and not selector.xpath("//a[@href]"):
        if status in CHALLENGE_STATUSES:
            return f"a script challenge (HTTP {status}, {len(scripts)} scripts, no text)"
        if _COOKIE_SCRIPT.search(code):
            return "a script challenge (a script that sets a cookie or reloads, no text)"
    template = _TEMPLATE.search(selector.get() or "")
    if template:
        return f"a list template filled by script ({template.group(0)[:30]})"
    loader = _LOADS_DATA.search(code)
    empty = _empty_container(selector)
    if loader and empty:
        return f"an empty list container ({empty}) and a script that loads data ({loader.group(0).strip()})"
    return None


def _empty_container(selector) -> str | None:
    """The first element that names itself (id or class) but holds nothing: no child element, no text."""
    for node in selector.xpath(_CONTAINERS):
        element = node.root
        name = element.get("id") or element.get("class")
        if name and len(element) == 0 and not (element.text or "").strip():
            return f"{element.tag}#{element.get('id')}" if element.get("id") else f"{element.tag}.{name.split()[0]}"
    return None
