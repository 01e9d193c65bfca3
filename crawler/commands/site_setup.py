"""`crawler new-site` and `crawler fixture save`: an operator's tools for adding a site."""
from __future__ import annotations

import os
import sys

from crawler.commands.options import EXIT_FAILED, EXIT_OK, ConfigError, add_command, sites_by_name


def register(commands) -> None:
    new_site = add_command(
        commands, "new-site", handler=cmd_new_site, help="scaffold a site module and its fixture folder",
        description="Write spiders/NAME.py (a site module to fill in with selectors) and tests/sites/NAME/\n"
                    "(its fixture folder, picked up by the fixture test) from crawler/sites/templates/.\n"
                    "Run it in the project folder. Refuses a name that is taken or not a Python identifier.",
        epilog="example:\n  crawler new-site duodao http://www.duodao.gov.test/xwzx/gzdt/")
    new_site.add_argument("name", metavar="NAME", help="the site's name: a Python identifier, e.g. duodao")
    new_site.add_argument("start_url", metavar="START_URL", help="the first list page to crawl; its host becomes the allowed domain")

    fixture = add_command(
        commands, "fixture", handler=None, help="record test fixtures of a site",
        description="Fixtures are pages of a site saved byte for byte with the record the site module must\n"
                    "produce from them; tests/test_site_fixtures.py checks all of them.",
        epilog="example:\n  crawler fixture save http://www.investchn.test/kfqnews/taizhou/20220718/i0718.html --site investchn")
    actions = fixture.add_subparsers(dest="fixture_command", metavar="ACTION", required=True)
    save = add_command(
        actions, "save", handler=cmd_fixture_save, help="fetch a page and save it with its current record",
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


def cmd_new_site(args) -> int:
    from crawler.sites.scaffold import ScaffoldError, current_project, new_site
    from crawler.sites.spider import site_classes

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


def cmd_fixture_save(args) -> int:
    from scrapy.utils.project import get_project_settings

    from crawler.chain.process import record_of
    from crawler.sites.fixtures import FetchError, Fixture, fetch, page_name, review_warnings, save
    from crawler.sites.scaffold import ScaffoldError, current_project
    from crawler.sites.spider import site_for_url

    site = sites_by_name([args.site])[0] if args.site else site_for_url(args.url)
    if site is None:
        raise ConfigError(f"no site module covers {args.url}; name one with --site")
    try:
        project = current_project()
    except ScaffoldError as exc:
        raise ConfigError(str(exc)) from exc
    if site.render:  # said first: a challenge page fails the fetch below
        print(f"warning: {site.name} has render = {site.render!r}, and fixture save fetches plain HTTP, not the page as "
              "the browser draws it; take the page from a crawl's raw_pages instead (docs/operators.md, "
              "Sites that need a browser)", file=sys.stderr)
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
