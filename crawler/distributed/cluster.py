"""Distributed crawling: many workers share one frontier in Redis, one writer owns SQLite.

```
crawler worker (any number, any host)                 crawler writer (one, next to the SQLite file)
  scrapy-redis scheduler + dupefilter, except that
  the frontier is a Redis stream read by a consumer
  group, so a request stays pending until its page
  is done and a killed worker's requests come back
  a lease of the site's politeness budget before
  each request (crawler.distributed.politeness)
  page -> extract -> clean (crawler.chain.process)
  queue its new requests + XADD its record + its   ->  XREADGROUP records -> admit_many() -> SQLite,
  round's counts + XACK its request, one MULTI         counts -> the round's crawl_runs row
                                                      XACK after the commit; XAUTOCLAIM on start
```

Delivery is at least once on both streams and exactly once in the store: a page or record that
comes round again after a kill meets the store's URL and hash checks (`admit` says `known`), so
workers and the writer can be killed at any moment and restarted without losing or duplicating
an article.

A crawl *round* is the life of a spider's frontier: the first worker seeds the start URLs, the
seen-request set (scrapy-redis' dupefilter) stops any page from being queued twice, and the
last worker to find the frontier empty deletes that set, so the next round reads the list
pages afresh. Known articles never enter the set: they are skipped against the store before
they are requested (the store's `is_known`, as in a local crawl), so the set holds one round's list pages and new
articles only, not the whole history. Each site's round is one `crawl_runs` row, written by the
writer from the stats the workers send (RoundCounts) and what its own dedup found (RoundRuns).
"""
from __future__ import annotations

import json
import logging
import signal
import socket
import time
import uuid
import zlib
from collections import Counter, defaultdict, deque
from datetime import datetime, timezone

import redis
from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.misc import load_object
from scrapy_redis.connection import get_redis_from_settings
from scrapy_redis.queue import Base as RedisQueue
from scrapy_redis.scheduler import Scheduler as RedisScheduler

from crawler.article.dedup import canonical_url
from crawler.article.items import Page
from crawler.chain.process import Arrival, admit_many, outcome_stats, record_of
from crawler.distributed.politeness import share_politeness
from crawler.sites.spider import SiteSpider
from crawler.storage.runcounts import fault_counts, is_run_stat, run_counts, run_status
from crawler.storage.store import shared_store

log = logging.getLogger(__name__)

FRONTIER_KEY = "crawler:%(spider)s:frontier"
SEEN_KEY = "crawler:%(spider)s:seen"
ROUND_KEY = "crawler:%(spider)s:round"  # the id of the round under way (its crawl_runs invocation)
RECORDS_KEY = "crawler:records"
# Frontier entries a worker takes per read. Each Redis round trip stalls the worker (its client
# waits); one read per page made a third of a CPU-bound worker's round trips. Few, so that a
# worker does not hold back work another one could do.
READ_AHEAD = 8
WORKERS_GROUP = "workers"
WRITER_GROUP = "writer"
ENTRY = "frontier_entry"  # request meta: the frontier stream entry the request came from
ROUND_STAT, ROUND_OVER_STAT = "round/id", "round/over"  # crawl stats: the worker's round, and whether it ended it
COUNTS_THROUGH = "writer_counts_through"  # store meta: the last records-stream entry whose counts are in crawl_runs

# Queue a request unless its fingerprint was seen this round, and retire the entry it replaces
# (a retry or a redirect), in one step, so that a kill between the two loses nothing.
_ENQUEUE = """
local added = 0
if ARGV[1] == '' or redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  redis.call('XADD', KEYS[2], '*', 'request', ARGV[2])
  added = 1
end
if ARGV[3] ~= '' then
  redis.call('XACK', KEYS[2], ARGV[4], ARGV[3])
  redis.call('XDEL', KEYS[2], ARGV[3])
end
return added
"""
# Join the round under way, or start one with the id ARGV[1].
_JOIN_ROUND = """
local id = redis.call('GET', KEYS[1])
if not id then
  id = ARGV[1]
  redis.call('SET', KEYS[1], id)
end
return id
"""
# End a round: forget the seen requests and the round's id once no entry is queued or in flight
# anywhere. Returns 1 to the worker that ended it.
_END_ROUND = """
if redis.call('XLEN', KEYS[2]) == 0 then
  redis.call('DEL', KEYS[1])
  return redis.call('DEL', KEYS[3])
end
return 0
"""


# The project's downloader middlewares that keep no state in the local SQLite file: a worker
# runs them as a local crawl does (proxy, robots.txt, retries with backoff, redirects).
STATELESS_DOWNLOADER_MIDDLEWARES = (
    "crawler.crawl.middlewares.FixedProxy", "crawler.crawl.middlewares.RobotsTxt", "crawler.crawl.middlewares.MetaRefresh",
    "crawler.crawl.retry.BackoffRetry", "crawler.crawl.retry.OffsiteRedirects",
)


def worker_settings(redis_url: str, name: str, idle_exit: float, known_db: str | None) -> dict:
    """Scrapy settings that turn a crawl into a worker of the shared frontier. The project's
    other middlewares, pipelines and extensions keep their state in the local SQLite file; a
    worker has none (Redis holds the frontier and the politeness budgets, the writer the store)."""
    from crawler.settings import DOWNLOADER_MIDDLEWARES, EXTENSIONS, ITEM_PIPELINES, SPIDER_MIDDLEWARES

    def disabled(components: dict) -> dict:
        return {component: None for component in components}

    kept = {name: DOWNLOADER_MIDDLEWARES[name] for name in STATELESS_DOWNLOADER_MIDDLEWARES}
    return {
        "REDIS_URL": redis_url, "DISTRIBUTED_WORKER_NAME": name, "DISTRIBUTED_IDLE_EXIT": idle_exit,
        "DISTRIBUTED_KNOWN_DB": known_db,
        "SCHEDULER": "crawler.distributed.cluster.FrontierScheduler",
        "SCHEDULER_QUEUE_KEY": FRONTIER_KEY, "SCHEDULER_DUPEFILTER_KEY": SEEN_KEY,
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SPIDER_MIDDLEWARES": {**disabled(SPIDER_MIDDLEWARES), "crawler.distributed.cluster.PublishRecords": 10},
        "DOWNLOADER_MIDDLEWARES": {**disabled(DOWNLOADER_MIDDLEWARES), **kept,
                                   "crawler.distributed.cluster.RetireFailed": 10, "crawler.distributed.politeness.SharedPoliteness": 990},
        "ITEM_PIPELINES": disabled(ITEM_PIPELINES),
        "EXTENSIONS": disabled(EXTENSIONS),
    }


def default_worker_name() -> str:
    return f"{socket.gethostname()}-{int(time.time())}"


# --- the frontier: a stream per spider, read by the `workers` consumer group ------------------------
class FrontierQueue(RedisQueue):
    """A scrapy-redis queue whose pops are acknowledged: an entry stays in the group's pending
    list until its page is done (`retire`), and is deleted then, so the stream's length is what
    is queued or in flight anywhere. On start a worker first takes back its own pending entries
    (a restart after a kill); entries another worker has held for longer than
    DISTRIBUTED_RECLAIM_AFTER seconds are claimed with XAUTOCLAIM (that worker is gone)."""

    def __init__(self, server, spider, key, serializer=None, seen_key: str = ""):
        super().__init__(server, spider, key, serializer)
        self.seen_key = seen_key  # the round's seen-request set (the dupefilter's key)
        settings = spider.settings
        self.consumer = settings.get("DISTRIBUTED_WORKER_NAME") or default_worker_name()
        self.reclaim_after_ms = int(settings.getfloat("DISTRIBUTED_RECLAIM_AFTER") * 1000)
        self.next_reclaim = 0.0
        self.own_pending_after: str | None = "0"  # None once this consumer's old entries are taken back
        self.read_ahead: deque = deque()  # entries read (so pending for this consumer), not popped yet
        self.enqueue = server.register_script(_ENQUEUE)
        try:
            server.xgroup_create(self.key, WORKERS_GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def __len__(self):
        return len(self.read_ahead) or self.server.xlen(self.key)

    def push(self, request, fingerprint: str | None = None, replaces: str | None = None, pipe=None) -> bool:
        """Queue the request (unless `fingerprint` was seen this round) and retire `replaces`;
        with `pipe` (a MULTI), in it: the pipeline's result says whether it was queued."""
        args = [fingerprint or "", self._encode_request(request), replaces or "", WORKERS_GROUP]
        if pipe is not None:
            pipe.eval(_ENQUEUE, 2, self.seen_key, self.key, *args)  # EVALSHA would cost a SCRIPT EXISTS
            return True
        return bool(self.enqueue(keys=[self.seen_key, self.key], args=args))

    def pop(self, timeout=0):
        entry = self._own_pending() or self._reclaimed() or self._next_new()
        if entry is None:
            return None
        entry_id, fields = entry
        request = self._decode_request(fields[b"request"])
        request.meta[ENTRY] = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
        return request

    def _read(self, after: str, count: int = 1) -> list:
        reply = self.server.xreadgroup(WORKERS_GROUP, self.consumer, {self.key: after}, count=count)
        return reply[0][1] if reply else []

    def _next_new(self):
        """The next entry never delivered to anyone, READ_AHEAD at a time."""
        if not self.read_ahead:
            self.read_ahead.extend(self._read(">", READ_AHEAD))
        return self.read_ahead.popleft() if self.read_ahead else None

    def _own_pending(self):
        if self.own_pending_after is None:
            return None
        entry = next(iter(self._read(self.own_pending_after)), None)
        while entry is not None and not entry[1]:  # deleted while pending: forget it
            self.server.xack(self.key, WORKERS_GROUP, entry[0])
            entry = next(iter(self._read(entry[0])), None)
        self.own_pending_after = entry[0] if entry is not None else None
        return entry

    def _reclaimed(self):
        if time.monotonic() < self.next_reclaim:
            return None
        self.next_reclaim = time.monotonic() + 1.0
        reply = self.server.xautoclaim(self.key, WORKERS_GROUP, self.consumer, self.reclaim_after_ms, count=1)
        claimed = [entry for entry in reply[1] if entry[1]]
        if claimed:
            log.warning("%s: took over request %s of a worker that stopped", self.spider.name, claimed[0][0])
            return claimed[0]
        return None

    def join_round(self) -> str:
        key = ROUND_KEY % {"spider": self.spider.name}
        round_id = self.server.eval(_JOIN_ROUND, 1, key, uuid.uuid4().hex)
        return round_id.decode() if isinstance(round_id, bytes) else round_id

    def end_round(self) -> bool:
        """End the round if the frontier is empty; True for the worker that ended it."""
        return bool(self.server.eval(_END_ROUND, 3, self.seen_key, self.key, ROUND_KEY % {"spider": self.spider.name}))

    def leave(self) -> None:
        """Drop this consumer from the group if it holds nothing (names are per process by default)."""
        if not self.server.xpending_range(self.key, WORKERS_GROUP, "-", "+", 1, consumername=self.consumer):
            self.server.xgroup_delconsumer(self.key, WORKERS_GROUP, self.consumer)


class FrontierScheduler(RedisScheduler):
    """scrapy-redis' scheduler on a FrontierQueue. Start requests are filtered too (each worker
    makes them; the first one of the round queues them); the worker stays open while any
    worker has work queued or in flight, and leaves DISTRIBUTED_IDLE_EXIT seconds after the
    frontier is empty (0: stay until stopped)."""

    @classmethod
    def from_crawler(cls, crawler):
        scheduler = super().from_crawler(crawler)
        scheduler.crawler = crawler
        scheduler.idle_exit = crawler.settings.getfloat("DISTRIBUTED_IDLE_EXIT")
        scheduler.idle_since = None
        scheduler.pipe = None  # a MULTI that requests are queued in, while a page's outputs are published
        scheduler.piped: list[Request] = []  # the requests queued in it
        crawler.signals.connect(scheduler.spider_idle, signal=signals.spider_idle)
        return scheduler

    def open(self, spider):
        self.spider = spider
        self.df = load_object(self.dupefilter_cls).from_spider(spider)
        self.queue = FrontierQueue(self.server, spider, self.queue_key, self.serializer, seen_key=self.df.key)
        self.stats.set_value(ROUND_STAT, self.queue.join_round())
        # Scrapy polls a scheduler that says it has work but returns none every 5 s; other
        # workers add work at any time, so look more often.
        self.crawler.engine._SLOT_HEARTBEAT_INTERVAL = 0.2

    def enqueue_request(self, request):
        replaces = request.meta.pop(ENTRY, None)
        filtered = not request.dont_filter or request.meta.get("is_start_request")
        fingerprint = self.df.request_fingerprint(request) if filtered else None
        if self.pipe is not None:
            self.piped.append(request)
            # queued or found seen when the MULTI runs (`piped_results`): the engine is told it is queued
            return self.queue.push(request, fingerprint, replaces, self.pipe)
        return self.counted(request, self.queue.push(request, fingerprint, replaces))

    def queue_in(self, pipe) -> None:
        """Queue the requests the engine hands over from now on in `pipe` (a MULTI), not one round trip each."""
        self.pipe, self.piped = pipe, []

    def piped_results(self, results: list) -> None:
        """After the MULTI, back to a round trip per request; count the requests it queued from its
        `results` (theirs come first: a page's requests are handed over before its records)."""
        queued, self.pipe, self.piped = self.piped, None, []
        for request, added in zip(queued, results):
            self.counted(request, bool(added))

    def counted(self, request, added: bool) -> bool:
        if not added:
            self.df.log(request, self.spider)  # seen this round
        else:
            self.stats.inc_value("scheduler/enqueued/redis")
        return added

    def next_request(self):
        request = self.queue.pop()
        if request is not None:
            self.idle_since = None
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self):
        return len(self.queue) > 0

    def spider_idle(self, spider):
        now = time.monotonic()
        self.idle_since = self.idle_since or now
        if not self.idle_exit or now - self.idle_since < self.idle_exit:
            raise DontCloseSpider

    def close(self, reason):
        if self.queue.end_round():
            self.stats.set_value(ROUND_OVER_STAT, True)
            log.info("%s: frontier empty, round over", self.spider.name)
        self.queue.leave()


# --- worker side: page -> record -> records stream, together with the frontier ack ---------------
def retire(target, spider_name: str, entry_id: str) -> None:
    """A request's page is done: acknowledge and delete its frontier entry (`target` is a
    client or a MULTI pipeline)."""
    key = FRONTIER_KEY % {"spider": spider_name}
    target.xack(key, WORKERS_GROUP, entry_id)
    target.xdel(key, entry_id)


def record_message(record: dict, page: bytes, content_type: str | None, round_id: str = "",
                   site_module: bool = True) -> dict:
    """A record for the writer; `round_id` names the crawl_runs row it counts in (none: no row)."""
    return {"record": json.dumps(record, ensure_ascii=False), "page": zlib.compress(page, 6),
            "content_type": content_type or "", "round": round_id, "site_module": "1" if site_module else ""}


def read_message(fields: dict) -> tuple[dict, bytes, str | None]:
    record = json.loads(fields[b"record"])
    return record, zlib.decompress(fields[b"page"]), fields[b"content_type"].decode() or None


class RoundCounts:
    """A worker's part of its site's round counts: the crawl stats that crawl_runs columns are
    made of, sent to the writer as they grow (what changed since the last message), in the
    MULTI that publishes a page's records and retires its frontier entry."""

    def __init__(self, stats, site: str):
        self.stats, self.site = stats, site
        self.sent: dict[str, int] = {}

    def message(self, over: str = "") -> dict | None:
        """The counts message, or None if nothing changed; `over`: the finish reason of the
        worker that ended the round."""
        now = self.stats.get_stats()
        grown = {key: value - self.sent.get(key, 0) for key, value in now.items()
                 if is_run_stat(key) and value != self.sent.get(key, 0)}
        if not grown and not over:
            return None
        self.sent.update({key: now.get(key, 0) for key in grown})
        return {"counts": json.dumps({"site": self.site, "round": self.stats.get_value(ROUND_STAT),
                                      "stats": grown, "over": over})}


class PublishRecords:
    """Spider middleware at the engine end of the chain: takes every output of a page's
    callback, extracts and cleans its Page items, then queues its requests (but not known
    articles, when it can read the store), publishes the records and retires the page's frontier
    entry in one MULTI: one round trip a page, and a kill between two of them loses nothing. Doing
    all of it here, rather than in an item pipeline, makes sure nothing is acknowledged before
    it is handed on."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.server = get_redis_from_settings(crawler.settings)
        known_db = crawler.settings.get("DISTRIBUTED_KNOWN_DB")
        self.store = shared_store(known_db) if known_db else None
        self.counts = RoundCounts(crawler.stats, crawler.spidercls.name)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_start(self, start):
        """A start request that fails is counted by the spider's errback, as in a local crawl."""
        errback = getattr(self.crawler.spider, "on_error", None)
        async for entry in start:
            if isinstance(entry, Request) and entry.errback is None and errback is not None:
                entry = entry.replace(errback=errback)
            yield entry

    def process_spider_output(self, response, result):
        outputs = []
        try:
            outputs.extend(result)
        except Exception:
            self._finish(response, outputs)
            raise
        return self._finish(response, outputs)

    async def process_spider_output_async(self, response, result):
        outputs = []
        try:
            async for output in result:
                outputs.append(output)
        except Exception:
            self._finish(response, outputs)
            raise
        for output in self._finish(response, outputs):
            yield output

    def process_spider_exception(self, response, exception):
        self._finish(response, [])

    def _finish(self, response, outputs: list) -> list:
        """Queue requests, publish records and counts, retire the entry, in one MULTI; return
        the outputs left for Scrapy."""
        pipe = self.server.pipeline(transaction=True)
        scheduler = self.crawler.engine.scheduler
        scheduler.queue_in(pipe)
        try:
            others = self._add_outputs(pipe, response, outputs)
            results = pipe.execute()
        except BaseException:
            scheduler.piped_results([])  # nothing was queued
            raise
        scheduler.piped_results(results)
        return others

    def _add_outputs(self, pipe, response, outputs: list) -> list:
        others, messages = [], []
        if not response.meta.get("article"):  # counted as a local crawl counts its list pages
            self.stats.inc_value("list_pages/parsed")
            self.stats.inc_value("list_pages/article_links",
                                 sum(1 for o in outputs if isinstance(o, Request) and o.meta.get("article")))
        for output in outputs:
            if isinstance(output, Request):
                if self._known(output):
                    self.stats.inc_value("articles/skipped_known")
                else:
                    self.crawler.engine.crawl(output)  # queued in `pipe` by the scheduler
            elif isinstance(output, Page):
                messages.extend(self._messages(output))
            else:
                others.append(output)
        entry = response.meta.pop(ENTRY, None)
        self.stats.inc_value("records/published", len(messages))
        counts = self.counts.message()
        for message in messages + ([counts] if counts else []):
            pipe.xadd(RECORDS_KEY, message)
        if entry is not None:
            retire(pipe, self.crawler.spider.name, entry)
        return others

    def spider_closed(self, spider, reason):
        """The last counts; the worker that ended the round says so, and how it finished."""
        counts = self.counts.message(over=reason if self.stats.get_value(ROUND_OVER_STAT) else "")
        if counts:
            self.server.xadd(RECORDS_KEY, counts)

    def _known(self, request: Request) -> bool:
        """An article already stored (or recorded as a duplicate) in the store the worker reads."""
        return bool(self.store and request.meta.get("article") and self.store.is_known(canonical_url(request.url)))

    def _messages(self, page: Page) -> list[dict]:
        spider = self.crawler.spider
        try:
            record = record_of(page, type(spider) if isinstance(spider, SiteSpider) else None)
        except Exception as exc:  # a page that breaks extraction must not stop the crawl
            self.stats.inc_value("errors/extract")
            log.error("extraction failed for %s: %s: %s", page.url, type(exc).__name__, exc)
            return []
        return [record_message(record, page.body, page.content_type, self.stats.get_value(ROUND_STAT) or "",
                               isinstance(spider, SiteSpider))]


class RetireFailed:
    """Downloader middleware, last to see an exception: a request that failed for good (after
    Scrapy's retries, or refused by robots.txt) is done, so its frontier entry is retired."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.server = get_redis_from_settings(crawler.settings)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_exception(self, request, exception):
        entry = request.meta.pop(ENTRY, None)
        if entry is not None:
            retire(self.server, self.crawler.spider.name, entry)
        return None


def run_workers(spiders: list[type], settings_overrides: dict) -> list[dict]:
    """Run the spiders as workers of the shared frontier until they leave; one summary per site."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    settings.setdict(settings_overrides, priority="cmdline")
    process = CrawlerProcess(settings)
    crawlers = [process.create_crawler(spider) for spider in spiders]
    for crawler in crawlers:
        share_politeness(crawler.settings)  # the site module's own settings are in by now
        process.crawl(crawler)
    process.start()
    return [{
        "site": crawler.spidercls.name,
        "pages": crawler.stats.get_value("response_received_count", 0),
        "records": crawler.stats.get_value("records/published", 0),
        "skipped": crawler.stats.get_value("articles/skipped_known", 0),
        "errors": crawler.stats.get_value("errors/http", 0) + crawler.stats.get_value("errors/extract", 0),
        "finish": crawler.stats.get_value("finish_reason", ""),
    } for crawler in crawlers]


# --- writer side: records stream -> admit_many() -> SQLite ----------------------------------------
def _entry_order(entry_id) -> tuple[int, int]:
    stamp, _, sequence = (entry_id.decode() if isinstance(entry_id, bytes) else entry_id).partition("-")
    return int(stamp), int(sequence or 0)


class RoundRuns:
    """The writer's side of the crawl_runs rows of distributed rounds: one row per site per
    round (invocation: the round's id), counted as a local run is counted, from the stats the
    workers send and the outcomes of their records here; finished when a worker ends the round."""

    def __init__(self, store):
        self.store = store
        self.ids: dict[tuple[str, str], int] = {}
        self.grown: dict[int, Counter] = defaultdict(Counter)
        self.over: dict[int, str] = {}

    def run_id(self, site: str, round_id: str) -> int:
        if (site, round_id) not in self.ids:
            run = self.store.run_of(site, round_id)
            self.ids[site, round_id] = run["id"] if run else self.store.start_run(site, round_id)
        return self.ids[site, round_id]

    def add(self, run_id: int, stats: dict) -> None:
        self.grown[run_id].update(stats)

    def end(self, run_id: int, reason: str) -> None:
        self.over[run_id] = reason

    def save(self) -> None:
        """Into the writer's open transaction: the counts added since the last save, and the
        status of the rounds that ended."""
        for run_id, stats in self.grown.items():
            self.store.add_to_run_counts(run_id, {**run_counts(stats), **fault_counts(stats)})
        for run_id, reason in self.over.items():
            run = self.store.db["crawl_runs"].get(run_id)
            started = datetime.fromisoformat(run["started_at"])
            self.store.finish_run(run_id, run_status(reason, run), reason,
                                  (datetime.now(timezone.utc) - started).total_seconds(), run)
        self.grown.clear()
        self.over.clear()


class Writer:
    """Drains the records stream into the store. Records are acknowledged (and deleted) only
    after `admit` has committed them; entries a killed writer had taken are claimed back with
    XAUTOCLAIM when it starts again, and `admit` finds them `known` if they were committed.
    Counts messages are added to their round's crawl_runs row in the same commit, which also
    records the last entry added (COUNTS_THROUGH), so counts delivered again are not added twice."""

    def __init__(self, store, server: redis.Redis, name: str = "writer", batch: int = 100):
        self.store, self.server, self.name, self.batch = store, server, name, batch
        self.counts = {"new": 0, "duplicate": 0, "known": 0, "empty": 0}
        self.stopping = False
        self.runs = RoundRuns(store)
        self.counted_through = _entry_order(store.meta_value(COUNTS_THROUGH) or "0-0")
        try:
            server.xgroup_create(RECORDS_KEY, WRITER_GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def run(self, idle_exit: float = 0) -> dict:
        """Write until stopped (SIGTERM, SIGINT), or until `idle_exit` seconds pass without a record."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self.stop)
        self.reclaim()
        last_record = time.monotonic()
        while not self.stopping:
            reply = self.server.xreadgroup(WRITER_GROUP, self.name, {RECORDS_KEY: ">"}, count=self.batch, block=500)
            entries = reply[0][1] if reply else []
            if entries:
                self.write(entries)
                last_record = time.monotonic()
            elif idle_exit and time.monotonic() - last_record >= idle_exit:
                break
        return self.counts

    def stop(self, signum=None, frame=None) -> None:
        self.stopping = True  # finish the batch in hand, then leave

    def reclaim(self) -> None:
        """Take over every pending entry (there is one writer: whoever held them is gone)."""
        cursor = "0-0"
        while True:
            cursor, entries, _deleted = self.server.xautoclaim(RECORDS_KEY, WRITER_GROUP, self.name, 0,
                                                               start_id=cursor, count=self.batch)
            self.write([entry for entry in entries if entry[1]])
            if cursor in (b"0-0", "0-0"):
                return

    def write(self, entries: list) -> None:
        """Store a batch in one commit (a commit costs a disk sync), then acknowledge it."""
        if entries:
            self.commit(entries)
            self.acknowledge([entry_id for entry_id, _fields in entries])

    def commit(self, entries: list) -> None:
        """Admit the records, add the counts, in one transaction (`write` without the acknowledgement)."""
        with self.store.transaction():
            arrivals = [(fields, self._arrival(fields)) for _entry_id, fields in entries if b"record" in fields]
            outcomes = admit_many(self.store, [arrival for _fields, arrival in arrivals])
            for (fields, arrival), outcome in zip(arrivals, outcomes):
                self.counts[outcome.kind] += 1
                if arrival.run_id is not None:
                    self.runs.add(arrival.run_id, Counter(outcome_stats(outcome, bool(fields.get(b"site_module")))))
            for entry_id, fields in entries:
                if b"record" not in fields and _entry_order(entry_id) > self.counted_through:
                    self._count(json.loads(fields[b"counts"]))
            self.runs.save()
            last = max((entry_id for entry_id, _fields in entries), key=_entry_order)
            if _entry_order(last) > self.counted_through:
                self.counted_through = _entry_order(last)
                self.store.set_meta_value(COUNTS_THROUGH, "-".join(map(str, self.counted_through)))

    def acknowledge(self, ids: list) -> None:
        self.server.pipeline(transaction=True).xack(RECORDS_KEY, WRITER_GROUP, *ids).xdel(RECORDS_KEY, *ids).execute()

    def _arrival(self, fields: dict) -> Arrival:
        """A record message as the store admits it, with the crawl_runs row of its round."""
        record, page, content_type = read_message(fields)
        round_id = fields.get(b"round", b"").decode()
        return Arrival(record, page, content_type,
                       run_id=self.runs.run_id(record["site"], round_id) if round_id else None)

    def _count(self, counts: dict) -> None:
        run_id = self.runs.run_id(counts["site"], counts["round"])
        self.runs.add(run_id, counts["stats"])
        if counts["over"]:
            self.runs.end(run_id, counts["over"])


def connect(url: str) -> redis.Redis:
    """A client for `url`, checked with a PING so that a wrong URL is one clear error."""
    server = redis.Redis.from_url(url, socket_connect_timeout=10, socket_timeout=30)
    server.ping()
    return server
