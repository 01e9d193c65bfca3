"""Distributed crawling: many workers share one frontier in Redis, one writer owns SQLite.

```
crawler worker (any number, any host)                 crawler writer (one, next to the SQLite file)
  scrapy-redis scheduler + dupefilter, except that
  the frontier is a Redis stream read by a consumer
  group, so a request stays pending until its page
  is done and a killed worker's requests come back
  page -> extract -> clean (crawler.chain.process)
  XADD its record + XACK its request, one MULTI   ->  XREADGROUP records -> admit() -> SQLite
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
articles only, not the whole history.
"""
from __future__ import annotations

import json
import logging
import signal
import socket
import time
import zlib

import redis
from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.misc import load_object
from scrapy_redis.connection import get_redis_from_settings
from scrapy_redis.queue import Base as RedisQueue
from scrapy_redis.scheduler import Scheduler as RedisScheduler

from crawler.article.dedup import canonical_url
from crawler.article.items import Page
from crawler.chain.process import Arrival, admit_many, record_of
from crawler.sites.spider import SiteSpider
from crawler.storage.store import shared_store

log = logging.getLogger(__name__)

FRONTIER_KEY = "crawler:%(spider)s:frontier"
SEEN_KEY = "crawler:%(spider)s:seen"
RECORDS_KEY = "crawler:records"
WORKERS_GROUP = "workers"
WRITER_GROUP = "writer"
ENTRY = "frontier_entry"  # request meta: the frontier stream entry the request came from

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
# End a round: forget the seen requests once no entry is queued or in flight anywhere.
_END_ROUND = """
if redis.call('XLEN', KEYS[2]) == 0 then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def worker_settings(redis_url: str, name: str, idle_exit: float, known_db: str | None) -> dict:
    """Scrapy settings that turn a crawl into a worker of the shared frontier. The project's own
    middlewares, pipelines and extensions keep their state in the local SQLite file; a worker
    has none (Redis holds the frontier, the writer the store), so only the proxy stays."""
    from crawler.settings import DOWNLOADER_MIDDLEWARES, EXTENSIONS, ITEM_PIPELINES, SPIDER_MIDDLEWARES

    def disabled(components: dict) -> dict:
        return {component: None for component in components}

    proxy = "crawler.crawl.middlewares.FixedProxy"
    return {
        "REDIS_URL": redis_url, "DISTRIBUTED_WORKER_NAME": name, "DISTRIBUTED_IDLE_EXIT": idle_exit,
        "DISTRIBUTED_KNOWN_DB": known_db,
        "SCHEDULER": "crawler.distributed.cluster.FrontierScheduler",
        "SCHEDULER_QUEUE_KEY": FRONTIER_KEY, "SCHEDULER_DUPEFILTER_KEY": SEEN_KEY,
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SPIDER_MIDDLEWARES": {**disabled(SPIDER_MIDDLEWARES), "crawler.distributed.cluster.PublishRecords": 10},
        "DOWNLOADER_MIDDLEWARES": {**disabled(DOWNLOADER_MIDDLEWARES), proxy: DOWNLOADER_MIDDLEWARES[proxy],
                                   "crawler.distributed.cluster.RetireFailed": 10},
        "ITEM_PIPELINES": disabled(ITEM_PIPELINES), "EXTENSIONS": disabled(EXTENSIONS),
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
        self.enqueue = server.register_script(_ENQUEUE)
        try:
            server.xgroup_create(self.key, WORKERS_GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def __len__(self):
        return self.server.xlen(self.key)

    def push(self, request, fingerprint: str | None = None, replaces: str | None = None) -> bool:
        """Queue the request (unless `fingerprint` was seen this round) and retire `replaces`."""
        data = self._encode_request(request)
        return bool(self.enqueue(keys=[self.seen_key, self.key],
                                 args=[fingerprint or "", data, replaces or "", WORKERS_GROUP]))

    def pop(self, timeout=0):
        entry = self._own_pending() or self._reclaimed() or self._read(">")
        if entry is None:
            return None
        entry_id, fields = entry
        request = self._decode_request(fields[b"request"])
        request.meta[ENTRY] = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
        return request

    def _read(self, after: str):
        reply = self.server.xreadgroup(WORKERS_GROUP, self.consumer, {self.key: after}, count=1)
        entries = reply[0][1] if reply else []
        return entries[0] if entries else None

    def _own_pending(self):
        if self.own_pending_after is None:
            return None
        entry = self._read(self.own_pending_after)
        while entry is not None and not entry[1]:  # deleted while pending: forget it
            self.server.xack(self.key, WORKERS_GROUP, entry[0])
            entry = self._read(entry[0])
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

    def end_round(self) -> bool:
        return bool(self.server.eval(_END_ROUND, 2, self.seen_key, self.key))

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
        crawler.signals.connect(scheduler.spider_idle, signal=signals.spider_idle)
        return scheduler

    def open(self, spider):
        self.spider = spider
        self.df = load_object(self.dupefilter_cls).from_spider(spider)
        self.queue = FrontierQueue(self.server, spider, self.queue_key, self.serializer, seen_key=self.df.key)
        # Scrapy polls a scheduler that says it has work but returns none every 5 s; other
        # workers add work at any time, so look more often.
        self.crawler.engine._SLOT_HEARTBEAT_INTERVAL = 0.2

    def enqueue_request(self, request):
        replaces = request.meta.pop(ENTRY, None)
        filtered = not request.dont_filter or request.meta.get("is_start_request")
        fingerprint = self.df.request_fingerprint(request) if filtered else None
        if not self.queue.push(request, fingerprint, replaces):
            self.df.log(request, self.spider)
            return False
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

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
            log.info("%s: frontier empty, round over", self.spider.name)
        self.queue.leave()


# --- worker side: page -> record -> records stream, together with the frontier ack ---------------
def retire(target, spider_name: str, entry_id: str) -> None:
    """A request's page is done: acknowledge and delete its frontier entry (`target` is a
    client or a MULTI pipeline)."""
    key = FRONTIER_KEY % {"spider": spider_name}
    target.xack(key, WORKERS_GROUP, entry_id)
    target.xdel(key, entry_id)


def record_message(record: dict, page: bytes, content_type: str | None) -> dict:
    return {"record": json.dumps(record, ensure_ascii=False), "page": zlib.compress(page, 6),
            "content_type": content_type or ""}


def read_message(fields: dict) -> tuple[dict, bytes, str | None]:
    record = json.loads(fields[b"record"])
    return record, zlib.decompress(fields[b"page"]), fields[b"content_type"].decode() or None


class PublishRecords:
    """Spider middleware at the engine end of the chain: takes every output of a page's
    callback, queues its requests (but not known articles, when it can read the store), extracts and cleans its Page items, then publishes the
    records and retires the page's frontier entry in one MULTI. Doing all of it here, rather
    than in an item pipeline, makes sure nothing is acknowledged before it is handed on."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.server = get_redis_from_settings(crawler.settings)
        known_db = crawler.settings.get("DISTRIBUTED_KNOWN_DB")
        self.store = shared_store(known_db) if known_db else None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

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
        """Queue requests, publish records, retire the entry; return the outputs left for Scrapy."""
        others, messages = [], []
        for output in outputs:
            if isinstance(output, Request):
                if self._known(output):
                    self.stats.inc_value("articles/skipped_known")
                else:
                    self.crawler.engine.crawl(output)
            elif isinstance(output, Page):
                messages.extend(self._messages(output))
            else:
                others.append(output)
        entry = response.meta.pop(ENTRY, None)
        pipe = self.server.pipeline(transaction=True)
        for message in messages:
            pipe.xadd(RECORDS_KEY, message)
        if entry is not None:
            retire(pipe, self.crawler.spider.name, entry)
        pipe.execute()
        self.stats.inc_value("records/published", len(messages))
        return others

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
        return [record_message(record, page.body, page.content_type)]


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


# --- writer side: records stream -> admit() -> SQLite ---------------------------------------------
class Writer:
    """Drains the records stream into the store. Records are acknowledged (and deleted) only
    after `admit` has committed them; entries a killed writer had taken are claimed back with
    XAUTOCLAIM when it starts again, and `admit` finds them `known` if they were committed."""

    def __init__(self, store, server: redis.Redis, name: str = "writer", batch: int = 100):
        self.store, self.server, self.name, self.batch = store, server, name, batch
        self.counts = {"new": 0, "duplicate": 0, "known": 0, "empty": 0}
        self.stopping = False
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
        if not entries:
            return
        with self.store.transaction():
            for outcome in admit_many(self.store, [Arrival(*read_message(fields)) for _entry_id, fields in entries]):
                self.counts[outcome.kind] += 1
        ids = [entry_id for entry_id, _fields in entries]
        self.server.pipeline(transaction=True).xack(RECORDS_KEY, WRITER_GROUP, *ids).xdel(RECORDS_KEY, *ids).execute()


def connect(url: str) -> redis.Redis:
    """A client for `url`, checked with a PING so that a wrong URL is one clear error."""
    server = redis.Redis.from_url(url, socket_connect_timeout=10, socket_timeout=30)
    server.ping()
    return server
