"""`crawler demo` and `crawler crawl`: local crawls into one SQLite file, with a table per run."""
from __future__ import annotations

import sys

from crawler.commands.options import (DEMO_DB, EXIT_CONFIG, EXIT_FAILED, EXIT_OK, ConfigError, add_command,
                                      add_db, add_log_level, count, sites_by_name)


def register(commands) -> None:
    demo = add_command(
        commands, "demo", handler=cmd_demo, help="serve the bundled demo sites on 127.0.0.1 and crawl them all",
        description="Start the demo web server on a free loopback port, crawl every demo site through it,\n"
                    "stop the server and print one line per site. Running it again adds no rows.",
        epilog="example:\n  crawler demo --db output/demo.db")
    add_db(demo, default=DEMO_DB)
    add_log_level(demo)

    crawl = add_command(
        commands, "crawl", handler=cmd_crawl, help="crawl configured sites incrementally",
        description="Crawl the named site modules (see `spiders/`), or all of them. Articles already\n"
                    "stored are not requested again; paging stops at the first list page holding only\n"
                    "known articles; list pages are asked for with their last ETag/Last-Modified. A run\n"
                    "that was killed is resumed by the next one. Only one crawl per database runs at a\n"
                    "time (exit code 4 for the second). The full log goes to logs/ next to the database.\n"
                    "With --all, a site module that cannot be loaded (a syntax error) is reported in one\n"
                    "line and skipped; the exit code is then 3.\n"
                    "With --url, crawl a site that has no module from one of its list pages: article links\n"
                    "are recognised by their URLs (t20220817_1.html, art_1_2.html, content_3.htm, dated\n"
                    "folders) or long Chinese anchors, pagination by index_N.html or 下一页, on that host only,\n"
                    "and articles are extracted by the generic chain; the site is named after the host.",
        epilog="examples:\n  crawler crawl investchn huaian --db output/articles.db\n  crawler crawl --all"
               " --max-list-pages 20\n  crawler crawl --url http://www.example.gov.cn/xwzx/zwdt/ --max-pages 3")
    crawl.add_argument("sites", nargs="*", metavar="SITE", help="site names (the `name` of a spiders/ module)")
    crawl.add_argument("--all", action="store_true", help="crawl every site module")
    crawl.add_argument("--url", metavar="START_URL", help="crawl the site of this list page without a site module")
    crawl.add_argument("--max-pages", type=int, default=5, metavar="N",
                       help="with --url: follow at most N list pages, the first included (default: 5)")
    crawl.add_argument("--proxy", metavar="URL", help="send every request through this HTTP proxy")
    add_db(crawl)
    add_log_level(crawl, note="; the log file gets INFO")
    crawl.add_argument("--max-list-pages", type=count, default=0, metavar="N",
                       help="page through at most N list pages per site, e.g. on a first run (default: 0, no limit)")


def _print_runs(runs: list[dict]) -> None:
    from crawler.report.table import format_table

    columns = ("site", "status", "pages_fetched", "list_pages_not_modified", "articles_new", "duplicates",
               "skipped_known", "errors")
    headers = ("site", "status", "pages", "not_modified", "new", "duplicates", "skipped", "errors")
    rows = [[str(run.get(c) if run.get(c) is not None else "") for c in columns] for run in runs]
    print(format_table(list(headers), rows))


def _run_and_report(spiders: list[type], db: str, overrides: dict, log_level: str) -> int:
    from crawler.crawl.runner import crawl
    from crawler.storage.store import StoreError, shared_store

    runs = crawl(spiders, db, overrides, stderr_level=log_level)
    _print_runs(runs)
    if shared_store(db).failure:  # the disk filled up mid-crawl: what was stored is intact
        raise StoreError(shared_store(db).failure)
    failed = [f"{run['site']} ({run['status']})" for run in runs if run["status"] not in ("ok", "partial")]
    print(f"database: {db}")
    if runs:
        print(f"log: {runs[0]['log_file']}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def cmd_demo(args) -> int:
    from crawler.demo.server import DemoServer
    from crawler.demo.sites import SITES

    spiders = sites_by_name(list(SITES))
    with DemoServer() as server:
        overrides = {
            "PROXY_URL": server.url,
            # Our own server on loopback: no need to pace requests.
            "AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
        }
        return _run_and_report(spiders, args.db, overrides, args.log_level)


def cmd_crawl(args) -> int:
    from crawler.sites.loader import broken_site_modules
    from crawler.sites.spider import site_classes

    overrides = {"PROXY_URL": args.proxy} if args.proxy else {}
    if args.url:
        return _crawl_url(args, overrides)
    if args.all == bool(args.sites):
        raise ConfigError("name the sites to crawl, or pass --all (not both)")
    broken = broken_site_modules() if args.all else {}
    for module, reason in broken.items():  # the other sites still crawl
        print(f"crawler crawl: site module {module} cannot be loaded, skipped: {reason}", file=sys.stderr)
    names = sorted(site_classes()) if args.all else args.sites
    status = _run_and_report(sites_by_name(names), args.db,
                             {**overrides, "CRAWLER_MAX_LIST_PAGES": args.max_list_pages}, args.log_level) if names else EXIT_OK
    return EXIT_CONFIG if broken else status


def _crawl_url(args, overrides: dict) -> int:
    from urllib.parse import urlsplit

    from crawler.sites.generic import GenericSpider

    if args.sites or args.all:
        raise ConfigError("--url crawls one site without a module: do not name sites or pass --all with it")
    parts = urlsplit(args.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"not an http(s) URL: {args.url}")
    if args.max_pages < 1:
        raise ConfigError("--max-pages must be at least 1")
    overrides.update({"GENERIC_START_URL": args.url, "GENERIC_MAX_LIST_PAGES": args.max_pages})
    return _run_and_report([GenericSpider], args.db, overrides, args.log_level)
