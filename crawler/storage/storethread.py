"""A crawl's writes on their own thread, committed in batches.

The reactor thread hands each page's record to `StoreThread.submit(admit, ...)` and awaits the
outcome, and posts the frontier's marks (`StoreThread.post`) without waiting; all run in the
order given. sqlite3 lets go of the GIL while SQLite works (B-trees, the full-text index, the
WAL), so those milliseconds per page overlap the reactor's own work, and the reactor never
waits for the connection, which the writes thread holds for each article and for the search
index at each commit. A page's "done" mark comes after its article, so it is never committed
before the article (the same batch or a later one): a kill loses the open batch, the pages
whose articles it held are still in the frontier, and the next run fetches them again (or,
for an article committed just before, finds it known and drops its entry).

The reactor's lookups (is this article known? a list page's validators) go to a read-only
connection of their own, which sees committed rows; the canonical URLs stored by the open
batch are kept in memory until it commits (`stored`), so `is_known` sees what was just
stored, committed or not.
"""
from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from concurrent.futures import Future

from crawler.storage.store import KNOWN_URL, Store, StoreError, shared_store

log = logging.getLogger(__name__)

MAX_TOGETHER = 500  # items of one `submit_together` call: a batch's reads stay a few statements
_STOP = None  # the job that ends the thread


class _Together:
    """A function that `submit_together` calls with a list of items; equal when the function is."""

    def __init__(self, function):
        self.function = function

    def __eq__(self, other) -> bool:
        return isinstance(other, _Together) and other.function == self.function

    __hash__ = None


class StoreThread:
    def __init__(self, store: Store, max_writes: int, max_seconds: float):
        self.store = store
        self.max_seconds = max_seconds
        self.users = 0
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._stored: set[str] = set()  # canonical URLs stored by the open batch
        self.reader = sqlite3.connect(store.path.resolve().as_uri() + "?mode=ro", uri=True, timeout=30,
                                      isolation_level=None, check_same_thread=False)
        store.batch_writes(max_writes, max_seconds)
        self._thread = threading.Thread(target=self._run, name="store-writes", daemon=True)
        self._thread.start()

    def submit(self, function, *args, **kwargs) -> Future:
        """Run `function(*args, **kwargs)` on the writes thread, after what was submitted before."""
        future = Future()
        self._jobs.put((future, function, args, kwargs))
        return future

    def submit_together(self, function, item) -> Future:
        """Run `function(items)` on the writes thread, after what was submitted before, with
        `item` and the other items for `function` waiting right behind it (up to
        MAX_TOGETHER): one call for all of them, whose results (a list, in order) go one to
        each item's future. Used for `admit_many`: a batch of pages costs a few statements."""
        future = Future()
        self._jobs.put((future, _Together(function), (item,), {}))
        return future

    def post(self, function, *args, **kwargs) -> None:
        """Run `function(*args, **kwargs)` on the writes thread, after what was submitted before,
        without waiting for it; a failure is logged."""
        self._jobs.put((None, function, args, kwargs))

    def stored(self, canonical_url: str) -> None:
        """Called on the writes thread: this URL's article (or duplicate) is in the open batch."""
        self._stored.add(canonical_url)

    def is_known(self, canonical_url: str) -> bool:
        """Stored as an article or a duplicate, committed or in the open batch; never waits for
        the writes thread. (The set is read before the database: a URL leaves it only once its
        batch has committed.)"""
        if canonical_url in self._stored:
            return True
        try:
            return bool(self.reader.execute(KNOWN_URL, [canonical_url, canonical_url]).fetchone())
        except sqlite3.DatabaseError as exc:  # a damaged file stops the crawl's writes, like a failed write
            raise self.store.fatal(exc) or exc

    def flush(self) -> Future:
        """Done once everything submitted so far is committed."""
        return self.submit(self.store.commit)

    def _run(self) -> None:
        job = None
        while True:
            if job is None:
                try:
                    job = self._jobs.get(timeout=self.max_seconds / 2)
                except queue.Empty:  # a slow crawl still commits every `max_seconds` or so
                    job = (None, self.store.commit_if_due, (), {})
            if job is _STOP:
                return
            future, function, args, kwargs = job
            job = None
            if isinstance(function, _Together):
                futures, items, job = self._together(future, function, args[0])
                self._call(futures, function.function, (items,), {}, split=True)
            else:
                self._call([future], function, args, kwargs, split=False)

    def _together(self, future: Future, together: _Together, item) -> tuple[list[Future], list, tuple | None]:
        """This item and those for the same function queued right behind it; and the next job."""
        futures, items = [future], [item]
        while len(items) < MAX_TOGETHER:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return futures, items, None
            if job is _STOP or job[1] != together:
                return futures, items, job
            futures.append(job[0])
            items.append(job[2][0])
        return futures, items, None

    def _call(self, futures: list[Future | None], function, args, kwargs, split: bool) -> None:
        """Run a job; its result (each of its results, if `split`) or its failure to its futures."""
        try:
            result = function(*args, **kwargs)
            self.store.commit_if_due()
        except BaseException as exc:  # reported to whoever waits for it, as if run in-line
            exc = self.store.fatal(exc) or exc  # a read that finds the file damaged stops the writes too
            if futures == [None] and not self.store.failure:  # a full disk or damaged file is reported
                log.error("cannot write to %s: %s", self.store.path, exc)  # once, by the command
            for future in futures:
                if future is not None:
                    future.set_exception(exc)
            return
        finally:
            if not self.store.db.conn.in_transaction:  # committed (or rolled back): the database says
                self._stored.clear()
        for future, one in zip(futures, result if split else [result]):
            if future is not None:
                future.set_result(one)

    def stop(self) -> None:
        """Commit what is left and end the thread; writes are committed one by one again."""
        self._jobs.put(_STOP)
        self._thread.join()
        self.reader.close()
        try:
            self.store.batch_writes(0, 0)
        except StoreError as exc:  # the crawl reports the full disk (store.failure) itself
            log.error("%s", exc)


_THREADS: dict[Store, StoreThread] = {}


def acquire(store: Store, max_writes: int, max_seconds: float) -> StoreThread:
    """The writes thread of this store, shared by every crawler of the process."""
    if store not in _THREADS:
        _THREADS[store] = StoreThread(store, max_writes, max_seconds)
    _THREADS[store].users += 1
    return _THREADS[store]


def of_crawler(crawler) -> StoreThread:
    """`acquire` with the crawler's batch settings."""
    settings = crawler.settings
    return acquire(shared_store(settings["CRAWLER_DB"]), settings.getint("CRAWLER_BATCH_WRITES"),
                   settings.getfloat("CRAWLER_BATCH_SECONDS"))


def release(store: Store) -> None:
    thread = _THREADS[store]
    thread.users -= 1
    if thread.users <= 0:
        del _THREADS[store]
        thread.stop()
