"""The CPU work of pages (decode, extract, clean, dedup keys) in worker processes, one per core.

A crawl's reactor thread only fetches pages and talks to SQLite; `crawler extract` and
re-extraction spread their pages over the cores the same way. Workers fork from a forkserver
that has already imported the extraction chain, so they never inherit the crawl's threads,
sockets or SQLite connection, and a new one starts in milliseconds.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import os
import pickle
import select
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from crawler.article.items import Page
from crawler.chain.process import DedupKeys, keyed_record_of, record_of


def cores() -> int:
    """CPUs this process may run on (a container or `taskset` may allow fewer than exist)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def start_pool(workers: int) -> ProcessPoolExecutor:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["crawler.chain.process", "crawler.sites.spider"])
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_started,
                               initargs=(os.getpid(),))


def _worker_started(owner: int) -> None:
    """Ctrl-C reaches the whole process group: the process that owns the pool decides what
    stops, not its workers. A worker ends when its owner does, even by kill -9: one left
    behind would hold the owner's stdout open and keep its forkserver alive."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(owner,), name="owner-watch", daemon=True).start()


def _exit_with(pid: int) -> None:
    try:
        owner = os.pidfd_open(pid)
    except (AttributeError, OSError):  # not Linux >= 5.3: look every second
        while os.getppid() != 1 and _alive(pid):
            time.sleep(1)
    else:
        select.select([owner], [], [])  # readable once the process has ended
    os._exit(0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def round_trip(site):
    """What a worker makes of a site class sent to it (see SharedPool.can_take)."""
    return site


class SharedPool:
    """The one page pool of a process, shared by every crawler running in it and shut down
    when the last one releases it. A pool whose worker died (killed, out of memory) is
    replaced, and the page it was working on is tried again."""

    def __init__(self):
        self.pool: ProcessPoolExecutor | None = None
        self.workers = 0
        self.users = 0

    def acquire(self, workers: int) -> None:
        if self.pool is None:
            self.pool, self.workers = start_pool(workers), workers
            # Start the workers now rather than in the middle of the crawl (starting them
            # blocks for as long as importing the extraction chain takes).
            for started in [self.pool.submit(int) for _ in range(workers)]:
                started.result()
        self.users += 1

    def release(self) -> None:
        self.users -= 1
        if self.users <= 0 and self.pool is not None:
            self.pool.shutdown(wait=True)
            self.pool, self.users = None, 0

    def can_take(self, site) -> bool:
        """Whether a worker can receive this site class: pickled by name, so one made at run
        time, or from a module the workers cannot import, is extracted in the crawl process."""
        pool = self.pool
        try:
            pickle.dumps(site)
            pool.submit(round_trip, site).result(timeout=60)
            return True
        except BrokenProcessPool:  # a worker that cannot unpickle a job dies of it
            self._replace(pool)
            return False
        except Exception:  # pickling raises many unrelated types
            return False

    async def keyed_record(self, page: Page, site=None) -> tuple[dict, DedupKeys]:
        """`keyed_record_of` in a worker, awaited without blocking the reactor."""
        pool = self.pool
        try:
            return await awaited(pool.submit(keyed_record_of, page, site))
        except BrokenProcessPool:
            self._replace(pool)
            return await awaited(self.pool.submit(keyed_record_of, page, site))

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        if self.pool is broken:  # the first page to notice replaces the pool for all
            broken.shutdown(wait=False, cancel_futures=True)
            self.pool = start_pool(self.workers)


SHARED_POOL = SharedPool()

# Pages in flight per worker in `results_in_order`: enough that one slow page (results leave in
# order) does not leave the other workers idle, few enough that memory stays flat.
IN_FLIGHT_PER_WORKER = 16


async def awaited(future: Future):
    """Await a concurrent.futures result in Scrapy code, with or without the asyncio reactor."""
    from scrapy.utils.asyncio import is_asyncio_available

    if is_asyncio_available():
        return await asyncio.wrap_future(future)
    from twisted.internet import defer, reactor

    deferred = defer.Deferred()

    def settle(done: Future) -> None:
        error = done.exception()
        if error is not None:
            deferred.errback(error)
        else:
            deferred.callback(done.result())

    future.add_done_callback(lambda done: reactor.callFromThread(settle, done))
    return await deferred


def results_in_order(jobs: Iterable[tuple[Page | Exception, object]], workers: int,
                     work: Callable = record_of) -> Iterator:
    """`work(page, site)` of each (page, site class) job, in the order given, from `workers`
    processes (1: in this process). A page that fails gives its exception instead, and a job
    that holds an exception instead of a page (a file that could not be read) gives it back in
    its place; the others still come. At most IN_FLIGHT_PER_WORKER pages per worker are in
    flight, so memory stays flat however many pages there are (`crawler extract`,
    re-extraction)."""
    if workers <= 1:
        for page, site in jobs:
            yield page if isinstance(page, Exception) else _result_or_error(work, page, site)
        return
    with start_pool(workers) as pool:
        pending: deque[Future | Exception] = deque()
        for page, site in jobs:
            pending.append(page if isinstance(page, Exception) else pool.submit(work, page, site))
            if len(pending) >= IN_FLIGHT_PER_WORKER * workers:
                yield _outcome(pending.popleft())
        while pending:
            yield _outcome(pending.popleft())


def _result_or_error(work: Callable, page: Page, site):
    try:
        return work(page, site)
    except Exception as exc:  # one bad page must not stop the others
        return exc


def _outcome(job: Future | Exception):
    if isinstance(job, Exception):
        return job
    return job.exception() or job.result()
