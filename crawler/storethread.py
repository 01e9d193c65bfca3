"""A crawl's article writes on their own thread, committed in batches.

The reactor thread hands each page's record to `StoreThread.submit(admit, ...)` and awaits the
outcome. sqlite3 lets go of the GIL while SQLite works (B-trees, the full-text index's
triggers, the WAL), so those milliseconds per page overlap the reactor's own work. Both threads
use the process's one connection to the database (`shared_store`; statements one at a time, a
transaction block held by one thread from start to end), so the reactor's lookups (is this
article known?) see what was just stored, committed or not, and a commit covers everything
written before it: a kill loses the open batch, articles and their frontier marks together,
and the next run fetches those pages again.
"""
from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future

from crawler.store import Store, StoreError

log = logging.getLogger(__name__)


class StoreThread:
    def __init__(self, store: Store, max_writes: int, max_seconds: float):
        self.store = store
        self.max_seconds = max_seconds
        self.users = 0
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        store.batch_writes(max_writes, max_seconds)
        self._thread = threading.Thread(target=self._run, name="store-writes", daemon=True)
        self._thread.start()

    def submit(self, function, *args, **kwargs) -> Future:
        """Run `function(*args, **kwargs)` on the writes thread, after what was submitted before."""
        future = Future()
        self._jobs.put((future, function, args, kwargs))
        return future

    def flush(self) -> Future:
        """Done once everything submitted so far is committed."""
        return self.submit(self.store.commit)

    def _run(self) -> None:
        while True:
            try:
                job = self._jobs.get(timeout=self.max_seconds / 2)
            except queue.Empty:  # a slow crawl still commits every `max_seconds` or so
                job = (None, self.store.commit_if_due, (), {})
            if job is None:
                return
            future, function, args, kwargs = job
            try:
                result = function(*args, **kwargs)
                self.store.commit_if_due()
            except BaseException as exc:  # reported to whoever waits for it, as if run in-line
                if future is None:
                    log.error("cannot commit to %s: %s", self.store.path, exc)
                else:
                    future.set_exception(exc)
                continue
            if future is not None:
                future.set_result(result)

    def stop(self) -> None:
        """Commit what is left and end the thread; writes are committed one by one again."""
        self._jobs.put(None)
        self._thread.join()
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


def release(store: Store) -> None:
    thread = _THREADS[store]
    thread.users -= 1
    if thread.users <= 0:
        del _THREADS[store]
        thread.stop()
