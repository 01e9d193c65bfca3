"""Duplicate detection: canonical URLs, normalised body hashes, near-duplicate signatures."""
from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import urlsplit, urlunsplit

import numpy as np
from datasketch import MinHash
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


# --- near duplicates ---------------------------------------------------------------------------
# A republished copy (other chrome, edited headline, trimmed ending, the other script) keeps most
# of its 5-character runs. MinHash over those shingles, cut into LSH bands, finds candidate
# originals with a few indexed lookups; each candidate is then checked on its real shingles.
SHINGLE_CHARS = 5
NUM_PERM = 128
BANDS, ROWS = 32, 4  # P(candidate) = 1-(1-J^4)^32: 0.99 at Jaccard 0.6, 0.00003 at 0.1
MIN_NEAR_CHARS = 200  # shorter texts share too much by chance: exact matches only
NEAR_SIMILARITY = 0.8  # share of the shorter text's shingles found in the other
MIN_LENGTH_RATIO = 0.5  # a text is not a copy of one more than twice its length (a digest)

_MULTIPLIER = np.uint64(0x100000001B3)
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_PERMUTATIONS = MinHash(num_perm=NUM_PERM, seed=7).permutations


def shingles(body: str) -> np.ndarray:
    """Sorted distinct 64-bit hashes of the 5-character runs of the normalised body; empty for a
    text too short for near-duplicate matching."""
    text = normalized_body(body)
    if len(text) < MIN_NEAR_CHARS:
        return np.empty(0, dtype=np.uint64)
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    count = len(codes) - SHINGLE_CHARS + 1
    hashes = np.zeros(count, dtype=np.uint64)
    for offset in range(SHINGLE_CHARS):  # polynomial hash of each window, wrapping mod 2**64
        hashes = hashes * _MULTIPLIER + codes[offset:offset + count]
    hashes ^= hashes >> np.uint64(30)  # splitmix64 finaliser: spread the bits before MinHash
    hashes *= _MIX1
    hashes ^= hashes >> np.uint64(27)
    hashes *= _MIX2
    hashes ^= hashes >> np.uint64(31)
    return np.unique(hashes)


def lsh_keys(shingle_hashes: np.ndarray) -> list[int]:
    """One signed 64-bit key per LSH band of the text's MinHash; none for a short text."""
    if not len(shingle_hashes):
        return []
    minhash = MinHash(num_perm=NUM_PERM, hashfunc=int, permutations=_PERMUTATIONS, scheme="affine32")
    minhash.update_batch((shingle_hashes >> np.uint64(32)).tolist())
    bands = minhash.hashvalues.reshape(BANDS, ROWS)
    return [int.from_bytes(hashlib.blake2b(bytes([band]) + values.tobytes(), digest_size=8).digest(),
                           "big", signed=True) for band, values in enumerate(bands)]


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Share of the shorter text's shingles found in the other; 0 when either is too short or
    one is more than twice as long as the other."""
    shorter, longer = sorted((len(a), len(b)))
    if not shorter or shorter < MIN_LENGTH_RATIO * longer:
        return 0.0
    return len(np.intersect1d(a, b, assume_unique=True)) / shorter


def is_near_duplicate(score: float) -> bool:
    return score >= NEAR_SIMILARITY
