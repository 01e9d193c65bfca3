"""`crawler demo` and `crawler crawl`: local crawls into one SQLite file, with a table per run."""
from __future__ import annotations

import json
import sys

from crawler.commands.options import (DEMO_DB, EXIT_CONFIG, EXIT_FAILED, EXIT_OK, ConfigError, add_command,
                                      add_db, add_log_level, count, sites_by_name)


def register(commands) -> None:
    demo = add_command(
        commands, "demo", handler=cmd_demo, help="serve the bundled demo sites on 127.0.0.1 and crawl them all",
        description="Start the demo web server on a free loopback port, crawl every demo site through it,\n"
                    "stop the server and print one line per site. Running it again adds no rows.\n"
                    "Two demo sites need a browser (/usr/bin/chromium, `make browser-deps`); where there is\n"
                    "none, they are skipped with a one-line reason.",
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
                    "folders such as /2021/1/4/, articleinfo-373.html) or long Chinese anchors, on that host\n"
                    "only, and articles are extracted by the generic chain; the site is named after the host.\n"
                    "Pagers followed (a site module names one as next_page; --url finds it by itself, and\n"
                    "the summary's pager column says which): link (下一页/next/> links, also in onclick),\n"
                    "trs (TRS createPageHTML/countPage/Pager scripts: index_1.html...), hanweb (大汉 jpage\n"
                    "XML records, then /module/web/jpage/dataproxy.jsp), select (跳转 box), numbered\n"
                    "(index_2.html, list_2.html, ?page=N/pageIndex=/PageNo= links), form (跳转 form); a site\n"
                    "module may also give a URL template (index_{i}.html, list.jsp?page={n}), a selector,\n"
                    "or a JSON list endpoint with JMESPath expressions (see docs/operators.md, Pagers).\n"
                    "Sites that need a browser (`render = True` in their module, or --url with --render) are\n"
                    "drawn by Debian's Chromium (`make browser-deps`); with --all, such a site is skipped in\n"
                    "one line where the browser is missing (exit code 3), named alone it is a config error.",
        epilog="examples:\n  crawler crawl investchn huaian --db output/articles.db\n  crawler crawl --all"
               " --max-list-pages 20\n  crawler crawl --url http://www.example.gov.cn/xwzx/zwdt/ --max-pages 3\n"
               "  crawler crawl --url http://www.example.gov.cn/xwdt/ --render     (report said: needs a browser)")
    crawl.add_argument("sites", nargs="*", metavar="SITE", help="site names (the `name` of a spiders/ module)")
    crawl.add_argument("--all", action="store_true", help="crawl every site module")
    crawl.add_argument("--url", metavar="START_URL", help="crawl the site of this list page without a site module")
    crawl.add_argument("--max-pages", type=int, default=5, metavar="N",
                       help="with --url: follow at most N list pages, the first included (default: 5)")
    crawl.add_argument("--render", nargs="?", const="all", choices=("all", "lists"),
                       help="with --url: draw the pages in a browser, all of them (default) or list pages only;\n"
                            "for a site whose lists are drawn by script or that answers with a script challenge")
    crawl.add_argument("--proxy", metavar="URL", help="send every request through this HTTP proxy")
    add_db(crawl)
    add_log_level(crawl, note="; the log file gets INFO")
    crawl.add_argument("--max-list-pages", type=count, default=0, metavar="N",
                       help="page through at most N list pages per site, e.g. on a first run (default: 0, no limit)")


def _print_runs(runs: list[dict]) -> None:
    from crawler.report.table import format_table

    columns = ("site", "status", "pages_fetched", "list_pages_not_modified", "articles_new", "duplicates",
               "skipped_known", "errors")
    headers = ("site", "status", "pages", "not_modified", "new", "duplicates", "skipped", "errors", "pager")
    rows = [[str(run.get(c) if run.get(c) is not None else "") for c in columns] + [_pagers(run)] for run in runs]
    print(format_table(list(headers), rows))


def _pagers(run: dict) -> str:
    """The pagers that found the run's next list pages (crawler.sites.pagers), "-" for none."""
    return ",".join(sorted(json.loads(run.get("pagers") or "{}"))) or "-"


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
    from crawler.demo.scripted import SCRIPTED_SITES
    from crawler.demo.server import DemoServer
    from crawler.demo.sites import SITES

    spiders, _ = _without_browser(sites_by_name([*SITES, *SCRIPTED_SITES]))
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
    if args.render:
        raise ConfigError("--render goes with --url; a site module says `render = True` itself")
    if args.all == bool(args.sites):
        raise ConfigError("name the sites to crawl, or pass --all (not both)")
    broken = broken_site_modules() if args.all else {}
    for module, reason in broken.items():  # the other sites still crawl
        print(f"crawler crawl: site module {module} cannot be loaded, skipped: {reason}", file=sys.stderr)
    names = sorted(site_classes()) if args.all else args.sites
    spiders = sites_by_name(names)
    if args.all:  # the other sites still crawl
        spiders, unrenderable = _without_browser(spiders)
    else:
        unrenderable = []
        if any(spider.render for spider in spiders):
            _check_browser()
    status = _run_and_report(spiders, args.db, {**overrides, "CRAWLER_MAX_LIST_PAGES": args.max_list_pages},
                             args.log_level) if spiders else EXIT_OK
    return EXIT_CONFIG if broken or unrenderable else status


def _browser_missing() -> str | None:
    from scrapy.utils.project import get_project_settings

    from crawler.sites.spider import browser_missing

    return browser_missing(get_project_settings())


def _check_browser() -> None:
    missing = _browser_missing()
    if missing:
        raise ConfigError(f"rendering needs a browser, and {missing}")


def _without_browser(spiders: list[type]) -> tuple[list[type], list[type]]:
    """(the spiders that can crawl on this machine, the rendering ones left out because the
    browser is missing: each reported in one line)."""
    missing = _browser_missing()
    skipped = [spider for spider in spiders if spider.render] if missing else []
    for spider in skipped:
        print(f"crawler: site {spider.name} needs a browser (render = {spider.render!r}) and {missing}: skipped",
              file=sys.stderr)
    return [spider for spider in spiders if spider not in skipped], skipped


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
    if args.render:
        _check_browser()
    overrides.update({"GENERIC_START_URL": args.url, "GENERIC_MAX_LIST_PAGES": args.max_pages,
                      "GENERIC_RENDER": args.render})
    return _run_and_report([GenericSpider], args.db, overrides, args.log_level)
