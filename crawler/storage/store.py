"""The SQLite store: explicit schema, WAL, every stored page written whole or not at all.

Downstream tools read this file while crawls write it, so the schema is created explicitly
(never inferred from a first row), versioned in `meta.schema_version`, and documented in
docs/analysts.md. Every write goes through parameters bound by sqlite-utils / sqlite3.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import zlib
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

import numpy as np

from crawler.article.dates import utc_now
from crawler.article.dedup import Fingerprint, band_keys, body_fingerprint, uncrowded
from crawler.article.document import FIELDS as DOCUMENT_FIELDS

RUN_COUNTERS = (
    "pages_fetched", "articles_new", "duplicates", "skipped_known", "http_errors",
    "empty_bodies", "missing_dates", "fallbacks", "errors",
)
LIST_PAGE_COUNTERS = ("list_pages", "list_pages_not_modified", "article_links")  # schema 2
RUN_TALLIES = ("pagers", "selector_misses")  # JSON objects {name: count}, schema 12


def _run_counts(counts: dict) -> dict:
    """A run's crawl_runs columns from its counts (crawler.storage.runcounts.run_counts, or a
    crawl_runs row, whose tallies are JSON already)."""
    return {**{name: int(counts.get(name, 0)) for name in RUN_COUNTERS + LIST_PAGE_COUNTERS},
            **{name: _tally_json(counts.get(name)) for name in RUN_TALLIES}}


def _tally_json(tally: dict | str | None) -> str:
    return tally if isinstance(tally, str) else json.dumps(tally or {}, sort_keys=True)


class StoreError(Exception):
    """The database cannot be opened or written (bad path, read-only, not a database, damaged,
    full disk)."""


# Up to this size the file's b-trees are checked when it is opened (`PRAGMA quick_check`, about
# 0.2 s per 250 MB from the page cache here): a damaged file is refused before a crawl fetches
# pages it could not store. A larger file is checked by its first failing read or write only.
QUICK_CHECK_MAX_BYTES = 2 * 1024 ** 3


def damaged(path: Path, detail: str) -> str:
    """The one line that tells an operator their database file is damaged, and what to do."""
    return (f"database {path} is damaged ({detail}); copy its readable rows with "
            f"`sqlite3 {path} .dump | sqlite3 recovered.db` (`.recover` instead of `.dump` also "
            f"salvages damaged tables, where the sqlite3 shell has it) and use recovered.db")


def failure_of(path: Path, exc: BaseException) -> str | None:
    """Why nothing more can be written to the file, for an error after which writing must
    stop (damaged file, full or failing disk); None for any other error."""
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF  # the primary result code
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return damaged(path, str(exc))
    if code in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR):
        return f"cannot write database {path}: {exc}"
    return None


def integrity_problem(conn: sqlite3.Connection, path: Path) -> str | None:
    """`damaged(...)` if a quick check of the file's b-trees finds a fault (files larger than
    QUICK_CHECK_MAX_BYTES are not checked); None if it finds none."""
    if not path.is_file() or path.stat().st_size > QUICK_CHECK_MAX_BYTES:
        return None
    try:
        found = [row[0] for row in conn.execute("PRAGMA quick_check(3)")]
    except sqlite3.DatabaseError as exc:
        return damaged(path, str(exc))
    if found == ["ok"]:
        return None
    lines = [line for row in found for line in row.splitlines() if not line.startswith("***")]
    return damaged(path, "; ".join(lines)[:200])


def writable(path: Path) -> bool:
    """Whether the file and its folder can be written (a crawl could be writing it)."""
    return os.access(path, os.W_OK) and os.access(path.resolve().parent, os.W_OK)


def open_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to a database that passes `integrity_problem`. A file that
    cannot be written (a published copy, a read-only mount) is opened `immutable`: no crawl can
    be writing it, and SQLite could not create the shared-memory file a WAL reader needs."""
    uri = path.resolve().as_uri() + ("?mode=ro" if writable(path) else "?mode=ro&immutable=1")
    try:
        conn = sqlite3.connect(uri, uri=True)
        problem = integrity_problem(conn, path)
    except sqlite3.Error as exc:
        raise StoreError(failure_of(path, exc) or f"cannot read database {path}: {exc}") from exc
    if problem:
        conn.close()
        raise StoreError(problem)
    return conn


def _initial_schema(db: sqlite_utils.Database) -> None:
    db["articles"].create(
        {
            "id": int, "url": str, "canonical_url": str, "site": str, "title": str,
            "published": str, "source": str, "author": str, "summary": str, "body": str,
            "script": str, "content_hash": str, "extractor": str, "fetched_at": str, "run_id": int,
        },
        pk="id", not_null={"url", "canonical_url", "site", "body", "content_hash"}, if_not_exists=True,
    )
    db["articles"].create_index(["url"], unique=True, if_not_exists=True)
    db["articles"].create_index(["canonical_url"], unique=True, if_not_exists=True)
    db["articles"].create_index(["content_hash"], if_not_exists=True)
    db["articles"].create_index(["site", "published"], if_not_exists=True)
    db["duplicates"].create(
        {
            "id": int, "url": str, "canonical_url": str, "duplicate_of": int, "kind": str,
            "similarity": float, "site": str, "fetched_at": str, "run_id": int,
        },
        pk="id", not_null={"url", "canonical_url", "duplicate_of", "kind"},
        foreign_keys=[("duplicate_of", "articles", "id")], if_not_exists=True,
    )
    db["duplicates"].create_index(["canonical_url"], unique=True, if_not_exists=True)
    db["duplicates"].create_index(["duplicate_of"], if_not_exists=True)
    db["crawl_runs"].create(
        {
            "id": int, "invocation": str, "site": str, "started_at": str, "finished_at": str,
            "status": str, "finish_reason": str, "duration_s": float,
            **{name: int for name in RUN_COUNTERS},
        },
        pk="id", not_null={"site", "started_at"}, if_not_exists=True,
    )
    db["crawl_runs"].create_index(["site", "started_at"], if_not_exists=True)
    db["raw_pages"].create(
        {"article_id": int, "url": str, "content_type": str, "html_zlib": bytes, "fetched_at": str},
        pk="article_id", foreign_keys=[("article_id", "articles", "id")], if_not_exists=True,
    )


def _incremental_crawls(db: sqlite_utils.Database) -> None:
    """Schema 2: what a run still has to fetch (so a killed run resumes), the validators of list
    pages (for conditional requests), and the list-page counters `crawler report` judges by."""
    db["frontier"].create(
        {"site": str, "url": str, "callback": str, "errback": str, "meta": str, "attempts": int, "added_at": str},
        pk=("site", "url"), not_null={"site", "url", "meta", "attempts"}, if_not_exists=True,
    )
    db["list_validators"].create({"url": str, "etag": str, "last_modified": str, "checked_at": str},
                                 pk="url", if_not_exists=True)
    for column in LIST_PAGE_COUNTERS:
        db.execute(f"ALTER TABLE crawl_runs ADD COLUMN [{column}] INTEGER DEFAULT 0")
    db.execute("ALTER TABLE crawl_runs ADD COLUMN [log_file] TEXT")


def _full_text_search(db: sqlite_utils.Database) -> None:
    """`articles_fts`: title and body indexed by trigrams, so that any Chinese substring of
    three or more characters is found (unicode61 would treat a whole run of Chinese text as one
    word). Triggers keep it in step with `articles` in the writer's own transaction; `rebuild`
    indexes the articles of a database created before this migration. Plain SQL, not
    sqlite-utils' enable_fts, which would commit the migration's transaction half way."""
    db.execute("CREATE VIRTUAL TABLE articles_fts USING fts5("
               "title, body, content=\"articles\", content_rowid=\"id\", tokenize=\"trigram\")")
    db.execute("CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN "
               "INSERT INTO articles_fts (rowid, title, body) VALUES (new.id, new.title, new.body); END")
    db.execute("CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN "
               "INSERT INTO articles_fts (articles_fts, rowid, title, body) "
               "VALUES ('delete', old.id, old.title, old.body); END")
    db.execute("CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, body ON articles BEGIN "
               "INSERT INTO articles_fts (articles_fts, rowid, title, body) "
               "VALUES ('delete', old.id, old.title, old.body); "
               "INSERT INTO articles_fts (rowid, title, body) VALUES (new.id, new.title, new.body); END")
    db.execute("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")


def _facets(db: sqlite_utils.Database) -> None:
    """`published_month` (`2022-07`), computed on read, so that browsers can facet by month
    (virtual: writers never set it), and indexes on the facet columns, so that counting them
    reads an index instead of every row with its body (`site` has one already)."""
    db.execute("ALTER TABLE articles ADD COLUMN published_month TEXT "
               "GENERATED ALWAYS AS (substr(published, 1, 7)) VIRTUAL")
    for column in ("published_month", "extractor", "script"):
        db.execute(f"CREATE INDEX idx_articles_{column} ON articles ({column})")


# Per-run counts of the faults a crawl met (crawl_runs columns added by the migration below).
FAULT_COUNTERS = (
    "retries", "timeouts", "oversize", "truncated", "robots_forbidden", "attachments", "trapped",
    "empty_lists",
)


def _attachments_and_fault_counts(db: sqlite_utils.Database) -> None:
    """Attachment links (PDF, Word, images...) found on crawled pages, kept apart from articles,
    and crawl_runs columns that say which faults a run met."""
    db["attachments"].create(
        {"id": int, "url": str, "kind": str, "content_type": str, "found_on": str, "site": str,
         "run_id": int, "found_at": str},
        pk="id", not_null={"url", "kind", "found_on", "site"}, if_not_exists=True,
    )
    db["attachments"].create_index(["url", "found_on"], unique=True, if_not_exists=True)
    db["attachments"].create_index(["site"], if_not_exists=True)
    for name in FAULT_COUNTERS:
        db.execute(f"ALTER TABLE crawl_runs ADD COLUMN [{name}] INTEGER NOT NULL DEFAULT 0")


def _near_duplicate_index(db: sqlite_utils.Database) -> None:
    """LSH band keys of every stored article (see crawler.article.dedup), kept on disk so that memory
    stays flat however many articles there are. (Schema 8 indexes the stored articles.)"""
    db.execute("CREATE TABLE IF NOT EXISTS lsh_bands (key INTEGER NOT NULL, article_id INTEGER NOT NULL, "
               "PRIMARY KEY (key, article_id)) WITHOUT ROWID")


def _search_index_at_commit(db: sqlite_utils.Database) -> None:
    """New articles enter the search index in one statement per transaction, just before it
    commits (`Store._index_new_articles`), instead of one trigger call per row: the same index,
    committed together with the articles, at about half the cost. Updates and deletes keep
    their triggers: they only ever touch indexed rows."""
    db.execute("DROP TRIGGER IF EXISTS articles_fts_insert")


def _minhash_signatures(db: sqlite_utils.Database) -> None:
    """The MinHash signature and shingle count of every article (`minhashes`), so that a
    candidate original is judged on 512 bytes instead of its re-read, re-shingled body; the
    signatures are one-permutation MinHashes, so the band keys of the stored articles are made
    again with them."""
    db.execute("CREATE TABLE minhashes (article_id INTEGER PRIMARY KEY, size INTEGER NOT NULL, "
               "signature BLOB NOT NULL)")
    db.execute("DELETE FROM lsh_bands")
    for article_id, body in db.execute("SELECT id, body FROM articles"):  # a cursor: memory stays flat
        _index_near_duplicates(db, article_id, body_fingerprint(body))


def _index_near_duplicates(db: sqlite_utils.Database, article_id: int, found: Fingerprint | None,
                           members: dict[int, list[int]] | None = None) -> None:
    """Store an article's fingerprint, under those of its band keys that are not crowded.
    `members`: the `band_members` of its keys, if just read (by the duplicate check)."""
    if found is None:
        return
    db.execute("INSERT INTO minhashes (article_id, size, signature) VALUES (?, ?, ?)",
               [article_id, found.size, found.signature.tobytes()])
    keys = uncrowded(found.keys, band_members(db, found.keys) if members is None else members)
    db.conn.executemany("INSERT OR IGNORE INTO lsh_bands (key, article_id) VALUES (?, ?)",
                        [(key, article_id) for key in keys])


def _marks(values) -> str:
    """One `?` per value, for an IN list or a VALUES row: the values themselves are bound."""
    return ", ".join("?" for _ in values)


def _chunks(values: list, size: int = 5000):
    """`values` in slices small enough to bind in one statement (SQLite allows 32,766)."""
    for start in range(0, len(values), size):
        yield values[start:start + size]


def band_members(db: sqlite_utils.Database, keys: list[int]) -> dict[int, list[int]]:
    """The articles indexed under each of these LSH band keys (at most MAX_BUCKET each)."""
    members = defaultdict(list)
    for chunk in _chunks(keys):
        for key, article_id in db.execute(f"SELECT key, article_id FROM lsh_bands WHERE key IN ({_marks(chunk)})", chunk):
            members[key].append(article_id)
    return members


def _search_index_merges(db: sqlite_utils.Database) -> None:
    """Fewer, larger writes of the search index: a transaction's new entries are gathered in up
    to 8 MB of memory (default 1 MB) before they become a segment on disk, and segments are
    merged 8 at a time (default 4), so each entry is rewritten fewer times as the index grows.
    Storing an article costs about a third less; a search reads up to twice as many segments
    (bench/search.py). Both settings live in the index's own config table."""
    db.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('hashsize', 8388608)")
    db.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('automerge', 8)")



def _copies_view(db: sqlite_utils.Database) -> None:
    """Each copy's own publication date in `duplicates` (an older copy found later takes the
    article's place; the one it displaces keeps its date here), and `copies`: one row per copy,
    the article itself first, with its text through the article (see docs/analysts.md).
    Duplicates recorded before this migration have no date."""
    db.execute("ALTER TABLE duplicates ADD COLUMN published TEXT")
    db.execute("CREATE VIEW copies AS "
               "SELECT a.id AS article_id, a.url, a.site, a.published, 'original' AS kind, 1.0 AS similarity, "
               "a.fetched_at, a.title, a.source, a.body FROM articles a "
               "UNION ALL "
               "SELECT d.duplicate_of, d.url, d.site, d.published, d.kind, d.similarity, d.fetched_at, "
               "a.title, a.source, a.body FROM duplicates d JOIN articles a ON a.id = d.duplicate_of")


def _documents_and_attachment_files(db: sqlite_utils.Database) -> None:
    """`documents`: the 信息公开 header fields of the articles that are government documents
    (one row each, `year` computed on read for facets); `attachment_files`: each downloaded
    attachment by URL (beside its `attachments` links): its bytes zlib-compressed like raw pages,
    its text, or why there is none, the text searchable by trigrams like articles' (its few
    writes keep their triggers)."""
    db.execute("CREATE TABLE documents (article_id INTEGER PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE, "
               + "".join(f"[{name}] TEXT, " for name in DOCUMENT_FIELDS)
               + "year TEXT GENERATED ALWAYS AS (substr(coalesce(written, issued), 1, 4)) VIRTUAL)")
    for column in ("issuer", "year", "doc_number"):
        db.execute(f"CREATE INDEX idx_documents_{column} ON documents ({column})")
    db.execute("CREATE TABLE attachment_files (id INTEGER PRIMARY KEY, url TEXT NOT NULL UNIQUE, site TEXT NOT NULL, "
               "kind TEXT, content_type TEXT, status TEXT NOT NULL, reason TEXT, size INTEGER, pages INTEGER, "
               "text TEXT, file_zlib BLOB, fetched_at TEXT NOT NULL)")
    db.execute("CREATE INDEX idx_attachment_files_status ON attachment_files (status)")
    db.execute("CREATE VIRTUAL TABLE attachment_files_fts USING fts5("
               "text, content=\"attachment_files\", content_rowid=\"id\", tokenize=\"trigram\")")
    db.execute("CREATE TRIGGER attachment_files_fts_insert AFTER INSERT ON attachment_files BEGIN "
               "INSERT INTO attachment_files_fts (rowid, text) VALUES (new.id, new.text); END")
    db.execute("CREATE TRIGGER attachment_files_fts_delete AFTER DELETE ON attachment_files BEGIN "
               "INSERT INTO attachment_files_fts (attachment_files_fts, rowid, text) VALUES ('delete', old.id, old.text); END")
    db.execute("CREATE TRIGGER attachment_files_fts_update AFTER UPDATE OF text ON attachment_files BEGIN "
               "INSERT INTO attachment_files_fts (attachment_files_fts, rowid, text) VALUES ('delete', old.id, old.text); "
               "INSERT INTO attachment_files_fts (rowid, text) VALUES (new.id, new.text); END")


# The columns of an `attachment_files` row, `url` first.
ATTACHMENT_FILE_COLUMNS = ("url", "site", "kind", "content_type", "status", "reason", "size", "pages", "text",
                           "file_zlib", "fetched_at")

# Whether a canonical URL is stored, as an article or a duplicate (parameters: the URL twice).
KNOWN_URL = ("SELECT 1 FROM articles WHERE canonical_url = ? UNION ALL "
             "SELECT 1 FROM duplicates WHERE canonical_url = ? LIMIT 1")

# Adds to the search index the articles from a given id on (see `_search_index_at_commit`).
INDEX_ARTICLES_FROM = "INSERT INTO articles_fts (rowid, title, body) SELECT id, title, body FROM articles WHERE id >= ?"

# Take articles out of the search index, put them in (parameters: their ids; see `Store._reindexing`).
UNINDEX_ARTICLES = ("INSERT INTO articles_fts (articles_fts, rowid, title, body) "
                    "SELECT 'delete', id, title, body FROM articles WHERE id IN ({marks})")
INDEX_ARTICLES = "INSERT INTO articles_fts (rowid, title, body) SELECT id, title, body FROM articles WHERE id IN ({marks})"

# Per-run fault counts added after schema 5, each by a migration of its own (unreachable: schema 10;
# needs_browser, rendered: schema 14); written with FAULT_COUNTERS.
LATER_FAULT_COUNTERS = ("unreachable", "needs_browser", "rendered")


def _unreachable_count(db: sqlite_utils.Database) -> None:
    """crawl_runs.unreachable: requests that found no server (DNS lookup failed, connection
    refused), so that a site that is down is told apart from one whose layout changed."""
    db.execute("ALTER TABLE crawl_runs ADD COLUMN [unreachable] INTEGER NOT NULL DEFAULT 0")


def _pagers_and_selector_misses(db: sqlite_utils.Database) -> None:
    """Per run, as JSON objects: the pagers that found its next list pages ({"trs": 2}), and how
    many pages each site selector matched nothing on ({"published": 5}; the generic chain filled
    the field instead), so that `crawler report` flags a selector that stopped matching."""
    for name in RUN_TALLIES:
        db.execute(f"ALTER TABLE crawl_runs ADD COLUMN [{name}] TEXT NOT NULL DEFAULT '{{}}'")


def _rendering_counts(db: sqlite_utils.Database) -> None:
    """crawl_runs columns of sites that need a browser (crawler.crawl.rendering): needs_browser,
    list pages fetched as plain HTML that a browser would draw (`crawler report` flags them);
    rendered, pages a browser drew."""
    for name in ("needs_browser", "rendered"):
        db.execute(f"ALTER TABLE crawl_runs ADD COLUMN [{name}] INTEGER NOT NULL DEFAULT 0")


def _search_index_updates_by_statement(db: sqlite_utils.Database) -> None:
    """An article whose text changes (an older copy takes its place, re-extraction changes
    it) leaves and re-enters the search index in one statement each per batch
    (`Store._reindexing`) instead of by a trigger per row: FTS5 starts each statement at about
    0.3 ms, so the trigger's two statements cost 0.95 ms a row, the batch's 0.2 ms a row
    (docs/benchmarks.md, Deduplication). Deletes keep their trigger."""
    db.execute("DROP TRIGGER IF EXISTS articles_fts_update")


# Migration N brings a database from schema version N-1 to N. Append, never edit a released one.
MIGRATIONS = [_initial_schema, _incremental_crawls, _full_text_search, _facets, _attachments_and_fault_counts,
              _near_duplicate_index, _search_index_at_commit, _minhash_signatures, _search_index_merges,
              _unreachable_count, _copies_view, _pagers_and_selector_misses, _documents_and_attachment_files,
              _rendering_counts, _search_index_updates_by_statement]
SCHEMA_VERSION = len(MIGRATIONS)


# What a copy is judged against: the text, and what decides which copy is the original.
ORIGINAL_COLUMNS = ("body", "published", "fetched_at", "canonical_url")
# The columns of a `duplicates` row that admitting a record writes.
DUPLICATE_COLUMNS = ("url", "canonical_url", "duplicate_of", "kind", "similarity", "site", "published", "fetched_at",
                     "run_id")


@dataclass
class ArticleWrite:
    """An article as `Store.write_admitted` writes it: its row, raw page bytes (none for an
    ingested record), fingerprint, and the band keys it is indexed under."""
    article_id: int
    row: dict
    raw_html: bytes
    content_type: str | None
    found: Fingerprint | None
    keys: list[int]


class SharedConnection(sqlite3.Connection):
    """A connection that two threads of a crawl share (the reactor and the writes thread, see
    crawler/storage/storethread.py): one statement at a time, and a transaction held by one thread
    from its start to its end (Store.transaction takes `lock` too)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lock = threading.RLock()

    def execute(self, *args):
        with self.lock:
            return super().execute(*args)

    def executemany(self, *args):
        with self.lock:
            return super().executemany(*args)


class Store:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.failure: str | None = None  # why writing stopped (full disk, damaged file), if it did
        self._first_unindexed: int | None = None  # first article added by the open transaction
        self.batch_max_writes = 0  # 0: each transaction commits on its own (see batch_writes)
        self.batch_max_seconds = 0.0
        self._batch_started = 0.0
        self._batch_writes = 0
        self._depth = 0  # transaction blocks open (nested ones are savepoints)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), timeout=30, isolation_level=None,
                                   check_same_thread=False, factory=SharedConnection)
            self.db = sqlite_utils.Database(conn)
            self.db.execute("PRAGMA busy_timeout = 30000")
            problem = integrity_problem(conn, self.path)
            if problem:
                raise StoreError(problem)
            # 64 MB of page cache (default 2 MB) keeps the hot part of the indexes, notably the
            # near-duplicate bands, in memory; it is a bound, so memory stays flat as the file grows.
            self.db.execute("PRAGMA cache_size = -65536")
            # The savepoint of each article in an ingest batch keeps the pages it changes in a
            # sub-journal; in memory (at most one article's pages) rather than a temporary file.
            self.db.execute("PRAGMA temp_store = MEMORY")
            self.db.enable_wal()
            # In WAL mode NORMAL loses nothing when the process dies (committed pages are in the
            # WAL); only a power cut can undo the last commits, never corrupt the file. FULL
            # would sync the WAL on every commit.
            self.db.execute("PRAGMA synchronous = NORMAL")
            # Copy the WAL back into the database every 10,000 pages (40 MB) rather than every
            # 1,000: a page that several batches change is copied once, not once per batch.
            self.db.execute("PRAGMA wal_autocheckpoint = 10000")
            self.db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
            self._article_columns = {c for c in self.db["articles"].columns_dict if c != "id"}
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(failure_of(self.path, exc) or f"cannot use database {self.path}: {exc}") from exc

    def _migrate(self) -> None:
        found = self.schema_version()
        if found > SCHEMA_VERSION:
            raise StoreError(f"{self.path} has schema version {found}, newer than this crawler ({SCHEMA_VERSION})")
        for version in range(found + 1, SCHEMA_VERSION + 1):
            with self.transaction():  # a migration and its version number land together or not at all
                MIGRATIONS[version - 1](self.db)
                self.db["meta"].create({"key": str, "value": str}, pk="key", if_not_exists=True)
                self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", [str(version)])

    def schema_version(self) -> int:
        if "meta" not in self.db.table_names():
            return 0
        row = self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self.commit()
        self.db.conn.close()

    # --- transactions -------------------------------------------------------------------------
    def batch_writes(self, max_writes: int, max_seconds: float) -> None:
        """From now on, commit writes in batches: a transaction stays open over up to
        `max_writes` transaction blocks (each page's own is a savepoint inside it) and is
        committed then, or by `commit_if_due` once it is `max_seconds` old (0 writes: back to
        one commit per block). A crawl writes hundreds of pages a second; a commit each (with
        its fsync) would be its bottleneck. A kill loses at most the open batch, never half
        an article: the crawl's frontier marks are in the same batch, so the next run fetches
        those pages again."""
        with self.db.conn.lock:
            self.batch_max_writes, self.batch_max_seconds = max_writes, max_seconds
            if not max_writes:
                self.commit()

    @contextmanager
    def transaction(self, writes: int = 1):
        """All or nothing: a crash between two statements never leaves half an article.
        `writes`: how many pages it stores, as counted towards a batch's `max_writes`.
        (sqlite-utils' own write helpers commit on their own, so writes here use plain SQL.)
        Inside another transaction it is a savepoint, so a batch of pages can share one commit.
        A full disk or a damaged file is a StoreError, kept in `failure` so the command can
        report it; from then on every write is refused."""
        with self.db.conn.lock:
            if self.failure:
                raise StoreError(self.failure)
            try:
                if not self.db.conn.in_transaction:
                    self._first_unindexed = None  # a new transaction has added nothing yet
                    if self.batch_max_writes:
                        self.db.execute("BEGIN IMMEDIATE")  # a new batch
                        self._batch_started, self._batch_writes = time.monotonic(), 0
                nested = self.db.conn.in_transaction
                unindexed = self._first_unindexed  # what a rolled-back savepoint gives back unindexed
                self.db.execute("SAVEPOINT page" if nested else "BEGIN IMMEDIATE")
                self._depth += 1
                try:
                    yield
                    if not nested:
                        self._index_new_articles()
                except BaseException:
                    if self.db.conn.in_transaction:  # SQLite has rolled back already on some errors
                        self.db.execute("ROLLBACK TO page" if nested else "ROLLBACK")
                        if nested:
                            self.db.execute("RELEASE page")
                            # the savepoint may have indexed the batch's earlier articles: undone with it
                            self._first_unindexed = unindexed
                    raise
                finally:
                    self._depth -= 1
                self.db.execute("RELEASE page" if nested else "COMMIT")
            except sqlite3.DatabaseError as exc:
                self._stop_if_fatal(exc)
                raise
            self._batch_writes += writes
            if self.batch_max_writes and self._batch_writes >= self.batch_max_writes:
                self.commit()

    def commit(self) -> None:
        """Commit the open batch, if any (never a transaction block still running). After a
        failure it is rolled back instead: its articles and their frontier marks go together."""
        with self.db.conn.lock:
            if self._depth == 0 and self.db.conn.in_transaction:
                if self.failure:
                    self.rollback()
                    return
                try:
                    self._index_new_articles()
                    self.db.execute("COMMIT")
                except sqlite3.DatabaseError as exc:
                    self._stop_if_fatal(exc)
                    raise

    def rollback(self) -> None:
        """Drop the open batch (after a failure)."""
        try:
            self.db.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # SQLite had rolled back already

    def commit_if_due(self) -> None:
        """Commit the open batch once it is `batch_max_seconds` old."""
        if time.monotonic() - self._batch_started >= self.batch_max_seconds:
            self.commit()

    def fatal(self, exc: BaseException) -> StoreError | None:
        """For an error after which nothing more can be written (full disk, damaged file): the
        StoreError to raise instead, remembered in `failure`. None for any other error."""
        failure = failure_of(self.path, exc)
        if failure is None:
            return None
        self.failure = self.failure or failure
        return StoreError(self.failure)

    def _stop_if_fatal(self, exc: BaseException) -> None:
        failure = self.fatal(exc)
        if failure is not None:
            raise failure from exc

    def _index_new_articles(self) -> None:
        """Put the articles added by the open transaction into the search index. The write lock
        is held since BEGIN IMMEDIATE, so every id from the first one added is this
        transaction's (one rolled back with its savepoint is simply not there any more)."""
        if self._first_unindexed is not None:
            self.db.execute(INDEX_ARTICLES_FROM, [self._first_unindexed])
            self._first_unindexed = None

    @contextmanager
    def _reindexing(self, article_ids: list[int]):
        """Around an update of these articles' title or body: their old text leaves the search
        index before it, the new text enters after it. The articles added by the open
        transaction are indexed first: taking out of the index a text that is not in it would
        corrupt it."""
        self._index_new_articles()
        for chunk in _chunks(article_ids):
            self.db.execute(UNINDEX_ARTICLES.format(marks=_marks(chunk)), chunk)
        yield
        for chunk in _chunks(article_ids):
            self.db.execute(INDEX_ARTICLES.format(marks=_marks(chunk)), chunk)

    def _insert(self, table: str, row: dict) -> int:
        names = ", ".join(f"[{name}]" for name in row)
        return self.db.execute(f"INSERT INTO [{table}] ({names}) VALUES ({_marks(row)})", list(row.values())).lastrowid

    def _update(self, table: str, row_id: int, values: dict) -> None:
        assignments = ", ".join(f"[{name}] = ?" for name in values)
        self.db.execute(f"UPDATE [{table}] SET {assignments} WHERE id = ?", [*values.values(), row_id])

    # --- lookups ------------------------------------------------------------------------------
    def is_known(self, canonical_url: str) -> bool:
        """Stored as an article or recorded as a duplicate: no need to fetch it again."""
        return bool(self.db.execute(KNOWN_URL, [canonical_url, canonical_url]).fetchone())

    def article_with_hash(self, content_hash: str, other_than: int | None = None) -> int | None:
        row = self.db.execute("SELECT id FROM articles WHERE content_hash = ? AND id IS NOT ? ORDER BY id LIMIT 1",
                              [content_hash, other_than]).fetchone()
        return row[0] if row else None

    def band_members(self, keys: list[int]) -> dict[int, list[int]]:
        return band_members(self.db, keys)

    def known_urls(self, canonical_urls: list[str]) -> set[str]:
        """Those of these canonical URLs stored as an article or a duplicate (`is_known` for many)."""
        known = set()
        for chunk in _chunks(canonical_urls):
            marks = _marks(chunk)
            known.update(url for (url,) in self.db.execute(
                f"SELECT canonical_url FROM articles WHERE canonical_url IN ({marks}) UNION ALL "
                f"SELECT canonical_url FROM duplicates WHERE canonical_url IN ({marks})", [*chunk, *chunk]))
        return known

    def articles_with_hashes(self, hashes: list[str]) -> dict[str, list[int]]:
        """The articles (ids, lowest first) of each of these content hashes that has any."""
        found = defaultdict(list)
        for chunk in _chunks(hashes):
            for content_hash, article_id in self.db.execute(
                    f"SELECT content_hash, id FROM articles WHERE content_hash IN ({_marks(chunk)}) ORDER BY id", chunk):
                found[content_hash].append(article_id)
        return found

    def originals(self, article_ids: list[int]) -> dict[int, dict]:
        """The columns of these articles that a copy is judged against (ORIGINAL_COLUMNS)."""
        rows = {}
        for chunk in _chunks(article_ids):
            cursor = self.db.execute(f"SELECT id, {', '.join(ORIGINAL_COLUMNS)} FROM articles "
                                     f"WHERE id IN ({_marks(chunk)})", chunk)
            for article_id, *values in cursor:
                rows[article_id] = dict(zip(ORIGINAL_COLUMNS, values))
        return rows

    def article(self, article_id: int) -> dict:
        """An article row (its stored columns)."""
        cursor = self.db.execute("SELECT * FROM articles WHERE id = ?", [article_id])
        names = [column[0] for column in cursor.description]
        return {name: value for name, value in zip(names, cursor.fetchone()) if name in self._article_columns}

    def next_article_id(self) -> int:
        """The id SQLite would give the next article (the write lock is held: nobody else adds one)."""
        return (self.db.execute("SELECT MAX(id) FROM articles").fetchone()[0] or 0) + 1

    def signatures(self, article_ids: list[int]) -> dict[int, tuple[int, np.ndarray]]:
        """Shingle count and MinHash signature of each of these articles that has one."""
        found = {}
        for chunk in _chunks(article_ids):
            for article_id, size, signature in self.db.execute(
                    f"SELECT article_id, size, signature FROM minhashes WHERE article_id IN ({_marks(chunk)})", chunk):
                found[article_id] = (size, np.frombuffer(signature, dtype=np.uint32))
        return found

    def bodies(self, article_ids: list[int]) -> dict[int, str]:
        return dict(self.db.execute(f"SELECT id, body FROM articles WHERE id IN ({_marks(article_ids)})",
                                    article_ids).fetchall())

    # --- writes -------------------------------------------------------------------------------
    def stored_ids(self, site: str | None = None) -> list[int]:
        """Ids of the articles whose raw page is kept, optionally of one site."""
        query = "SELECT a.id FROM articles a JOIN raw_pages r ON r.article_id = a.id"
        rows = self.db.execute(query + (" WHERE a.site = ?" if site else "") + " ORDER BY a.id",
                               [site] if site else []).fetchall()
        return [row[0] for row in rows]

    def stored_page(self, article_id: int) -> tuple[dict, bytes]:
        """An article row and its raw page bytes as fetched."""
        cursor = self.db.execute(
            "SELECT a.*, r.content_type AS raw_content_type, r.html_zlib FROM articles a "
            "JOIN raw_pages r ON r.article_id = a.id WHERE a.id = ?", [article_id])
        names = [column[0] for column in cursor.description]
        row = dict(zip(names, cursor.fetchone()))
        row["document"] = self.document_of(article_id)
        return row, zlib.decompress(row.pop("html_zlib"))

    def document_of(self, article_id: int) -> dict | None:
        """The `documents` fields of an article, or None for one that is not a document."""
        cursor = self.db.execute(f"SELECT {', '.join(DOCUMENT_FIELDS)} FROM documents WHERE article_id = ?", [article_id])
        row = cursor.fetchone()
        return dict(zip(DOCUMENT_FIELDS, row)) if row else None

    # --- writes -------------------------------------------------------------------------------
    def update_article(self, article_id: int, values: dict, found: Fingerprint | None = None) -> None:
        """`values`: article columns, and `document` (its documents fields, or None: not a
        document any more); `found`: the near-duplicate fingerprint of the new body, if already
        computed (by a worker)."""
        with self.transaction():
            if "document" in values:
                self.db.execute("DELETE FROM documents WHERE article_id = ?", [article_id])
                if values["document"]:
                    self._insert("documents", {"article_id": article_id, **values["document"]})
            columns = {name: value for name, value in values.items() if name != "document"}
            if columns.keys() & {"title", "body"}:
                with self._reindexing([article_id]):
                    self._update("articles", article_id, columns)
            elif columns:
                self._update("articles", article_id, columns)
            if "body" in values:  # re-extraction changed the body: its near-duplicate keys follow it
                stored = self.signatures([article_id]).get(article_id)
                if stored is not None:  # its band keys, made again from its signature: lsh_bands is
                    old_keys = band_keys(stored[1])  # keyed by band key, and scanning it all would grow with the store
                    self.db.execute(f"DELETE FROM lsh_bands WHERE key IN ({_marks(old_keys)}) "
                                    "AND article_id = ?", [*old_keys, article_id])
                self.db.execute("DELETE FROM minhashes WHERE article_id = ?", [article_id])
                if found is None:
                    found = body_fingerprint(values["body"])
                _index_near_duplicates(self.db, article_id, found)

    def add_article(self, record: dict, raw_html: bytes, content_type: str | None,
                    found: Fingerprint | None = None, members: dict[int, list[int]] | None = None) -> int:
        """Store an article, its page bytes (none for an ingested record) and its near-duplicate
        fingerprint under its uncrowded band keys (`members`: their `band_members`, if read)."""
        row = {k: v for k, v in record.items() if k in self._article_columns}
        with self.transaction():
            article_id = self._insert("articles", row)
            if self._first_unindexed is None:
                self._first_unindexed = article_id
            if raw_html:
                self._insert("raw_pages", {
                    "article_id": article_id, "url": record["url"], "content_type": content_type,
                    "html_zlib": zlib.compress(raw_html, 6), "fetched_at": record["fetched_at"],
                })
            _index_near_duplicates(self.db, article_id, found, members)
            if record.get("document"):
                self._insert("documents", {"article_id": article_id, **record["document"]})
        return article_id

    def write_admitted(self, new: list[ArticleWrite], replaced: list[ArticleWrite], duplicates: list[dict]) -> None:
        """Write what one batch of admitted records decided, in one transaction: `new` articles
        (ids given), `replaced` articles (an older copy takes a stored article's place: the row,
        its raw page, signature, band keys, search index entry and documents row become the
        copy's) and `duplicates` rows."""
        with self.transaction(writes=len(new) + len(replaced) + len(duplicates)):
            if replaced:
                ids = [write.article_id for write in replaced]
                self.db.conn.executemany("DELETE FROM lsh_bands WHERE key = ? AND article_id = ?", [
                    (key, article_id) for article_id, (_size, signature) in self.signatures(ids).items()
                    for key in band_keys(signature)])
                for table, column in (("minhashes", "article_id"), ("raw_pages", "article_id")):
                    self.db.conn.executemany(f"DELETE FROM {table} WHERE {column} = ?", [(i,) for i in ids])
                columns = sorted(self._article_columns)
                with self._reindexing(ids):
                    self.db.conn.executemany(
                        f"UPDATE articles SET {', '.join(f'[{name}] = ?' for name in columns)} WHERE id = ?",
                        [[write.row.get(name) for name in columns] + [write.article_id] for write in replaced])
            by_columns = defaultdict(list)
            for write in new:
                names = tuple(name for name in write.row if name in self._article_columns)
                by_columns[names].append([write.article_id, *(write.row[name] for name in names)])
            for names, rows in by_columns.items():
                self.db.conn.executemany(f"INSERT INTO articles (id, {', '.join(f'[{name}]' for name in names)}) "
                                         f"VALUES (?, {_marks(names)})", rows)
            if new and self._first_unindexed is None:
                self._first_unindexed = min(write.article_id for write in new)
            written = new + replaced
            self.db.conn.executemany(
                "INSERT INTO raw_pages (article_id, url, content_type, html_zlib, fetched_at) VALUES (?, ?, ?, ?, ?)",
                [(w.article_id, w.row["url"], w.content_type, zlib.compress(w.raw_html, 6), w.row["fetched_at"])
                 for w in written if w.raw_html])
            self.db.conn.executemany("INSERT INTO minhashes (article_id, size, signature) VALUES (?, ?, ?)",
                                     [(w.article_id, w.found.size, w.found.signature.tobytes()) for w in written if w.found])
            self.db.conn.executemany("INSERT OR IGNORE INTO lsh_bands (key, article_id) VALUES (?, ?)",
                                     [(key, w.article_id) for w in written for key in w.keys])
            self.db.conn.executemany("DELETE FROM documents WHERE article_id = ?", [(w.article_id,) for w in replaced])
            self.db.conn.executemany(
                f"INSERT INTO documents (article_id, {', '.join(DOCUMENT_FIELDS)}) VALUES (?, {_marks(DOCUMENT_FIELDS)})",
                [[w.article_id, *(w.row["document"].get(name) for name in DOCUMENT_FIELDS)]
                 for w in written if w.row.get("document")])
            self.db.conn.executemany(f"INSERT INTO duplicates ({', '.join(DUPLICATE_COLUMNS)}) "
                                     f"VALUES ({_marks(DUPLICATE_COLUMNS)})",
                                     [[row.get(name) for name in DUPLICATE_COLUMNS] for row in duplicates])

    def start_run(self, site: str, invocation: str, log_file: str | None = None) -> int:
        with self.transaction():
            run_id = self._insert("crawl_runs", {
                "invocation": invocation, "site": site, "started_at": utc_now(), "status": "running",
                "log_file": log_file, **{name: 0 for name in RUN_COUNTERS + LIST_PAGE_COUNTERS},
            })
        self.commit()  # a run's row is visible at once, even while its pages are batched
        return run_id

    def update_run_counts(self, run_id: int, counts: dict) -> None:
        """The counts so far of a running run (what a killed run had done stays visible)."""
        with self.transaction():
            self._update("crawl_runs", run_id, _run_counts(counts))

    def add_to_run_counts(self, run_id: int, counts: dict) -> None:
        """Add to a run's counts (crawl_runs columns: RUN_COUNTERS, LIST_PAGE_COUNTERS and the
        fault counters): a distributed round's come in parts, from every worker and the writer."""
        known = set(RUN_COUNTERS + LIST_PAGE_COUNTERS + FAULT_COUNTERS + LATER_FAULT_COUNTERS)
        added = {name: int(value) for name, value in counts.items() if name in known and value}
        tallies = {name: counts[name] for name in RUN_TALLIES if counts.get(name)}
        if added or tallies:
            with self.transaction():
                if tallies:
                    row = self.db.execute(f"SELECT {', '.join(tallies)} FROM crawl_runs WHERE id = ?", [run_id]).fetchone()
                    for (name, more), stored in zip(tallies.items(), row):
                        tallies[name] = _tally_json(dict(Counter(json.loads(stored or "{}")) + Counter(more)))
                assignments = [*(f"[{name}] = [{name}] + ?" for name in added), *(f"[{name}] = ?" for name in tallies)]
                self.db.execute(f"UPDATE crawl_runs SET {', '.join(assignments)} WHERE id = ?",
                                [*added.values(), *tallies.values(), run_id])

    def run_of(self, site: str, invocation: str) -> dict | None:
        """The site's run of an invocation (a distributed round), if it has one."""
        rows = list(self.db.query("SELECT * FROM crawl_runs WHERE site = ? AND invocation = ? ORDER BY id LIMIT 1",
                                  [site, invocation]))
        return rows[0] if rows else None

    def meta_value(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_meta_value(self, key: str, value: str) -> None:
        with self.transaction():
            self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [key, value])

    def mark_killed_runs(self) -> int:
        """Runs still `running` although no crawler holds the database: their process died."""
        with self.transaction():
            return self.db.execute(
                "UPDATE crawl_runs SET status = 'killed', finish_reason = 'killed' WHERE status = 'running'").rowcount

    def finish_run(self, run_id: int, status: str, finish_reason: str, duration_s: float, counts: dict) -> None:
        with self.transaction():
            self._update("crawl_runs", run_id, {
                "finished_at": utc_now(), "status": status, "finish_reason": finish_reason,
                "duration_s": round(duration_s, 3), **_run_counts(counts),
            })
        self.commit()

    def end_failed_runs(self, invocation: str) -> None:
        """After a failure, end the runs of this invocation as `failed` (`store_error`) if the
        file still takes that one small write once the open batch is dropped; if not, the next
        crawl marks them `killed`."""
        with self.db.conn.lock:
            self.rollback()
            try:
                self.db.execute("UPDATE crawl_runs SET status = 'failed', finish_reason = 'store_error', "
                                "finished_at = ? WHERE invocation = ? AND status = 'running'", [utc_now(), invocation])
            except sqlite3.Error:
                pass

    def add_attachments(self, rows: list[dict]) -> int:
        """Record attachment links; one already recorded from the same page is skipped."""
        if not rows:
            return 0
        columns = ("url", "kind", "content_type", "found_on", "site", "run_id", "found_at")
        with self.transaction():
            before = self.db.conn.total_changes
            self.db.conn.executemany(
                f"INSERT OR IGNORE INTO attachments ({', '.join(columns)}) VALUES ({_marks(columns)})",
                [[row.get(name) for name in columns] for row in rows])
            return self.db.conn.total_changes - before

    def pending_attachments(self, sites: list[str], kinds: list[str]) -> list[dict]:
        """The attachments linked from stored articles of these sites, of these kinds, not
        downloaded yet (or whose download failed): one per URL, in the order they were found."""
        if not sites or not kinds:
            return []
        cursor = self.db.execute(
            "SELECT t.url, min(t.site), min(t.kind) FROM attachments t JOIN articles a ON a.url = t.found_on "
            f"WHERE t.site IN ({_marks(sites)}) AND t.kind IN ({_marks(kinds)}) AND NOT EXISTS ("
            "SELECT 1 FROM attachment_files f WHERE f.url = t.url AND f.status != 'failed') "
            "GROUP BY t.url ORDER BY min(t.id)", [*sites, *kinds])
        return [{"url": url, "site": site, "kind": kind} for url, site, kind in cursor]

    def save_attachment_file(self, row: dict, data: bytes | None = None) -> None:
        """What became of one attachment (ATTACHMENT_FILE_COLUMNS), with the bytes downloaded,
        if any, kept zlib-compressed; a later try replaces a failed one."""
        row = {**row, "size": None if data is None else len(data), "file_zlib": zlib.compress(data, 6) if data else None}
        values = [row.get(name) for name in ATTACHMENT_FILE_COLUMNS]
        updates = ", ".join(f"[{name}] = excluded.[{name}]" for name in ATTACHMENT_FILE_COLUMNS[1:])
        with self.transaction():
            self.db.execute(f"INSERT INTO attachment_files ({', '.join(ATTACHMENT_FILE_COLUMNS)}) "
                            f"VALUES ({_marks(values)}) ON CONFLICT (url) DO UPDATE SET {updates}", values)

    def add_fault_counts(self, run_id: int, counts: dict) -> None:
        with self.transaction():
            self._update("crawl_runs", run_id, {name: int(counts.get(name, 0))
                                                for name in FAULT_COUNTERS + LATER_FAULT_COUNTERS})

    def runs_of(self, invocation: str) -> list[dict]:
        try:
            return list(self.db.query("SELECT * FROM crawl_runs WHERE invocation = ? ORDER BY site", [invocation]))
        except sqlite3.DatabaseError:
            if self.failure:  # a damaged file may not give them back; the command reports the failure
                return []
            raise


_OPEN: dict[Path, Store] = {}


def shared_store(path: str | Path) -> Store:
    """One connection per database per process, shared by every crawler in it, so that the
    duplicate check of one site sees what another site stored a moment ago."""
    key = Path(path).resolve()
    if key not in _OPEN:
        _OPEN[key] = Store(key)
    return _OPEN[key]
