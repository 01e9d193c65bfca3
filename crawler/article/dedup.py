"""Duplicate detection: canonical URLs, normalised body hashes, near-duplicate signatures."""
from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from datetime import datetime, timezone
from itertools import chain
from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

import numpy as np
from w3lib.url import canonicalize_url, url_query_cleaner

from crawler.article.dates import CHINA

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
BANDS, ROWS = 16, 3  # P(candidate) = 1-(1-J^3)^16: 0.98 at Jaccard 0.6, 0.53 at 0.36, 0.016 at 0.1
MIN_NEAR_CHARS = 200  # shorter texts share too much by chance: exact matches only
NEAR_SIMILARITY = 0.8  # share of the shorter text's shingles found in the other
MIN_LENGTH_RATIO = 0.5  # a text is not a copy of one more than twice its length (a digest)
# A candidate whose signature says it holds less than this share of the text is not worth
# reading: at the smallest Jaccard a copy can have (0.36: 80% of a text half as long) the
# estimate is still above it by more than 3 standard deviations.
LIKELY_SIMILARITY = 0.45
MAX_CHECKED_CANDIDATES = 3  # a true copy shares the most bands, so it comes first
MAX_BUCKET = 50  # articles indexed under one band key (`uncrowded`)

_MULTIPLIER = np.uint64(0x100000001B3)
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_BAND_SALT = np.arange(1, BANDS + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
# One-permutation MinHash: the shingle hashes are cut by their top 7 bits into NUM_PERM bins and
# the signature holds the smallest hash of each bin. Fixed forever: stored signatures and band
# keys were made with them.
_BIN_SHIFT = np.uint64(64 - 7)
_BIN_BOUNDS = np.arange(1, NUM_PERM, dtype=np.uint64) << _BIN_SHIFT
_BIN_IDS = np.arange(NUM_PERM)
_DONOR_OFFSET = np.uint32(0x9E3779B9)


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
    hashes = codes[:count].copy()
    for offset in range(1, SHINGLE_CHARS):  # polynomial hash of each window, wrapping mod 2**64
        hashes *= _MULTIPLIER
        hashes += codes[offset:offset + count]
    hashes = np.sort(_mix(hashes))
    return hashes[np.concatenate(([True], hashes[1:] != hashes[:-1]))]  # np.unique, several times faster


class Fingerprint(NamedTuple):
    """What the store keeps of a text for near-duplicate search: its shingle count, its MinHash
    signature and the LSH band keys cut from it."""
    size: int
    signature: np.ndarray
    keys: list[int]


def fingerprint(shingle_hashes: np.ndarray) -> Fingerprint | None:
    """None for a text too short for near-duplicate matching."""
    if not len(shingle_hashes):
        return None
    signature = minhash(shingle_hashes)
    return Fingerprint(len(shingle_hashes), signature, band_keys(signature))


def body_fingerprint(body: str) -> Fingerprint | None:
    """The fingerprint of a stored body, from the text itself."""
    return fingerprint(shingles(normalized_body(body)))


def minhash(shingle_hashes: np.ndarray) -> np.ndarray:
    """The NUM_PERM-value signature of sorted distinct shingle hashes: the low 32 bits of the
    smallest hash in each bin. An empty bin (a short text) takes the value of the next bin to
    its right that has one, shifted by the distance, so that two texts agree on it about as
    often as on a full bin ("rotation" densification, Shrivastava and Li 2014)."""
    starts = np.concatenate(([0], np.searchsorted(shingle_hashes, _BIN_BOUNDS)))
    ends = np.append(starts[1:], len(shingle_hashes))
    values = shingle_hashes[np.minimum(starts, len(shingle_hashes) - 1)].astype(np.uint32)  # keeps the low 32 bits
    full = np.flatnonzero(starts < ends)
    if len(full) == NUM_PERM:
        return values
    donors = full[np.searchsorted(full, _BIN_IDS) % len(full)]
    distance = ((donors - _BIN_IDS) % NUM_PERM).astype(np.uint32)
    return values[donors] + distance * _DONOR_OFFSET  # wraps mod 2**32


def band_keys(signature: np.ndarray) -> list[int]:
    """One signed 64-bit key per LSH band of a signature."""
    rows = signature[:BANDS * ROWS].astype(np.uint64).reshape(BANDS, ROWS)
    keys = _BAND_SALT.copy()
    for row in range(ROWS):
        keys = keys * _MULTIPLIER + rows[:, row]
    return _mix(keys).view(np.int64).tolist()


def sharing_bands(members: dict[int, list[int]], limit: int) -> list[tuple[int, int]]:
    """(article id, bands shared) of the `limit` articles that share the most band keys with a
    text, given the `members` of each of its keys; most first (on a tie the first stored)."""
    shared = Counter(article_id for articles in members.values() for article_id in articles)
    return sorted(shared.items(), key=lambda item: (-item[1], item[0]))[:limit]


def candidates_of_many(text_keys: list[list[int]], members: dict[int, list[int]],
                       limit: int = MAX_CHECKED_CANDIDATES) -> list[list[int]]:
    """`candidates(sharing_bands(...))` of many texts, each given by its band keys, against the
    `members` of all their keys: one numpy computation for a batch instead of a count and a
    sort per text, which cost more than reading the members."""
    found: list[list[int]] = [[] for _ in text_keys]
    if not members or not text_keys:
        return found
    sizes = [len(ids) for ids in members.values()]
    member_keys = np.repeat(np.fromiter(members, np.int64, len(members)), sizes)
    member_ids = np.fromiter(chain.from_iterable(members.values()), np.int64, sum(sizes))
    order = np.argsort(member_keys, kind="stable")
    member_keys, member_ids = member_keys[order], member_ids[order]
    if len(member_ids) and member_ids.max() >= 1 << 35:  # packed into 35 bits below
        raise ValueError("article ids of 2**35 and above are not supported")
    text_keys = [list(dict.fromkeys(keys)) for keys in text_keys]  # a key counts once, as in a members dict
    lengths = [len(keys) for keys in text_keys]
    wanted = np.fromiter(chain.from_iterable(text_keys), np.int64, sum(lengths))
    low, high = np.searchsorted(member_keys, wanted, "left"), np.searchsorted(member_keys, wanted, "right")
    counts = high - low
    text = np.repeat(np.repeat(np.arange(len(text_keys), dtype=np.int64), lengths), counts)
    first = np.repeat(low - (np.cumsum(counts) - counts), counts)  # each member's offset into member_ids
    article = member_ids[np.arange(len(first)) + first]
    pairs, shared = np.unique((text << 40) | article, return_counts=True)
    # one sort by text, then most bands shared, then first stored: shared is at most BANDS < 32
    ranked = np.sort((pairs >> 40 << 40) | ((31 - np.minimum(shared, 31)) << 35) | (pairs & ((1 << 35) - 1)))
    text, shared, article = ranked >> 40, 31 - ((ranked >> 35) & 31), ranked & ((1 << 35) - 1)
    starts = np.flatnonzero(np.concatenate(([True], text[1:] != text[:-1])))
    rank = np.arange(len(text)) - np.repeat(starts, np.diff(np.append(starts, len(text))))
    keep = (rank < limit) & ((rank == 0) | (shared > 1))
    for index, article_id in zip(text[keep].tolist(), article[keep].tolist()):
        found[index].append(article_id)
    return found


def uncrowded(keys: list[int], members: dict[int, list[int]]) -> list[int]:
    """The keys to index a text under: those not yet shared by MAX_BUCKET articles. A crowded
    key comes from boilerplate that many articles print, never tells a copy apart, and would
    make every lookup of it read a long list."""
    return [key for key in keys if len(members.get(key, ())) < MAX_BUCKET]


def candidates(sharing: list[tuple[int, int]]) -> list[int]:
    """The articles worth checking among the (article id, bands shared) that share the most
    bands with a text, best first: the first, and those sharing more than one (a copy shares
    many; an article that merely uses some of the same phrases shares one now and then)."""
    return [article_id for rank, (article_id, shared) in enumerate(sharing) if rank == 0 or shared > 1]


def _comparable(size_a: int, size_b: int) -> bool:
    """Not too short, and neither more than twice as long as the other (a digest)."""
    shorter, longer = sorted((size_a, size_b))
    return bool(shorter) and shorter >= MIN_LENGTH_RATIO * longer


def estimated_similarity(a: Fingerprint, size_b: int, signature_b: np.ndarray) -> float:
    """`similarity` as the signatures estimate it, from their share of equal values (Jaccard)."""
    if not _comparable(a.size, size_b):
        return 0.0
    jaccard = np.count_nonzero(a.signature == signature_b) / NUM_PERM
    return jaccard * (a.size + size_b) / ((1 + jaccard) * min(a.size, size_b))


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Share of the shorter text's shingles found in the other; 0 when either is too short or
    one is more than twice as long as the other."""
    if not _comparable(len(a), len(b)):
        return 0.0
    shorter, longer = (a, b) if len(a) <= len(b) else (b, a)
    found = longer[np.minimum(np.searchsorted(longer, shorter), len(longer) - 1)] == shorter
    return np.count_nonzero(found) / len(shorter)


def is_near_duplicate(score: float) -> bool:
    return score >= NEAR_SIMILARITY


# --- which copy is the original ------------------------------------------------------------------
_UNKNOWN = float("inf")  # a copy without a (readable) date comes after every dated one
_DAY = 86400


def _published(value: str | None) -> float:
    """A date without a time counts as the end of its day (China time): a portal that copies an
    article often keeps its date and drops its time, so on the same day the timed copy wins."""
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return _UNKNOWN
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA)
    return moment.timestamp() + (_DAY - 1 if len(value) <= 10 else 0)


def original_rank(published: str | None, fetched_at: str | None, canonical: str) -> tuple:
    """Where a copy stands in the line for "original" of its duplicate group; the lowest is the
    original: the earliest published, then the earliest fetched day (UTC), then the canonical
    URL. Copies fetched the same day count as fetched together, so that the order in which one
    crawl happened to reach them never decides: the same pages give the same original on every
    run, whatever arrives first."""
    try:
        fetched_day = datetime.fromisoformat(fetched_at).astimezone(timezone.utc).date().isoformat()
    except (TypeError, ValueError):
        fetched_day = "~"  # after every date
    return _published(published), fetched_day, canonical
