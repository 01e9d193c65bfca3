"""Duplicate detection keys: canonical URLs and normalised body hashes."""
from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import urlsplit, urlunsplit

from w3lib.url import canonicalize_url, url_query_cleaner

# Query parameters that identify a campaign or a visitor, never a page.
TRACKING_PARAMS = (
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "spm", "from",
    "share", "share_token", "isappinstalled", "scene", "clicktime", "enterid", "wfr", "fbclid",
    "gclid", "_t", "timestamp",
)
_DEFAULT_PAGES = re.compile(r"/(?:index|default)\.(?:s?html?|php|aspx?|jsp)$", re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str) -> str:
    """One spelling per page: http, no `www.`, no default port, sorted query without tracking
    parameters, no fragment, no trailing `index.html`."""
    url = url_query_cleaner(url.strip(), TRACKING_PARAMS, remove=True, keep_fragments=False)
    url = canonicalize_url(url, keep_fragments=False)
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    if parts.port and parts.port != _DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}:{parts.port}"
    path = _DEFAULT_PAGES.sub("/", parts.path) or "/"
    return urlunsplit(("http", host, path, parts.query, ""))


_NOT_TEXT = re.compile(r"[\W_]+", re.UNICODE)


def normalized_body(body: str) -> str:
    """The body as compared for exact duplicates: NFKC, letters and digits only, lower case."""
    return _NOT_TEXT.sub("", unicodedata.normalize("NFKC", body)).lower()


def content_hash(body: str) -> str:
    return hashlib.sha1(normalized_body(body).encode("utf-8")).hexdigest()
