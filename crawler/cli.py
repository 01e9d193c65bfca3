"""The `crawler` command: assembles the subcommands of `crawler.commands` and maps what they
raise to exit codes.

Exit codes: 0 success; 1 a site's crawl failed or was interrupted, a file could not be
extracted, `report` flagged a site, a page could not be fetched (fixture save) or re-extracted
(reextract), or an ingested file could not be read or had rejected lines; 2 bad arguments;
3 bad configuration (unknown site, a site module that cannot be loaded, unusable database: bad
path, not writable, disk full; a site name that is taken or invalid, unreachable Redis, missing
database or busy port for serve); 4 another crawl is writing the same database (nothing was done).
"""
from __future__ import annotations

import argparse
import sys

from crawler.commands import crawling, distributed, records, report, serve, site_setup
from crawler.commands.options import EXIT_CONFIG, EXIT_LOCKED, ConfigError, formatter

# In the order `crawler --help` lists them.
GROUPS = (crawling, report, records, site_setup, distributed, serve)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crawler", formatter_class=formatter,
        description="Crawl Chinese government and portal news into one deduplicated SQLite file.",
        epilog="Exit codes: 0 ok, 1 a site failed (or was flagged by report, or input was rejected), 2 bad arguments,\n"
               "3 bad configuration, 4 another crawl is writing the same database.\n"
               "Run `crawler COMMAND --help` for each command's options and an example.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in GROUPS:
        group.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from crawler.storage.lock import Locked
    from crawler.storage.store import StoreError

    try:
        return args.handler(args)
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
