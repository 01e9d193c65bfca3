"""Site health from `crawl_runs`: which sites look broken, and why (`crawler report`).

A scheduled crawl that stores nothing is not an error to Scrapy, so each site's latest finished
run is compared with its earlier ones. A quiet site is not a broken one: an incremental run of a
healthy site that has nothing new still finds the known article links on its first list page
(or gets a 304 for it); a site whose layout changed, or that blocks us, finds none.
"""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

from crawler.report.table import format_table
from crawler.storage.store import StoreError, failure_of, open_read_only

# Not running, interrupted or killed: those say nothing of the site.
FINISHED = ("ok", "partial", "failed", "no_links")
MIN_EVIDENCE = 2  # at least this many affected articles in the latest run before a rate can jump
JUMP = 0.3  # flag when a rate rises by this much over the earlier runs' rate
HTTP_ERROR_SHARE = 0.5  # failed fetches per page fetched that count as "blocked or down"
HTTP_ERROR_RUNS = 2  # ... in this many latest runs in a row
SHOWN_RUNS = 5  # runs per site in the table

# (flag, counted column, what it is counted among, message)
_RATES = (
    ("empty_bodies", "empty_bodies", ("articles_new", "duplicates", "empty_bodies"), "pages with an empty body"),
    ("missing_dates", "missing_dates", ("articles_new",), "new articles without a date"),
    ("fallbacks", "fallbacks", ("articles_new",), "new articles the site's selectors could not extract"),
)


def load_runs(db: str | Path, since_days: int) -> list[dict]:
    """The runs of the last `since_days` days, oldest first. Read-only: never creates or migrates."""
    path = Path(db)
    if not path.is_file():
        raise StoreError(f"no database at {path}")
    cutoff = (datetime.now(timezone.utc) - timedelta(days=since_days)).isoformat(timespec="seconds")
    conn = open_read_only(path)  # a damaged file is an error, never a report that looks healthy
    conn.row_factory = sqlite3.Row
    try:
        with conn:
            rows = conn.execute("SELECT * FROM crawl_runs WHERE started_at >= ? ORDER BY started_at, id", [cutoff])
            return [dict(row) for row in rows]
    except sqlite3.Error as exc:
        raise StoreError(failure_of(path, exc) or f"cannot read crawl runs from {path}: {exc}") from exc


def site_reports(runs: list[dict]) -> list[dict]:
    """Per site (by name): its runs, newest first, and the flags of its history."""
    by_site: dict[str, list[dict]] = {}
    for run in runs:
        by_site.setdefault(run["site"], []).append(run)
    return [{"site": site, "flags": health_flags(history), "runs": history[::-1]}
            for site, history in sorted(by_site.items())]


def health_flags(history: list[dict]) -> list[dict]:
    """What looks wrong with a site, from its runs oldest first: a list of {flag, message}."""
    finished = [run for run in history if run["status"] in FINISHED]
    if not finished:
        return []
    latest, before = finished[-1], finished[:-1]
    flags = []
    if latest["status"] == "failed":
        flags.append(_flag("failed", f"the last run failed ({latest['finish_reason']}, "
                                     f"{latest['pages_fetched']} pages fetched)"))
    links_before = max((run.get("article_links") or 0 for run in before), default=0)
    if _unreachable(latest):
        flags.append(_flag("unreachable", f"no list page answered (requests that found no server, DNS or "
                                          f"connection refused: {latest.get('unreachable') or 0}; timed out: "
                                          f"{latest.get('timeouts') or 0}): the site is down, or unreachable "
                                          "from here"))
    elif latest["status"] == "no_links" or (
            links_before and not latest.get("article_links") and not latest.get("list_pages_not_modified")):
        found = f"earlier runs found up to {links_before}" if links_before else "no run found any"
        flags.append(_flag("no_articles", f"no article links on the list pages ({found}): list layout "
                                          "changed, the article_links selector is wrong, or the site blocks us"))
    if latest.get("needs_browser") and not latest.get("article_links"):
        flags.append(_flag("needs_browser", f"needs a browser: {latest['needs_browser']} list page(s) without links are "
                                            "drawn by script or answer with a script challenge; set render = True in "
                                            "the site module (crawl --url: --render)"))
    for name, column, among, what in _RATES:
        jump = _rate_jump(latest, before, column, among)
        if jump:
            flags.append(_flag(name, f"{what}: {jump[0]:.0%} in the last run, {jump[1]:.0%} before"))
    for field, (rate, base) in _selector_jumps(latest, before):
        flags.append(_flag("selector_misses", f"the site's selector for {field} stopped matching: on {rate:.0%} of "
                                              f"its pages in the last run, {base:.0%} before (the generic chain "
                                              f"filled it in)"))
    recent = finished[-HTTP_ERROR_RUNS:]
    if len(recent) == HTTP_ERROR_RUNS and all(_mostly_http_errors(run) for run in recent):
        flags.append(_flag("http_errors", f"most fetches failed in each of the last {HTTP_ERROR_RUNS} runs "
                                          f"({', '.join(str(run['http_errors']) for run in recent)} HTTP errors)"))
    return flags


def _flag(name: str, message: str) -> dict:
    return {"flag": name, "message": message}


def _rate_jump(latest: dict, before: list[dict], column: str, among: tuple) -> tuple[float, float] | None:
    """(latest rate, earlier rate) when the latest run's rate jumped; None otherwise or when the
    earlier runs give no rate to compare with."""
    base_total = sum(run[c] or 0 for run in before for c in among)
    total = sum(latest[c] or 0 for c in among)
    if not base_total or not total or (latest[column] or 0) < MIN_EVIDENCE:
        return None
    rate, base = latest[column] / total, sum(run[column] or 0 for run in before) / base_total
    return (rate, base) if rate - base >= JUMP else None


def _selector_jumps(latest: dict, before: list[dict]):
    """(field, (latest rate, earlier rate)) for each site selector whose miss rate jumped."""
    seen = ("articles_new", "duplicates", "empty_bodies")
    for field in sorted(_misses(latest)):
        as_column = [{**run, "missed": _misses(run).get(field, 0)} for run in (latest, *before)]
        jump = _rate_jump(as_column[0], as_column[1:], "missed", seen)
        if jump:
            yield field, jump


def _misses(run: dict) -> dict:
    """A run's selector misses by field (a JSON object in crawl_runs; absent before schema 12)."""
    value = run.get("selector_misses")
    return json.loads(value) if isinstance(value, str) and value else value or {}


def _unreachable(run: dict) -> bool:
    """No list page answered because the site could not be reached (not a changed layout)."""
    return not run.get("list_pages") and bool((run.get("unreachable") or 0) + (run.get("timeouts") or 0))


def _mostly_http_errors(run: dict) -> bool:
    return bool(run["http_errors"]) and run["http_errors"] >= HTTP_ERROR_SHARE * max(1, run["pages_fetched"])


# --- the table ------------------------------------------------------------------------------
_COLUMNS = (
    ("site", "site"), ("started_at", "started (UTC)"), ("status", "status"), ("pages_fetched", "pages"),
    ("list_pages_not_modified", "not_modified"), ("article_links", "links"), ("articles_new", "new"),
    ("duplicates", "dup"), ("skipped_known", "known"),
    ("http_errors", "http_err"), ("empty_bodies", "empty"), ("missing_dates", "no_date"),
    ("fallbacks", "fallback"), ("duration_s", "secs"),
)


def _cell(run: dict, column: str) -> str:
    value = run.get(column)
    if value is None:
        return ""
    if column == "started_at":
        return value[:16].replace("T", " ")
    if column == "duration_s":
        return f"{value:.0f}"
    return str(value)


def print_report(reports: list[dict], since_days: int) -> None:
    rows = [[_cell(run, c) for c, _ in _COLUMNS] for report in reports for run in report["runs"][:SHOWN_RUNS]]
    print(format_table([h for _, h in _COLUMNS], rows))
    flagged = [report for report in reports if report["flags"]]
    for report in flagged:
        for flag in report["flags"]:
            print(f"FLAGGED {report['site']}: {flag['flag']}: {flag['message']}")
    print(f"{len(flagged)} of {len(reports)} sites flagged (runs of the last {since_days} days)")


# --- the same rule in SQL, for `crawler serve` (canned query and dashboard) -------------------
# Datasette shows SQL results, so the rule above is registered as the SQL function
# crawler_site_flags(JSON array of a site's runs): one rule, wherever it is shown.
# One row per finished run of a site, with its rates. An article seen is one stored, found to
# be a copy, or dropped as empty; dates and fallbacks are counted on stored articles only.
RUN_RATES_SQL = """
SELECT id, site, started_at, status, pages_fetched, articles_new, duplicates, skipped_known,
       http_errors, empty_bodies, missing_dates, fallbacks,
       articles_new + duplicates + empty_bodies AS articles_seen,
       round(1.0 * empty_bodies / max(articles_new + duplicates + empty_bodies, 1), 3) AS empty_body_rate,
       round(1.0 * missing_dates / max(articles_new, 1), 3) AS missing_date_rate,
       round(1.0 * fallbacks / max(articles_new, 1), 3) AS fallback_rate,
       round(1.0 * http_errors / max(pages_fetched, 1), 3) AS http_error_rate
FROM crawl_runs
WHERE status != 'running'
"""


_RUN_FIELDS = ("id", "started_at", "status", "finish_reason", "pages_fetched", "articles_new", "duplicates",
               "skipped_known", "http_errors", "empty_bodies", "missing_dates", "fallbacks", "article_links",
               "list_pages_not_modified", "list_pages", "unreachable", "timeouts", "selector_misses",
               "needs_browser")

BROKEN_SITES_SQL = f"""
SELECT site, last_run, reasons FROM (
  SELECT site, max(started_at) AS last_run,
         crawler_site_flags(json_group_array(json_object({", ".join(f"'{name}', {name}" for name in _RUN_FIELDS)}))) AS reasons
  FROM crawl_runs GROUP BY site
) WHERE reasons != '' ORDER BY site
"""


def site_flags_sql(runs_json: str) -> str:
    """SQL function crawler_site_flags: the messages of `health_flags`, joined by '; ' ('' when healthy)."""
    history = sorted(json.loads(runs_json), key=lambda run: (run["started_at"], run["id"]))
    return "; ".join(flag["message"] for flag in health_flags(history))


def register_sql_functions(conn: sqlite3.Connection) -> None:
    conn.create_function("crawler_site_flags", 1, site_flags_sql, deterministic=True)


def broken_sites(conn: sqlite3.Connection) -> list[dict]:
    """The sites `crawler report` flags, with the reasons, one dict per site."""
    register_sql_functions(conn)
    cursor = conn.execute(BROKEN_SITES_SQL)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor]
