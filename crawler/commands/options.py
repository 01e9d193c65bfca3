"""What every command shares: exit codes, default paths, the `--db` and `--log-level` options,
and the one-line error for a problem in what the operator asked for."""
from __future__ import annotations

import argparse

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CONFIG, EXIT_LOCKED = 0, 1, 2, 3, 4
DEFAULT_DB = "output/articles.db"
DEMO_DB = "output/demo.db"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """A problem in what the operator asked for, reported as one line."""


def formatter(prog):
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32)


def add_command(commands, name: str, help: str, description: str, epilog: str, handler) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, formatter_class=formatter, help=help, description=description, epilog=epilog)
    parser.set_defaults(handler=handler)
    return parser


def count(text: str) -> int:
    """A whole number >= 0, for options such as --jobs and --since."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"not a whole number >= 0: {text!r}")
    return int(text)


def add_db(parser: argparse.ArgumentParser, action: str = "write", default: str | None = DEFAULT_DB,
           help: str | None = None) -> None:
    parser.add_argument("--db", default=default, metavar="PATH",
                        help=help or f"SQLite file to {action} (default: {default})")


def add_log_level(parser: argparse.ArgumentParser, note: str = "") -> None:
    """Any case is accepted (info, INFO); Scrapy is given the upper-case name."""
    parser.add_argument("--log-level", default="WARNING", type=str.upper, choices=LOG_LEVELS, metavar="LEVEL",
                        help=f"Scrapy log level on stderr{note}: {', '.join(LOG_LEVELS)} (default: WARNING)")


def sites_by_name(names: list[str]) -> list[type]:
    """The site modules of these names, or a ConfigError naming the unknown (and broken) ones."""
    from crawler.sites.loader import broken_site_modules
    from crawler.sites.spider import site_classes

    known = site_classes()
    unknown = [name for name in names if name not in known]
    if unknown:
        broken = broken_site_modules()
        hint = f"; cannot be loaded: {', '.join(broken)}" if broken else ""
        raise ConfigError(f"unknown site(s): {', '.join(unknown)} (known: {', '.join(sorted(known))}{hint})")
    return [known[name] for name in names]
