"""The `crawler` command: demo, crawl, report, extract, new-site, fixture save, reextract,
worker, writer, serve, ingest.

Exit codes: 0 success; 1 a site's crawl failed or was interrupted, a file could not be
extracted, `report` flagged a site, a page could not be fetched (fixture save) or re-extracted
(reextract), or an ingested file could not be read or had rejected lines; 2 bad arguments; 3 bad configuration (unknown site, a site module that cannot be
loaded, unusable database: bad path, not writable, disk full; a site name that is taken or
invalid, unreachable Redis, missing database or busy port for serve); 4 another crawl is
writing the same database (nothing was done).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CONFIG, EXIT_LOCKED = 0, 1, 2, 3, 4
DEFAULT_DB = "output/articles.db"
DEMO_DB = "output/demo.db"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """A problem in what the operator asked for, reported as one line."""


def _formatter(prog):
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32)


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"not a whole number >= 0: {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crawler", formatter_class=_formatter,
        description="Crawl Chinese government and portal news into one deduplicated SQLite file.",
        epilog="Exit codes: 0 ok, 1 a site failed (or was flagged by report, or input was rejected), 2 bad arguments,\n"
               "3 bad configuration, 4 another crawl is writing the same database.\n"
               "Run `crawler COMMAND --help` for each command's options and an example.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = commands.add_parser(
        "demo", formatter_class=_formatter, help="serve the bundled demo sites on 127.0.0.1 and crawl them all",
        description="Start the demo web server on a free loopback port, crawl every demo site through it,\n"
                    "stop the server and print one line per site. Running it again adds no rows.",
        epilog="example:\n  crawler demo --db output/demo.db")
    demo.add_argument("--db", default=DEMO_DB, help=f"SQLite file to write (default: {DEMO_DB})")
    demo.add_argument("--log-level", default="WARNING", type=str.upper, choices=LOG_LEVELS,
                      help="Scrapy log level on stderr (default: WARNING)")

    crawl = commands.add_parser(
        "crawl", formatter_class=_formatter, help="crawl configured sites incrementally",
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
    crawl.add_argument("--db", default=DEFAULT_DB, help=f"SQLite file to write (default: {DEFAULT_DB})")
    crawl.add_argument("--log-level", default="WARNING", type=str.upper, choices=LOG_LEVELS,
                       help="Scrapy log level on stderr; the log file gets INFO (default: WARNING)")
    crawl.add_argument("--max-list-pages", type=_count, default=0, metavar="N",
                       help="page through at most N list pages per site, e.g. on a first run (default: 0, no limit)")

    report = commands.add_parser(
        "report", formatter_class=_formatter, help="per-site health of recent crawls; exit 1 if a site looks broken",
        description="Show each site's recent runs and flag sites that look broken: no article links found\n"
                    "where there used to be some (layout change, blocked), a jump in empty bodies, missing\n"
                    "dates or extractor fallbacks, repeated HTTP errors, a failed last run. Exit code 1 when\n"
                    "any site is flagged, so that cron mail or systemd's OnFailure= alerts someone.",
        epilog="examples:\n  crawler report --db output/articles.db --since 3\n  crawler report --json | jq .flagged")
    report.add_argument("--db", default=DEFAULT_DB, help=f"SQLite file to read (default: {DEFAULT_DB})")
    report.add_argument("--since", type=_count, default=7, metavar="DAYS", help="runs of the last DAYS days (default: 7)")
    report.add_argument("--json", action="store_true", help="print the report as one JSON object")

    extract = commands.add_parser(
        "extract", formatter_class=_formatter, help="extract articles from saved page files, as JSON lines",
        description="Read raw page bytes (any encoding) and print one JSON object per file, in order, with\n"
                    "file, url, site, extractor, title, published, source, author, summary, body, script.\n"
                    "The site is --site, else the one whose domain matches --url, else the generic chain.\n"
                    "A file that cannot be read gives a line with an `error` field and exit code 1.",
        epilog="examples:\n  crawler extract --url http://www.investchn.test/kfqnews/taizhou/20220718/i0718.html page.html\n"
               "  crawler extract --jobs 2 saved/*.html > records.jsonl")
    extract.add_argument("files", nargs="+", metavar="FILE", help="saved page files")
    extract.add_argument("--url", default="", help="the URL the page(s) came from")
    extract.add_argument("--site", help="use this site module's extractor")
    extract.add_argument("--jobs", type=_count, default=0, metavar="N",
                         help="extract in N processes, output still in order (default: 0, one per CPU core)")

    new_site = commands.add_parser(
        "new-site", formatter_class=_formatter, help="scaffold a site module and its fixture folder",
        description="Write spiders/NAME.py (a site module to fill in with selectors) and tests/sites/NAME/\n"
                    "(its fixture folder, picked up by the fixture test) from crawler/templates/.\n"
                    "Run it in the project folder. Refuses a name that is taken or not a Python identifier.",
        epilog="example:\n  crawler new-site duodao http://www.duodao.gov.test/xwzx/gzdt/")
    new_site.add_argument("name", metavar="NAME", help="the site's name: a Python identifier, e.g. duodao")
    new_site.add_argument("start_url", metavar="START_URL", help="the first list page to crawl; its host becomes the allowed domain")

    fixture = commands.add_parser(
        "fixture", formatter_class=_formatter, help="record test fixtures of a site",
        description="Fixtures are pages of a site saved byte for byte with the record the site module must\n"
                    "produce from them; tests/test_site_fixtures.py checks all of them.",
        epilog="example:\n  crawler fixture save http://www.investchn.test/kfqnews/taizhou/20220718/i0718.html --site investchn")
    fixture_commands = fixture.add_subparsers(dest="fixture_command", metavar="ACTION", required=True)
    save = fixture_commands.add_parser(
        "save", formatter_class=_formatter, help="fetch a page and save it with its current record",
        description="Fetch URL once and write tests/sites/SITE/PAGE.html (the bytes as served),\n"
                    "PAGE.meta.json (URL, Content-Type, fetch time) and PAGE.expected.json (what the site\n"
                    "module extracts now). Review PAGE.expected.json before committing it: it becomes the\n"
                    "truth the fixture test holds the site module to. Saving again overwrites the page.",
        epilog="examples:\n"
               "  crawler fixture save http://www.investchn.test/kfqnews/taizhou/20220718/i0718.html --site investchn\n"
               "  crawler fixture save http://www.czgx.test/news/c0226.shtml --name seed --proxy http://127.0.0.1:8000")
    save.add_argument("url", metavar="URL", help="the article page to record")
    save.add_argument("--site", help="the site module (default: the one whose domain matches URL)")
    save.add_argument("--name", help="file name of the page (default: the URL's last path segment)")
    save.add_argument("--proxy", help="fetch through this HTTP proxy, e.g. the demo server's URL")

    reextract = commands.add_parser(
        "reextract", formatter_class=_formatter, help="re-run the extractors over stored pages, updating rows",
        description="Run the current site modules over the raw pages kept in the database (no HTTP request)\n"
                    "and update each article whose fields change: title, published, source, author, summary,\n"
                    "body, script, content_hash, extractor. Articles keep their id and their duplicates.\n"
                    "A page that yields no body now is left as it was and reported (exit code 1).",
        epilog="example (after fixing a selector in spiders/investchn.py):\n"
               "  crawler reextract --site investchn --db output/articles.db --jobs 4")
    reextract.add_argument("--site", help="only this site's articles (default: all)")
    reextract.add_argument("--db", default=DEFAULT_DB, help=f"SQLite file to update (default: {DEFAULT_DB})")
    reextract.add_argument("--jobs", type=_count, default=0, metavar="N",
                           help="extract in N processes (default: 0, one per CPU core)")

    worker = commands.add_parser(
        "worker", formatter_class=_formatter, help="crawl as one of many workers sharing a Redis frontier",
        description="Crawl the named sites with the frontier and seen-request filter in Redis (scrapy-redis),\n"
                    "shared by any number of workers on any hosts. Pages are extracted and cleaned here and\n"
                    "their records sent to `crawler writer`, which alone writes SQLite. A worker killed at\n"
                    "any moment loses nothing: restarted with the same --name, it takes back what it held.",
        epilog="examples:\n  crawler worker --all --redis redis://127.0.0.1:6379/0 --name host1-1 --db output/articles.db\n"
               "  crawler worker huaian czgx --redis redis://10.0.0.5:6379/0 --idle-exit 60 -s DOWNLOAD_DELAY=1")
    worker.add_argument("sites", nargs="*", metavar="SITE", help="site names (the `name` of a spiders/ module)")
    worker.add_argument("--all", action="store_true", help="crawl every site module")
    worker.add_argument("--redis", required=True, metavar="URL", help="the shared Redis, e.g. redis://127.0.0.1:6379/0")
    worker.add_argument("--name", help="this worker's name, stable across restarts (default: host and start time)")
    worker.add_argument("--db", help="the store (or a copy of it), read to skip known articles before requesting them")
    worker.add_argument("--idle-exit", type=float, default=0, metavar="SECONDS",
                        help="leave after the frontier has been empty this long (default: 0, run until stopped)")
    worker.add_argument("-s", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                        help="a Scrapy setting, e.g. -s CONCURRENT_REQUESTS_PER_DOMAIN=2 (repeatable)")
    worker.add_argument("--log-level", default="WARNING", help="Scrapy log level on stderr (default: WARNING)")

    writer = commands.add_parser(
        "writer", formatter_class=_formatter, help="write the records of all workers into SQLite",
        description="Read the records the workers send through Redis, deduplicate them against the store and\n"
                    "write them, acknowledging each only after it is committed. Runs until stopped (SIGTERM,\n"
                    "SIGINT) or --idle-exit; restarted after a kill it takes back what it held.",
        epilog="example:\n  crawler writer --db output/articles.db --redis redis://127.0.0.1:6379/0")
    writer.add_argument("--redis", required=True, metavar="URL", help="the shared Redis, e.g. redis://127.0.0.1:6379/0")
    writer.add_argument("--db", default=DEFAULT_DB, help=f"SQLite file to write (default: {DEFAULT_DB})")
    writer.add_argument("--idle-exit", type=float, default=0, metavar="SECONDS",
                        help="leave after no record came for this long (default: 0, run until stopped)")

    serve = commands.add_parser(
        "serve", formatter_class=_formatter, help="browse, search and watch the store in a browser (Datasette)",
        description="Serve the store read-only with Datasette on 127.0.0.1: tables with facets, Chinese\n"
                    "full-text search (any substring), canned queries and a health dashboard at\n"
                    "/-/dashboards/health. Safe next to a running crawl; reload to see new articles.\n"
                    "The schema is migrated first if the file is older than this crawler.",
        epilog="example:\n  crawler serve --db output/demo.db --port 8001   # then open http://127.0.0.1:8001/")
    serve.add_argument("--db", default=DEFAULT_DB, help=f"SQLite file to serve (default: {DEFAULT_DB})")
    serve.add_argument("--port", type=int, default=8001, help="port on 127.0.0.1 (default: 8001; 0: any free port)")

    ingest = commands.add_parser(
        "ingest", formatter_class=_formatter, help="store article records from a JSON-lines file, deduplicated",
        description="Read one article record per line (the fields of `crawler extract`: url, site, extractor,\n"
                    "title, published, source, author, summary, body, script; fetched_at optional) and put\n"
                    "each through the same cleaning, duplicate check and store as a crawled page. Prints\n"
                    "how many were new, duplicates (exact or near) of stored articles, already stored\n"
                    "(same URL) or rejected. A malformed line, or one without url or body, is reported on\n"
                    "stderr with its line number and skipped; the exit code is then 1. FILE `-` is stdin.",
        epilog="examples:\n  crawler ingest shard-01.jsonl --db output/articles.db\n"
               "  crawler extract --url http://www.investchn.test/a.html a.html | crawler ingest -")
    ingest.add_argument("file", metavar="FILE.jsonl", help="JSON-lines file of article records, or - for stdin")
    ingest.add_argument("--db", default=DEFAULT_DB, help=f"SQLite file to write (default: {DEFAULT_DB})")
    return parser


# --- commands ----------------------------------------------------------------------------------
def _sites_by_name(names: list[str]) -> list[type]:
    from crawler.site import site_classes

    known = site_classes()
    unknown = [name for name in names if name not in known]
    if unknown:
        from crawler.siteloader import broken_site_modules

        broken = broken_site_modules()
        hint = f"; cannot be loaded: {', '.join(broken)}" if broken else ""
        raise ConfigError(f"unknown site(s): {', '.join(unknown)} (known: {', '.join(sorted(known))}{hint})")
    return [known[name] for name in names]


def _print_runs(runs: list[dict]) -> None:
    columns = ("site", "status", "pages_fetched", "articles_new", "duplicates", "skipped_known", "errors")
    headers = ("site", "status", "pages", "new", "duplicates", "skipped", "errors")
    from crawler.table import format_table

    rows = [[str(run.get(c) if run.get(c) is not None else "") for c in columns] for run in runs]
    print(format_table(list(headers), rows))


def _run_and_report(spiders: list[type], db: str, overrides: dict, log_level: str) -> int:
    from crawler.runner import crawl
    from crawler.store import StoreError, shared_store

    runs = crawl(spiders, db, overrides, stderr_level=log_level)
    _print_runs(runs)
    if shared_store(db).failure:  # the disk filled up mid-crawl: what was stored is intact
        raise StoreError(shared_store(db).failure)
    failed = [run["site"] for run in runs if run["status"] != "ok" and run["status"] != "partial"]
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

    spiders = _sites_by_name(list(SITES))
    with DemoServer() as server:
        overrides = {
            "PROXY_URL": server.url,
            # Our own server on loopback: no need to pace requests.
            "AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
        }
        return _run_and_report(spiders, args.db, overrides, args.log_level)


def cmd_crawl(args) -> int:
    from crawler.site import site_classes
    from crawler.siteloader import broken_site_modules

    overrides = {"PROXY_URL": args.proxy} if args.proxy else {}
    if args.url:
        return _crawl_url(args, overrides)
    if args.all == bool(args.sites):
        raise ConfigError("name the sites to crawl, or pass --all (not both)")
    broken = broken_site_modules() if args.all else {}
    for module, reason in broken.items():  # the other sites still crawl
        print(f"crawler crawl: site module {module} cannot be loaded, skipped: {reason}", file=sys.stderr)
    names = sorted(site_classes()) if args.all else args.sites
    status = _run_and_report(_sites_by_name(names), args.db,
                             {**overrides, "CRAWLER_MAX_LIST_PAGES": args.max_list_pages}, args.log_level) if names else EXIT_OK
    return EXIT_CONFIG if broken else status


def _crawl_url(args, overrides: dict) -> int:
    from urllib.parse import urlsplit

    from crawler.generic import GenericSpider

    if args.sites or args.all:
        raise ConfigError("--url crawls one site without a module: do not name sites or pass --all with it")
    parts = urlsplit(args.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"not an http(s) URL: {args.url}")
    if args.max_pages < 1:
        raise ConfigError("--max-pages must be at least 1")
    overrides.update({"GENERIC_START_URL": args.url, "GENERIC_MAX_LIST_PAGES": args.max_pages})
    return _run_and_report([GenericSpider], args.db, overrides, args.log_level)


def cmd_extract(args) -> int:
    from crawler.items import Page
    from crawler.site import site_for_url
    from crawler.workers import cores, results_in_order

    site = _sites_by_name([args.site])[0] if args.site else site_for_url(args.url) if args.url else None

    def pages():
        for name in args.files:
            try:
                yield Page(url=args.url, site=getattr(site, "name", None), body=Path(name).read_bytes()), site
            except OSError as exc:  # reported in its place, in order
                yield exc, site

    status = EXIT_OK
    for name, record in zip(args.files, results_in_order(pages(), min(args.jobs or cores(), len(args.files)))):
        if isinstance(record, Exception):  # one bad file must not stop the others
            out, status = {"file": name, "error": f"{type(record).__name__}: {record}"}, EXIT_FAILED
        else:
            out = {"file": name, **{k: record[k] for k in
                                    ("url", "site", "extractor", "title", "published", "source", "author",
                                     "summary", "body", "script")}}
        print(json.dumps(out, ensure_ascii=False), flush=True)
    return status


def cmd_new_site(args) -> int:
    from crawler.scaffold import ScaffoldError, current_project, new_site
    from crawler.site import site_classes

    try:
        written = new_site(current_project(), args.name, args.start_url, set(site_classes()))
    except ScaffoldError as exc:
        raise ConfigError(str(exc)) from exc
    for path in written:
        print(f"wrote {os.path.relpath(path)}")
    print(f"next: fill in the selectors of {written[0].name}, then\n"
          f"  crawler fixture save ARTICLE_URL --site {args.name}\n"
          f"  python -m pytest tests/test_site_fixtures.py -k {args.name}")
    return EXIT_OK


def cmd_fixture(args) -> int:
    from scrapy.utils.project import get_project_settings

    from crawler.fixtures import FetchError, Fixture, fetch, page_name, review_warnings, save
    from crawler.process import record_of
    from crawler.scaffold import ScaffoldError, current_project
    from crawler.site import site_for_url

    site = _sites_by_name([args.site])[0] if args.site else site_for_url(args.url)
    if site is None:
        raise ConfigError(f"no site module covers {args.url}; name one with --site")
    try:
        project = current_project()
    except ScaffoldError as exc:
        raise ConfigError(str(exc)) from exc
    try:
        page = fetch(args.url, get_project_settings()["USER_AGENT"], proxy=args.proxy)
    except FetchError as exc:
        print(f"crawler fixture: {exc}", file=sys.stderr)
        return EXIT_FAILED
    page.site = site.name
    record = record_of(page, site)
    fixture = Fixture(site.name, args.name or page_name(page.url), project.fixtures / site.name)
    save(fixture, page, record)
    print(f"saved {os.path.relpath(fixture.html)} ({len(page.body)} bytes, {page.content_type or 'no Content-Type'})")
    print(f"expected record: {os.path.relpath(fixture.expected)} (title: {record['title']}; "
          f"{record['body'].count(chr(10)) + 1 if record['body'] else 0} paragraphs) - review it before committing")
    for warning in review_warnings(record, site.name):
        print(f"warning: {warning}", file=sys.stderr)
    return EXIT_OK


def cmd_reextract(args) -> int:
    from crawler.reextract import reextract
    from crawler.site import site_classes
    from crawler.store import Store

    if not Path(args.db).is_file():
        raise ConfigError(f"no database at {args.db}")
    sites = site_classes()
    store = Store(args.db)
    try:
        if args.site and args.site not in sites and not store.stored_ids(args.site):
            raise ConfigError(f"unknown site: {args.site} (known: {', '.join(sorted(sites))})")
        from crawler.workers import cores

        report = reextract(store, sites, args.site, jobs=args.jobs or cores())
    finally:
        store.close()
    width = max([4, *(len(name) for name in report.examined)])
    print(f"{'site'.ljust(width)}  pages  changed")
    for name in sorted(report.examined):
        print(f"{name.ljust(width)}  {report.examined[name]:<5}  {report.changed[name]}")
    if report.fields:
        print("fields changed: " + ", ".join(f"{name} {count}" for name, count in sorted(report.fields.items())))
    print(f"changed {sum(report.changed.values())} of {sum(report.examined.values())} articles in {args.db}")
    for name, count in sorted(report.generic.items()):
        print(f"note: {name} has no site module; its {count} articles went through the generic chain")
    for article_id, other in report.same_body_as:
        print(f"note: article {article_id} now has the same body as article {other}; both are kept")
    for failure in report.failed:
        print(f"failed: {failure}", file=sys.stderr)
    return EXIT_FAILED if report.failed else EXIT_OK



def cmd_report(args) -> int:
    from crawler.health import load_runs, print_report, site_reports

    reports = site_reports(load_runs(args.db, args.since))
    flagged = [r["site"] for r in reports if r["flags"]]
    if args.json:
        print(json.dumps({"db": args.db, "since_days": args.since, "sites": reports, "flagged": flagged},
                         ensure_ascii=False, indent=1))
    else:
        print_report(reports, args.since)
    return EXIT_FAILED if flagged else EXIT_OK


def _redis(url: str):
    import redis

    from crawler.distributed import connect

    try:
        return connect(url)
    except (redis.RedisError, ValueError) as exc:
        raise ConfigError(f"cannot reach Redis at {url}: {exc}") from exc


def cmd_worker(args) -> int:
    from crawler.distributed import default_worker_name, run_workers, worker_settings
    from crawler.site import site_classes

    if args.all == bool(args.sites):
        raise ConfigError("name the sites to crawl, or pass --all (not both)")
    spiders = _sites_by_name(sorted(site_classes()) if args.all else args.sites)
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
    from crawler.distributed import Writer
    from crawler.store import Store

    import redis

    writer = Writer(Store(args.db), _redis(args.redis))
    try:
        writer.run(args.idle_exit)
    except redis.RedisError as exc:  # what was not acknowledged is delivered again after a restart
        print(f"crawler writer: lost Redis at {args.redis}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        print("  ".join(f"{kind} {count}" for kind, count in writer.counts.items()))
    return EXIT_OK


def cmd_serve(args) -> int:
    from crawler.serve import DASHBOARD, listen, serve
    from crawler.store import Store

    db = Path(args.db)
    if not db.is_file():
        raise ConfigError(f"no database at {db} (create one with `crawler demo` or `crawler crawl`)")
    Store(db).close()  # bring an older file up to date (search index) before serving it read-only
    try:
        sock = listen(args.port)
    except OSError as exc:
        raise ConfigError(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror}") from exc
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    print(f"serving {db} read-only at {url}/{db.stem} (dashboard: {url}/-/dashboards/{DASHBOARD}); "
          "Ctrl-C to stop", flush=True)
    serve(db, sock)
    return EXIT_OK


def ingest_summary(counts) -> str:
    return (f"{counts['records']} records: {counts['new']} new, {counts['exact'] + counts['near']} duplicates "
            f"({counts['exact']} exact, {counts['near']} near), {counts['known']} already stored, "
            f"{counts['rejected']} rejected")


def cmd_ingest(args) -> int:
    from crawler.ingest import ingest
    from crawler.store import Store

    started, on_terminal = time.monotonic(), sys.stderr.isatty()
    clear = "\r\x1b[2K" if on_terminal else ""  # the progress line, if drawn, makes way

    def reject(number: int, reason: str) -> None:
        print(f"{clear}{args.file}:{number}: {reason}", file=sys.stderr)

    def committed(counts) -> None:
        """How far a long import is, redrawn after each batch; on a terminal only."""
        if on_terminal:
            rate = counts["records"] / max(time.monotonic() - started, 1e-3)
            sys.stderr.write(f"{clear}{ingest_summary(counts)} ({rate:,.0f} records/s)")
            sys.stderr.flush()

    try:
        lines = sys.stdin.buffer if args.file == "-" else open(args.file, "rb")
    except OSError as exc:
        print(f"crawler ingest: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_FAILED
    store = Store(args.db)
    try:
        with lines:
            counts = ingest(store, lines, reject, committed)
    finally:
        store.close()
        sys.stderr.write(clear)
    print(ingest_summary(counts))
    print(f"database: {args.db}")
    return EXIT_FAILED if counts["rejected"] else EXIT_OK


COMMANDS = {"demo": cmd_demo, "crawl": cmd_crawl, "report": cmd_report, "extract": cmd_extract,
            "new-site": cmd_new_site, "fixture": cmd_fixture, "reextract": cmd_reextract,
            "worker": cmd_worker, "writer": cmd_writer, "serve": cmd_serve, "ingest": cmd_ingest}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from crawler.lock import Locked
    from crawler.store import StoreError

    try:
        return COMMANDS[args.command](args)
    except (ConfigError, StoreError) as exc:
        print(f"crawler {args.command}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except Locked as exc:
        print(f"crawler {args.command}: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except KeyboardInterrupt:
        print(f"crawler {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
