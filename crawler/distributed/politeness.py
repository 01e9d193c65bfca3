"""One politeness budget per site for all the workers of a distributed crawl, kept in Redis.

A single crawl process is polite through its own download slot: at most
CONCURRENT_REQUESTS_PER_DOMAIN requests to a site at a time, DOWNLOAD_DELAY (or AutoThrottle's
delay, learnt from the site's response times) between two of them, and the Retry-After a site
asks for before a retry. Ten workers with ten slots would be ten times as hard on the site, so
in a worker the slot's rules move here, into two Redis keys per site that every worker reads
and writes in one script call before it sends a request and one after:

- `crawler:site:{host}:leases`, a sorted set: a lease per request in flight, scored by the time
  it lapses (DOWNLOAD_TIMEOUT and a margin), so the requests of a worker that died stop counting
  once their download could not be running any more;
- `crawler:site:{host}:pace`, a hash: `next_at`, when the next request may start (the last
  start + the delay); `delay`, AutoThrottle's delay, adjusted by every worker's responses with
  Scrapy's own rule; `backoff_until`, until when the site asked everyone to wait (Retry-After).

Times are Redis' own clock (TIME inside the scripts), so the workers' clocks need not agree.
Both keys expire after an hour without a request. The worker's own slot is left with no delay
and the same concurrency, so it never holds back what the budget granted.
"""
from __future__ import annotations

import itertools
import logging
import uuid
from dataclasses import asdict, dataclass

from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy_redis.connection import get_redis_from_settings
from twisted.internet.defer import DeferredLock
from twisted.internet.task import deferLater

from crawler.sites.failures import retry_after_seconds

log = logging.getLogger(__name__)

LEASES_KEY = "crawler:site:%s:leases"
PACE_KEY = "crawler:site:%s:pace"
LEASE = "politeness_lease"  # request meta: (host, lease id) of a request in flight
FULL = -1  # what `acquire` answers when the site's concurrency is taken up
POLL_S = 0.02  # how often a worker asks again when every lease of a site is taken
LEASE_MARGIN_S = 10.0  # a lease outlives DOWNLOAD_TIMEOUT by this much (connect, queueing)
BACKOFF_STATUSES = (429, 503)  # the answers whose Retry-After pauses the whole site

# KEYS: leases, pace. ARGV: lease id, concurrency, delay ms (the floor, and the delay when
# AutoThrottle is off), AutoThrottle's first delay ms (0: AutoThrottle off), lease ms.
# Returns 0 (granted: the lease is taken), ms to wait, or -1 (full).
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local pace = redis.call('HMGET', KEYS[2], 'next_at', 'backoff_until', 'delay')
local ready = math.max(tonumber(pace[1]) or 0, tonumber(pace[2]) or 0)
if ready > now then return ready - now end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return -1 end
local delay = tonumber(ARGV[3])
if tonumber(ARGV[4]) > 0 then delay = tonumber(pace[3]) or tonumber(ARGV[4]) end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[5]), ARGV[1])
redis.call('HSET', KEYS[2], 'next_at', now + math.floor(delay))
redis.call('PEXPIRE', KEYS[1], 3600000)
redis.call('PEXPIRE', KEYS[2], 3600000)
return 0
"""
# KEYS: leases, pace. ARGV: lease id, Retry-After ms (-1: none), and for AutoThrottle (latency
# ms -1: do not adjust): latency ms, status, start delay ms, min delay ms, max delay ms, target
# concurrency. The delay rule is AutoThrottle's (scrapy/extensions/throttle.py), on the shared delay.
_RELEASE = """
redis.call('ZREM', KEYS[1], ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local retry_after = tonumber(ARGV[2])
if retry_after >= 0 then
  local until_ms = now + retry_after
  if until_ms > (tonumber(redis.call('HGET', KEYS[2], 'backoff_until')) or 0) then
    redis.call('HSET', KEYS[2], 'backoff_until', until_ms)
  end
end
local latency = tonumber(ARGV[3])
if latency >= 0 then
  local delay = tonumber(redis.call('HGET', KEYS[2], 'delay')) or math.max(tonumber(ARGV[5]), tonumber(ARGV[6]))
  local target = latency / tonumber(ARGV[8])
  local new = math.max(target, (delay + target) / 2)
  new = math.min(math.max(tonumber(ARGV[6]), new), tonumber(ARGV[7]))
  if tonumber(ARGV[4]) == 200 or new > delay then
    redis.call('HSET', KEYS[2], 'delay', math.floor(new))
  end
end
return 0
"""


@dataclass(frozen=True)
class Limits:
    """A site's politeness, from the crawl settings (the site module's own, if it has any)."""
    concurrency: int  # CONCURRENT_REQUESTS_PER_DOMAIN
    delay: float  # DOWNLOAD_DELAY: between two request starts; AutoThrottle's floor
    autothrottle: bool  # AUTOTHROTTLE_ENABLED
    start_delay: float  # AUTOTHROTTLE_START_DELAY
    max_delay: float  # AUTOTHROTTLE_MAX_DELAY
    target_concurrency: float  # AUTOTHROTTLE_TARGET_CONCURRENCY
    lease: float  # seconds a request counts as in flight at most: DOWNLOAD_TIMEOUT + a margin
    backoff_cap: float  # RETRY_BACKOFF_MAX: the longest Retry-After obeyed

    @classmethod
    def from_settings(cls, settings) -> "Limits":
        return cls(
            concurrency=max(1, settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")),
            delay=settings.getfloat("DOWNLOAD_DELAY"), autothrottle=settings.getbool("AUTOTHROTTLE_ENABLED"),
            start_delay=settings.getfloat("AUTOTHROTTLE_START_DELAY"),
            max_delay=settings.getfloat("AUTOTHROTTLE_MAX_DELAY"),
            target_concurrency=settings.getfloat("AUTOTHROTTLE_TARGET_CONCURRENCY"),
            lease=settings.getfloat("DOWNLOAD_TIMEOUT") + LEASE_MARGIN_S,
            backoff_cap=settings.getfloat("RETRY_BACKOFF_MAX"))


def share_politeness(settings) -> None:
    """Hand a worker's politeness settings to the shared budget (DISTRIBUTED_POLITENESS) and
    take them off its own download slot, which would otherwise add its delay to the budget's
    and learn an AutoThrottle delay of its own. Called on a crawler's settings before it
    starts, after the site module's `custom_settings` are in."""
    settings.set("DISTRIBUTED_POLITENESS", asdict(Limits.from_settings(settings)), priority="cmdline")
    settings.set("DOWNLOAD_DELAY", 0, priority="cmdline")
    settings.set("AUTOTHROTTLE_ENABLED", False, priority="cmdline")


def _ms(seconds: float) -> int:
    return int(round(seconds * 1000))


class SiteBudgets:
    """The shared budgets, one per host, in the Redis at `server`."""

    def __init__(self, server, limits: Limits):
        self.server, self.limits = server, limits
        self._acquire = server.register_script(_ACQUIRE)
        self._release = server.register_script(_RELEASE)

    def acquire(self, host: str, lease_id: str) -> float:
        """Take a lease on one request to `host` now: 0.0 when granted, else the seconds to wait
        before asking again (FULL: when another lease comes back, which nobody can know)."""
        limits = self.limits
        start = _ms(max(limits.start_delay, limits.delay)) if limits.autothrottle else 0
        wait = self._acquire(keys=[LEASES_KEY % host, PACE_KEY % host],
                             args=[lease_id, limits.concurrency, _ms(limits.delay), start, _ms(limits.lease)])
        return FULL if wait < 0 else wait / 1000

    def release(self, host: str, lease_id: str, retry_after: float | None = None,
                latency: float | None = None, status: int = 0) -> None:
        """Give the lease back; a Retry-After (seconds) pauses every worker's requests to the
        site; a response's latency adjusts the shared AutoThrottle delay."""
        limits = self.limits
        backoff = _ms(min(retry_after, limits.backoff_cap)) if retry_after is not None else -1
        adjust = _ms(latency) if limits.autothrottle and latency is not None else -1
        self._release(keys=[LEASES_KEY % host, PACE_KEY % host], args=[
            lease_id, backoff, adjust, status, _ms(limits.start_delay), _ms(limits.delay), _ms(limits.max_delay),
            limits.target_concurrency])


class SharedPoliteness:
    """Downloader middleware, last before the download: a request waits for a lease of its
    site's shared budget, and gives it back with what the response says (latency, Retry-After)."""

    def __init__(self, budgets: SiteBudgets, worker: str):
        self.budgets = budgets
        self.worker = f"{worker}:{uuid.uuid4().hex[:8]}"  # two processes given one name still count apart
        self.leases = itertools.count()
        self.turns: dict[str, DeferredLock] = {}

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        limits = Limits(**settings.getdict("DISTRIBUTED_POLITENESS")) if settings.get("DISTRIBUTED_POLITENESS") \
            else Limits.from_settings(settings)
        return cls(SiteBudgets(get_redis_from_settings(settings), limits), settings["DISTRIBUTED_WORKER_NAME"])

    async def process_request(self, request, spider=None):
        from twisted.internet import reactor  # the one Scrapy installed

        host = urlparse_cached(request).hostname or ""
        lease = f"{self.worker}:{next(self.leases)}"
        # A worker's requests to a site take turns asking, in order: one asks Redis at a time,
        # not each of the dozens a worker may hold while the site's budget is taken up.
        turn = self.turns.setdefault(host, DeferredLock())
        await maybe_deferred_to_future(turn.acquire())
        try:
            while (wait := self.budgets.acquire(host, lease)) != 0:
                await maybe_deferred_to_future(deferLater(reactor, POLL_S if wait == FULL else wait, lambda: None))
        finally:
            turn.release()
        request.meta[LEASE] = (host, lease)
        return None

    def process_response(self, request, response, spider=None):
        lease = request.meta.pop(LEASE, None)
        if lease is not None:
            header = response.headers.get("Retry-After") if response.status in BACKOFF_STATUSES else None
            retry_after = retry_after_seconds(header.decode("latin-1") if header else None)
            if retry_after is not None:
                log.info("%s asks to wait %.0f s (HTTP %s): every worker waits", lease[0], retry_after, response.status)
            self.budgets.release(*lease, retry_after=retry_after, latency=request.meta.get("download_latency"),
                                 status=response.status)
        return response

    def process_exception(self, request, exception, spider=None):
        lease = request.meta.pop(LEASE, None)
        if lease is not None:
            self.budgets.release(*lease)
        return None
