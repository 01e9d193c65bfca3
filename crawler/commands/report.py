"""`crawler report`: each site's recent runs, and an exit code that alerts someone."""
from __future__ import annotations

import json

from crawler.commands.options import EXIT_FAILED, EXIT_OK, add_command, add_db, count


def register(commands) -> None:
    report = add_command(
        commands, "report", handler=cmd_report,
        help="per-site health of recent crawls; exit 1 if a site looks broken",
        description="Show each site's recent runs and flag sites that look broken: no article links found\n"
                    "where there used to be some (layout change, blocked), a jump in empty bodies, missing\n"
                    "dates or extractor fallbacks, repeated HTTP errors, a failed last run. Exit code 1 when\n"
                    "any site is flagged, so that cron mail or systemd's OnFailure= alerts someone.",
        epilog="examples:\n  crawler report --db output/articles.db --since 3\n  crawler report --json | jq .flagged")
    add_db(report, "read")
    report.add_argument("--since", type=count, default=7, metavar="DAYS", help="runs of the last DAYS days (default: 7)")
    report.add_argument("--json", action="store_true", help="print the report as one JSON object")


def cmd_report(args) -> int:
    from crawler.report.health import load_runs, print_report, site_reports

    reports = site_reports(load_runs(args.db, args.since))
    flagged = [r["site"] for r in reports if r["flags"]]
    if args.json:
        print(json.dumps({"db": args.db, "since_days": args.since, "sites": reports, "flagged": flagged},
                         ensure_ascii=False, indent=1))
    else:
        print_report(reports, args.since)
    return EXIT_FAILED if flagged else EXIT_OK
