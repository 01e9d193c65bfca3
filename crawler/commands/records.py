"""`crawler extract`, `crawler reextract` and `crawler ingest`: the article chain without a crawl,
over saved page files, over the raw pages in the store, and over JSON-lines records."""
from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path

from crawler.commands.options import (EXIT_FAILED, EXIT_OK, ConfigError, add_command, add_db, count,
                                      sites_by_name)


def register(commands) -> None:
    extract = add_command(
        commands, "extract", handler=cmd_extract, help="extract articles from saved page files, as JSON lines",
        description="Read raw page bytes (any encoding) and print one JSON object per file, in order, with\n"
                    "file, url, site, extractor, title, published, source, author, summary, body, script.\n"
                    "The site is --site, else the one whose domain matches --url, else the generic chain.\n"
                    "A file that cannot be read, is not a regular file (a device, a FIFO) or is larger than\n"
                    "the crawl's 16 MB download cap gives a line with an `error` field and exit code 1;\n"
                    "the other files are still extracted.",
        epilog="examples:\n  crawler extract --url http://www.investchn.test/kfqnews/taizhou/20220718/i0718.html page.html\n"
               "  crawler extract --jobs 2 saved/*.html > records.jsonl\n"
               "  crawler extract --explain page.html     # why a page came out as it did")
    extract.add_argument("files", nargs="+", metavar="FILE", help="saved page files")
    extract.add_argument("--url", default="", help="the URL the page(s) came from")
    extract.add_argument("--site", help="use this site module's extractor")
    extract.add_argument("--jobs", type=count, default=0, metavar="N",
                         help="extract in N processes, output still in order (default: 0, one per CPU core)")
    extract.add_argument("--explain", action="store_true",
                         help="print, instead of JSON, each field with the rule that produced it (site selector,\n"
                              "CMS container, meta tag, density block, trafilatura) and, for an empty body, why")

    reextract = add_command(
        commands, "reextract", handler=cmd_reextract, help="re-run the extractors over stored pages, updating rows",
        description="Run the current site modules over the raw pages kept in the database (no HTTP request)\n"
                    "and update each article whose fields change: title, published, source, author, summary,\n"
                    "body, script, content_hash, extractor. Articles keep their id and their duplicates.\n"
                    "A page that yields no body now is left as it was and reported (exit code 1).",
        epilog="example (after fixing a selector in spiders/investchn.py):\n"
               "  crawler reextract --site investchn --db output/articles.db --jobs 4")
    reextract.add_argument("--site", help="only this site's articles (default: all)")
    add_db(reextract, "update")
    reextract.add_argument("--jobs", type=count, default=0, metavar="N",
                           help="extract in N processes (default: 0, one per CPU core)")

    ingest = add_command(
        commands, "ingest", handler=cmd_ingest, help="store article records from a JSON-lines file, deduplicated",
        description="Read one article record per line (the fields of `crawler extract`: url, site, extractor,\n"
                    "title, published, source, author, summary, body, script; fetched_at optional) and put\n"
                    "each through the same cleaning, duplicate check and store as a crawled page. Prints\n"
                    "how many were new, duplicates (exact or near) of stored articles, already stored\n"
                    "(same URL) or rejected. A malformed line, or one without url or body, is reported on\n"
                    "stderr with its line number and skipped; the exit code is then 1. FILE `-` is stdin.",
        epilog="examples:\n  crawler ingest shard-01.jsonl --db output/articles.db\n"
               "  crawler extract --url http://www.investchn.test/a.html a.html | crawler ingest -")
    ingest.add_argument("file", metavar="FILE.jsonl", help="JSON-lines file of article records, or - for stdin")
    add_db(ingest)


def page_bytes(name: str, limit: int) -> bytes:
    """A saved page's bytes. OSError for what cannot be a saved page: a device or a FIFO (whose
    reading never ends, or never starts) or a file over `limit` bytes (the crawl's own cap)."""
    fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK)  # opening a FIFO does not wait for a writer
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"not a regular file: {name}")
        body = file.read(limit + 1)
    if len(body) > limit:
        raise OSError(f"larger than {limit // 2 ** 20} MB, the crawl's DOWNLOAD_MAXSIZE: {name}")
    return body


def cmd_extract(args) -> int:
    from crawler.article.clean import RECORD_FIELDS
    from crawler.article.items import Page
    from crawler.chain.workers import cores, results_in_order
    from crawler.sites.spider import site_for_url

    from crawler.settings import DOWNLOAD_MAXSIZE

    site = sites_by_name([args.site])[0] if args.site else site_for_url(args.url) if args.url else None

    def pages():
        for name in args.files:
            try:
                yield Page(url=args.url, site=getattr(site, "name", None), body=page_bytes(name, DOWNLOAD_MAXSIZE)), site
            except OSError as exc:  # reported in its place, in order
                yield exc, site

    if args.explain:
        return _explain(args.files, pages())
    status = EXIT_OK
    for name, record in zip(args.files, results_in_order(pages(), min(args.jobs or cores(), len(args.files)))):
        if isinstance(record, Exception):  # one bad file must not stop the others
            out, status = {"file": name, "error": f"{type(record).__name__}: {record}"}, EXIT_FAILED
        else:
            out = {"file": name, **{field: record[field] for field in RECORD_FIELDS}}
        print(json.dumps(out, ensure_ascii=False), flush=True)
    return status


def _explain(names: list[str], pages) -> int:
    """`crawler extract --explain`: each page's fields with the rule that produced each."""
    from crawler.article.extract import NotHtml
    from crawler.chain.process import record_of

    status = EXIT_OK
    for name, (page, site) in zip(names, pages):
        trace: dict = {}
        try:
            if isinstance(page, Exception):
                raise page
            record = record_of(page, site, trace=trace)
        except (OSError, NotHtml) as exc:
            print(f"{name}\n  error: {type(exc).__name__}: {exc}\n", flush=True)
            status = EXIT_FAILED
            continue
        print("\n".join(explanation(name, record, trace)) + "\n", flush=True)
    return status


def explanation(name: str, record: dict, trace: dict) -> list[str]:
    """The lines `extract --explain` prints for one page: each field, then `<-` the rule."""
    lines = [name, f"  extractor  {record['extractor']}"]
    for field in ("title", "published", "source", "author", "summary"):
        value = record[field] or "(empty)"
        lines += [f"  {field:<10} {value[:70]}{'…' if len(value) > 70 else ''}",
                  f"  {'':<10} <- {trace.get(field, 'the site module defines it; its selector found nothing')}"]
    body = record["body"]
    paragraphs = len(body.split("\n")) if body else 0
    lines.append(f"  body       {paragraphs} paragraph{'s' * (paragraphs != 1)}, {len(body)} characters" if body
                 else "  body       (empty)")
    why = trace.get("body", "")
    if not body and trace.get("body lines"):
        why += f"; cleaning dropped all its {trace['body lines']} lines as page furniture (来源, 分享到, 版权...)"
    lines.append(f"  {'':<10} <- {why}")
    return lines


def cmd_reextract(args) -> int:
    from crawler.chain.reextract import reextract
    from crawler.chain.workers import cores
    from crawler.sites.spider import site_classes
    from crawler.storage.store import Store

    if not Path(args.db).is_file():
        raise ConfigError(f"no database at {args.db}")
    sites = site_classes()
    store = Store(args.db)
    try:
        if args.site and args.site not in sites and not store.stored_ids(args.site):
            raise ConfigError(f"unknown site: {args.site} (known: {', '.join(sorted(sites))})")
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
    for name, number in sorted(report.generic.items()):
        print(f"note: {name} has no site module; its {number} articles went through the generic chain")
    for article_id, other in report.same_body_as:
        print(f"note: article {article_id} now has the same body as article {other}; both are kept")
    for failure in report.failed:
        print(f"failed: {failure}", file=sys.stderr)
    return EXIT_FAILED if report.failed else EXIT_OK


def ingest_summary(counts) -> str:
    return (f"{counts['records']} records: {counts['new']} new, {counts['exact'] + counts['near']} duplicates "
            f"({counts['exact']} exact, {counts['near']} near), {counts['known']} already stored, "
            f"{counts['rejected']} rejected")


def cmd_ingest(args) -> int:
    from crawler.chain.ingest import ingest
    from crawler.storage.store import Store

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

    if args.file == "-" and sys.stdin is None:  # started with standard input closed (`<&-`)
        print("crawler ingest: cannot read -: standard input is closed", file=sys.stderr)
        return EXIT_FAILED
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
