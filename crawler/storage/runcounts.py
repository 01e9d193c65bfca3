"""A `crawl_runs` row's counts from a crawl's stats: which Scrapy stats keys make each column,
and the run's status. A local crawl counts its own stats (crawler.crawl.runs, faults); the
writer of a distributed crawl adds up what its workers send (crawler.distributed.cluster)."""
from __future__ import annotations

from collections.abc import Mapping

# crawl_runs column <- Scrapy stats key
_RUN_COUNTERS = {
    "pages_fetched": "response_received_count",
    "articles_new": "articles/new",
    "duplicates": "articles/duplicate",
    "skipped_known": "articles/skipped_known",
    "http_errors": "errors/http",
    "empty_bodies": "articles/empty",
    "missing_dates": "articles/missing_date",
    "fallbacks": "articles/fallback",
    "list_pages": "list_pages/parsed",
    "list_pages_not_modified": "list_pages/not_modified",
    "article_links": "list_pages/article_links",
}

RUN_STATS = (*_RUN_COUNTERS.values(), "errors/extract")  # every stats key the counts are made of

# crawl_runs JSON column <- the prefix of the Scrapy stats keys it tallies; the rest of a key
# names what is counted: "list_pages/pager/trs" (crawler.sites.pagers.PAGER_STAT),
# "articles/selector_miss/published" (a site selector that matched nothing on a page).
TALLY_PREFIXES = {"pagers": "list_pages/pager/", "selector_misses": "articles/selector_miss/"}
SELECTOR_MISS = TALLY_PREFIXES["selector_misses"]


def is_run_stat(key: str) -> bool:
    """Whether a crawl stats key goes into a crawl_runs count or tally."""
    return key in _RUN_STAT_KEYS or key.startswith(tuple(TALLY_PREFIXES.values()))


def run_counts(stats: Mapping) -> dict:
    """A run's crawl_runs counts from its crawl stats (a mapping: Scrapy's `get_stats()`). The
    sum of two runs' stats has the sum of their counts: a distributed round adds its workers'."""
    counts = {column: stats.get(key, 0) for column, key in _RUN_COUNTERS.items()}
    counts["errors"] = counts["http_errors"] + counts["empty_bodies"] + stats.get("errors/extract", 0)
    for column, prefix in TALLY_PREFIXES.items():
        counts[column] = {key[len(prefix):]: value for key, value in stats.items() if key.startswith(prefix)}
    return counts


def run_status(finish_reason: str, counts: dict, starts_failed: bool = False) -> str:
    """`interrupted` when stopped by a signal (SIGTERM, SIGINT), `failed` when it did not finish
    otherwise, fetched nothing or none of its start pages (`starts_failed`: a 404, a redirect
    loop), `no_links` when list pages were read (not answered 304) and none held an article
    link (the list layout changed, or the selector is wrong), `partial` when some pages failed,
    else `ok`."""
    if finish_reason == "shutdown":
        return "interrupted"
    if finish_reason != "finished" or not counts["pages_fetched"] or starts_failed:
        return "failed"
    if counts["list_pages"] > counts["list_pages_not_modified"] and not counts["article_links"]:
        return "no_links"
    return "partial" if counts["errors"] else "ok"


# crawl_runs column <- Scrapy stats keys (summed)
_FAULT_COUNTERS = {
    "retries": ("retry/count",),
    "timeouts": ("errors/timeouts",),
    "oversize": ("errors/oversize",),
    "truncated": ("errors/truncated",),
    "robots_forbidden": ("robotstxt/forbidden",),
    "attachments": ("attachments/found",),
    "trapped": ("trap/page_cap", "trap/query_pattern", "trap/links_per_page", "depth/request_ignored_count"),
    "empty_lists": ("lists/no_article_links",),
    "unreachable": ("errors/unreachable",),
    "needs_browser": ("lists/needs_browser",),  # schema 14 (crawler.crawl.rendering)
    "rendered": ("render/pages",),
}

FAULT_STATS = tuple(key for keys in _FAULT_COUNTERS.values() for key in keys)
_RUN_STAT_KEYS = frozenset((*RUN_STATS, *FAULT_STATS))


def fault_counts(stats: Mapping) -> dict:
    """A run's fault counts (crawl_runs columns) from its crawl stats, as `run_counts`."""
    return {column: sum(stats.get(key, 0) for key in keys) for column, keys in _FAULT_COUNTERS.items()}
