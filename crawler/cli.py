"""The `crawler` command: demo, crawl, extract.

Exit codes: 0 success; 1 a site's crawl failed or a file could not be extracted; 2 bad
arguments; 3 bad configuration (unknown site, unusable database).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CONFIG = 0, 1, 2, 3
DEFAULT_DB = "output/articles.db"
DEMO_DB = "output/demo.db"


class ConfigError(Exception):
    """A problem in what the operator asked for, reported as one line."""


def _formatter(prog):
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crawler", formatter_class=_formatter,
        description="Crawl Chinese government and portal news into one deduplicated SQLite file.",
        epilog="Exit codes: 0 ok, 1 a site failed, 2 bad arguments, 3 bad configuration.\n"
               "Run `crawler COMMAND --help` for each command's options and an example.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = commands.add_parser(
        "demo", formatter_class=_formatter, help="serve the bundled demo sites on 127.0.0.1 and crawl them all",
        description="Start the demo web server on a free loopback port, crawl every demo site through it,\n"
                    "stop the server and print one line per site. Running it again adds no rows.",
        epilog="example:\n  crawler demo --db output/demo.db")
    demo.add_argument("--db", default=DEMO_DB, help=f"SQLite file to write (default: {DEMO_DB})")
    demo.add_argument("--log-level", default="WARNING", help="Scrapy log level on stderr (default: WARNING)")

    crawl = commands.add_parser(
        "crawl", formatter_class=_formatter, help="crawl configured sites incrementally",
        description="Crawl the named site modules (see `spiders/`), or all of them. Articles already\n"
                    "stored are not requested again.\n"
                    "With --url, crawl a site that has no module from one of its list pages: article links\n"
                    "are recognised by their URLs (t20220817_1.html, art_1_2.html, content_3.htm, dated\n"
                    "folders) or long Chinese anchors, pagination by index_N.html or 下一页, on that host only,\n"
                    "and articles are extracted by the generic chain; the site is named after the host.",
        epilog="examples:\n  crawler crawl investchn huaian --db output/articles.db\n  crawler crawl --all\n"
               "  crawler crawl --url http://www.example.gov.cn/xwzx/zwdt/ --max-pages 3")
    crawl.add_argument("sites", nargs="*", metavar="SITE", help="site names (the `name` of a spiders/ module)")
    crawl.add_argument("--all", action="store_true", help="crawl every site module")
    crawl.add_argument("--url", metavar="START_URL", help="crawl the site of this list page without a site module")
    crawl.add_argument("--max-pages", type=int, default=5, metavar="N",
                       help="with --url: follow at most N list pages, the first included (default: 5)")
    crawl.add_argument("--proxy", metavar="URL", help="send every request through this HTTP proxy")
    crawl.add_argument("--db", default=DEFAULT_DB, help=f"SQLite file to write (default: {DEFAULT_DB})")
    crawl.add_argument("--log-level", default="WARNING", help="Scrapy log level on stderr (default: WARNING)")

    extract = commands.add_parser(
        "extract", formatter_class=_formatter, help="extract articles from saved page files, as JSON lines",
        description="Read raw page bytes (any encoding) and print one JSON object per file, in order, with\n"
                    "file, url, site, extractor, title, published, source, author, summary, body, script.\n"
                    "The site is --site, else the one whose domain matches --url, else the generic chain.\n"
                    "A file that cannot be read gives a line with an `error` field and exit code 1.",
        epilog="example:\n  crawler extract --url http://www.investchn.test/kfqnews/taizhou/20220718/i0718.html page.html")
    extract.add_argument("files", nargs="+", metavar="FILE", help="saved page files")
    extract.add_argument("--url", default="", help="the URL the page(s) came from")
    extract.add_argument("--site", help="use this site module's extractor")
    return parser


# --- commands ----------------------------------------------------------------------------------
def _sites_by_name(names: list[str]) -> list[type]:
    from crawler.site import site_classes

    known = site_classes()
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ConfigError(f"unknown site(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    return [known[name] for name in names]


def _print_runs(runs: list[dict]) -> None:
    columns = ("site", "status", "pages_fetched", "articles_new", "duplicates", "skipped_known", "errors")
    headers = ("site", "status", "pages", "new", "duplicates", "skipped", "errors")
    rows = [[str(run.get(c) if run.get(c) is not None else "") for c in columns] for run in runs]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)] if rows else [len(h) for h in headers]
    for line in [headers, *rows]:
        print("  ".join(value.ljust(width) for value, width in zip(line, widths)).rstrip())


def _run_and_report(spiders: list[type], db: str, overrides: dict) -> int:
    from crawler.runner import crawl

    runs = crawl(spiders, db, overrides)
    _print_runs(runs)
    failed = [run["site"] for run in runs if run["status"] != "ok" and run["status"] != "partial"]
    print(f"database: {db}")
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
            "PROXY_URL": server.url, "LOG_LEVEL": args.log_level,
            # Our own server on loopback: no need to pace requests.
            "AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
        }
        return _run_and_report(spiders, args.db, overrides)


def cmd_crawl(args) -> int:
    from crawler.site import site_classes

    overrides = {"LOG_LEVEL": args.log_level, **({"PROXY_URL": args.proxy} if args.proxy else {})}
    if args.url:
        return _crawl_url(args, overrides)
    if args.all == bool(args.sites):
        raise ConfigError("name the sites to crawl, or pass --all (not both)")
    names = sorted(site_classes()) if args.all else args.sites
    return _run_and_report(_sites_by_name(names), args.db, overrides)


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
    return _run_and_report([GenericSpider], args.db, overrides)


def cmd_extract(args) -> int:
    from crawler.items import Page
    from crawler.process import record_of
    from crawler.site import site_for_url

    site = _sites_by_name([args.site])[0] if args.site else site_for_url(args.url) if args.url else None
    status = EXIT_OK
    for name in args.files:
        try:
            record = record_of(Page(url=args.url, site=getattr(site, "name", None), body=Path(name).read_bytes()), site)
            out = {"file": name, **{k: record[k] for k in
                                    ("url", "site", "extractor", "title", "published", "source", "author",
                                     "summary", "body", "script")}}
        except Exception as exc:  # one bad file must not stop the others
            out, status = {"file": name, "error": f"{type(exc).__name__}: {exc}"}, EXIT_FAILED
        print(json.dumps(out, ensure_ascii=False), flush=True)
    return status


COMMANDS = {"demo": cmd_demo, "crawl": cmd_crawl, "extract": cmd_extract}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from crawler.store import StoreError

    try:
        return COMMANDS[args.command](args)
    except (ConfigError, StoreError) as exc:
        print(f"crawler {args.command}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        print(f"crawler {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
