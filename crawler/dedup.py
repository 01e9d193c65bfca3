"""Duplicate detection: canonical URLs, normalised body hashes, near-duplicate signatures."""
from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from urllib.parse import urlsplit, urlunsplit

import numpy as np
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
# Full-width punctuation and the ideographic space: NFKC makes them ASCII punctuation, which goes
# anyway. Dropping them first leaves most Chinese text already in NFKC, which is quick to check.
_FULL_WIDTH_PUNCTUATION = re.compile(r"[\u3000\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff5e]+")


def normalized_body(body: str) -> str:
    """The body as compared for exact duplicates: NFKC, letters and digits only, lower case."""
    text = _FULL_WIDTH_PUNCTUATION.sub("", body)
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return _NOT_TEXT.sub("", text).lower()


def content_hash(body: str) -> str:
    return digest(normalized_body(body))


def digest(normalized: str) -> str:
    return hashlib.sha1(normalized.encode("utf-8")).hexdigest()


# --- near duplicates ---------------------------------------------------------------------------
# A republished copy (other chrome, edited headline, trimmed ending, the other script) keeps most
# of its 5-character runs. A MinHash of those shingles, cut into LSH bands, finds candidate
# originals with a few indexed lookups; each candidate is then checked on its real shingles.
SHINGLE_CHARS = 5
NUM_PERM = 128
BANDS, ROWS = 32, 4  # P(candidate) = 1-(1-J^4)^32: 0.99 at Jaccard 0.6, 0.00003 at 0.1
MIN_NEAR_CHARS = 200  # shorter texts share too much by chance: exact matches only
NEAR_SIMILARITY = 0.8  # share of the shorter text's shingles found in the other
MIN_LENGTH_RATIO = 0.5  # a text is not a copy of one more than twice its length (a digest)
MAX_CHECKED_CANDIDATES = 3  # a true copy shares the most bands, so it comes first
MAX_BUCKET = 50  # articles indexed under one band key, see `uncrowded`

_MULTIPLIER = np.uint64(0x100000001B3)
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
# MinHash permutations h -> a*h + b (mod 2**32, a odd), as datasketch's "affine32" scheme.
# Fixed forever: the band keys of stored articles were made with them.
_PERM_A = (np.random.default_rng(20261127).integers(0, 2**31, NUM_PERM, dtype=np.uint32) << np.uint32(1)) | np.uint32(1)
_PERM_B = np.random.default_rng(20261128).integers(0, 2**32, NUM_PERM, dtype=np.uint32)
_BAND_SALT = np.arange(1, BANDS + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)


def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every input bit moves every output bit."""
    values = values ^ (values >> np.uint64(30))
    values *= _MIX1
    values ^= values >> np.uint64(27)
    values *= _MIX2
    return values ^ (values >> np.uint64(31))


def shingles(text: str) -> np.ndarray:
    """Sorted distinct 64-bit hashes of the 5-character runs of a `normalized_body`; empty for a
    text too short for near-duplicate matching."""
    if len(text) < MIN_NEAR_CHARS:
        return np.empty(0, dtype=np.uint64)
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    count = len(codes) - SHINGLE_CHARS + 1
    hashes = np.zeros(count, dtype=np.uint64)
    for offset in range(SHINGLE_CHARS):  # polynomial hash of each window, wrapping mod 2**64
        hashes = hashes * _MULTIPLIER + codes[offset:offset + count]
    hashes = np.sort(_mix(hashes))
    return hashes[np.concatenate(([True], hashes[1:] != hashes[:-1]))]  # np.unique, several times faster


def lsh_keys(shingle_hashes: np.ndarray) -> list[int]:
    """One signed 64-bit key per LSH band of the text's MinHash; none for a short text."""
    return band_keys(minhash(shingle_hashes)) if len(shingle_hashes) else []


def minhash(shingle_hashes: np.ndarray) -> np.ndarray:
    """The NUM_PERM minima of the permuted shingle hashes (the MinHash signature)."""
    permuted = np.multiply.outer((shingle_hashes >> np.uint64(32)).astype(np.uint32), _PERM_A)
    permuted += _PERM_B  # wraps mod 2**32
    return permuted.min(axis=0)


def band_keys(signature: np.ndarray) -> list[int]:
    rows = signature.astype(np.uint64).reshape(BANDS, ROWS)
    keys = _BAND_SALT.copy()
    for row in range(ROWS):
        keys = keys * _MULTIPLIER + rows[:, row]
    return _mix(keys).view(np.int64).tolist()


def candidates(members: list[tuple[int, int]], limit: int) -> list[int]:
    """The articles worth checking among the (key, article id) band members of a text: the one
    sharing the most bands, and up to `limit` in all of those sharing more than one (a copy
    shares many; an article that merely uses some of the same phrases shares one now and then)."""
    shared = Counter(article_id for _, article_id in members)
    ranked = sorted(shared.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [article_id for rank, (article_id, count) in enumerate(ranked) if rank == 0 or count > 1]


def uncrowded(keys: list[int], members: list[tuple[int, int]]) -> list[int]:
    """The keys under which a new article is indexed: not those already shared by MAX_BUCKET
    articles. Such a key comes from boilerplate that many articles print, never tells a copy
    apart, and would make every lookup of it read a long list."""
    crowd = Counter(key for key, _ in members)
    return [key for key in keys if crowd[key] < MAX_BUCKET]


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Share of the shorter text's shingles found in the other; 0 when either is too short or
    one is more than twice as long as the other."""
    shorter, longer = sorted((len(a), len(b)))
    if not shorter or shorter < MIN_LENGTH_RATIO * longer:
        return 0.0
    return len(np.intersect1d(a, b, assume_unique=True)) / shorter


def is_near_duplicate(score: float) -> bool:
    return score >= NEAR_SIMILARITY
