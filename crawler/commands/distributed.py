"""`crawler worker` and `crawler writer`: distributed crawling over a shared Redis."""
from __future__ import annotations

import sys

from crawler.commands.options import (EXIT_FAILED, EXIT_OK, ConfigError, add_command, add_db, add_log_level,
                                      sites_by_name)


def register(commands) -> None:
    worker = add_command(
        commands, "worker", handler=cmd_worker, help="crawl as one of many workers sharing a Redis frontier",
        description="Crawl the named sites with the frontier and seen-request filter in Redis (scrapy-redis),\n"
                    "shared by any number of workers on any hosts. Pages are extracted and cleaned here and\n"
                    "their records sent to `crawler writer`, which alone writes SQLite. A worker killed at\n"
                    "any moment loses nothing: restarted with the same --name, it takes back what it held.\n"
                    "Politeness is per site for all workers together: CONCURRENT_REQUESTS_PER_DOMAIN,\n"
                    "DOWNLOAD_DELAY / AutoThrottle and a site's Retry-After are one budget kept in Redis.",
        epilog="examples:\n  crawler worker --all --redis redis://127.0.0.1:6379/0 --name host1-1 --db output/articles.db\n"
               "  crawler worker huaian czgx --redis redis://10.0.0.5:6379/0 --idle-exit 60 -s DOWNLOAD_DELAY=1")
    worker.add_argument("sites", nargs="*", metavar="SITE", help="site names (the `name` of a spiders/ module)")
    worker.add_argument("--all", action="store_true", help="crawl every site module")
    worker.add_argument("--redis", required=True, metavar="URL", help="the shared Redis, e.g. redis://127.0.0.1:6379/0")
    worker.add_argument("--name", help="this worker's name, stable across restarts (default: host and start time)")
    add_db(worker, default=None,
           help="the store (or a copy of it), read to skip known articles before requesting them (default: none)")
    worker.add_argument("--idle-exit", type=float, default=0, metavar="SECONDS",
                        help="leave after the frontier has been empty this long (default: 0, run until stopped)")
    worker.add_argument("-s", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                        help="a Scrapy setting, e.g. -s CONCURRENT_REQUESTS_PER_DOMAIN=2 (repeatable)")
    add_log_level(worker)

    writer = add_command(
        commands, "writer", handler=cmd_writer, help="write the records of all workers into SQLite",
        description="Read the records the workers send through Redis, deduplicate them against the store and\n"
                    "write them, acknowledging each only after it is committed, and record each site's crawl\n"
                    "round in crawl_runs (as `crawler crawl` records a run; `crawler report` reads both).\n"
                    "Runs until stopped (SIGTERM, SIGINT) or --idle-exit; restarted after a kill it takes\n"
                    "back what it held.",
        epilog="example:\n  crawler writer --db output/articles.db --redis redis://127.0.0.1:6379/0")
    writer.add_argument("--redis", required=True, metavar="URL", help="the shared Redis, e.g. redis://127.0.0.1:6379/0")
    add_db(writer)
    writer.add_argument("--idle-exit", type=float, default=0, metavar="SECONDS",
                        help="leave after no record came for this long (default: 0, run until stopped)")


def _redis(url: str):
    import redis

    from crawler.distributed.cluster import connect

    try:
        return connect(url)
    except (redis.RedisError, ValueError) as exc:
        raise ConfigError(f"cannot reach Redis at {url}: {exc}") from exc


def cmd_worker(args) -> int:
    from crawler.distributed.cluster import default_worker_name, run_workers, worker_settings
    from crawler.sites.spider import site_classes

    if args.all == bool(args.sites):
        raise ConfigError("name the sites to crawl, or pass --all (not both)")
    spiders = sites_by_name(sorted(site_classes()) if args.all else args.sites)
    bad = [pair for pair in args.settings if "=" not in pair]
    if bad:
        raise ConfigError(f"-s takes NAME=VALUE, got: {', '.join(bad)}")
    _redis(args.redis)
    overrides = {"LOG_LEVEL": args.log_level, **dict(pair.split("=", 1) for pair in args.settings),
                 **worker_settings(args.redis, args.name or default_worker_name(), args.idle_exit, args.db)}
    sites = run_workers(spiders, overrides)
    columns = ("site", "pages", "records", "skipped", "errors", "finish")
    for line in [columns, *([str(site[c]) for c in columns] for site in sites)]:
        print("  ".join(value.ljust(9) for value in line).rstrip())
    return EXIT_OK if all(site["finish"] in ("finished", "shutdown") for site in sites) else EXIT_FAILED


def cmd_writer(args) -> int:
    import redis

    from crawler.distributed.cluster import Writer
    from crawler.storage.store import Store

    writer = Writer(Store(args.db), _redis(args.redis))
    try:
        writer.run(args.idle_exit)
    except redis.RedisError as exc:  # what was not acknowledged is delivered again after a restart
        print(f"crawler writer: lost Redis at {args.redis}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        print("  ".join(f"{kind} {count}" for kind, count in writer.counts.items()))
    return EXIT_OK
