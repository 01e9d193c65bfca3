"""crawler.report.health judges a site by its runs: table-driven cases of healthy and broken histories."""
from __future__ import annotations

import pytest

from crawler.report.health import health_flags


def run(status="ok", **counts) -> dict:
    base = {"pages_fetched": 20, "article_links": 10, "list_pages": 2, "list_pages_not_modified": 0,
            "articles_new": 10, "duplicates": 0, "skipped_known": 0, "http_errors": 0, "empty_bodies": 0,
            "missing_dates": 0, "fallbacks": 0, "finish_reason": "finished"}
    return {"status": status, **base, **counts}


QUIET = run(pages_fetched=2, articles_new=0, skipped_known=5, article_links=5)  # nothing new, list page read
NOT_MODIFIED = run(pages_fetched=2, articles_new=0, article_links=0, list_pages_not_modified=1)

CASES = [
    ("first run", [run()], set()),
    ("quiet runs", [run(), QUIET, QUIET, QUIET], set()),
    ("list page unchanged (304)", [run(), NOT_MODIFIED, NOT_MODIFIED], set()),
    ("list layout changed", [run(), QUIET, run(pages_fetched=2, articles_new=0, article_links=0)], {"no_articles"}),
    ("no links ever", [run(article_links=0, articles_new=0), run(article_links=0, articles_new=0)], set()),
    ("empty bodies jump", [run(), run(articles_new=2, empty_bodies=6)], {"empty_bodies"}),
    ("one empty body is no jump", [run(), run(articles_new=0, empty_bodies=1)], set()),
    ("always empty-ish", [run(empty_bodies=5, articles_new=5), run(empty_bodies=5, articles_new=5)], set()),
    ("dates vanish", [run(), run(articles_new=4, missing_dates=4)], {"missing_dates"}),
    ("selectors broke", [run(), run(articles_new=3, fallbacks=3, missing_dates=3)], {"fallbacks", "missing_dates"}),
    ("site never had dates", [run(missing_dates=10), run(articles_new=3, missing_dates=3)], set()),
    ("a selector stopped matching", [run(), run(articles_new=4, selector_misses='{"published": 4}')],
     {"selector_misses"}),
    ("a selector that never matched", [run(selector_misses='{"author": 10}'), run(selector_misses='{"author": 10}')],
     set()),
    ("runs from before selector misses were counted", [run(), run(articles_new=4, selector_misses={"title": 1})],
     set()),
    ("blocked twice", [run(), run(pages_fetched=2, http_errors=1, article_links=0, articles_new=0),
                       run(pages_fetched=2, http_errors=1, article_links=0, articles_new=0)],
     {"no_articles", "http_errors"}),
    ("blocked once", [run(), QUIET, run(pages_fetched=2, http_errors=2, articles_new=0, skipped_known=5)], set()),
    ("a dead link each run", [run(http_errors=1), run(http_errors=1, pages_fetched=5, articles_new=1)], set()),
    ("last run failed", [run(), run(status="failed", pages_fetched=0, article_links=0, articles_new=0,
                                    finish_reason="finished")], {"failed", "no_articles"}),
    ("list pages without links", [run(), run(status="no_links", article_links=0, articles_new=0)], {"no_articles"}),
    ("a first run without links", [run(status="no_links", article_links=0, articles_new=0)], {"no_articles"}),
    ("site down", [run(), run(status="failed", pages_fetched=0, list_pages=0, article_links=0, articles_new=0,
                              unreachable=1, http_errors=1)], {"failed", "unreachable"}),
    ("site timing out", [run(), run(status="failed", pages_fetched=0, list_pages=0, article_links=0,
                                    articles_new=0, timeouts=2, http_errors=2)], {"failed", "unreachable"}),
    ("drawn by script from the first run", [run(status="no_links", article_links=0, articles_new=0,
                                                                 needs_browser=1)], {"needs_browser", "no_articles"}),
    ("challenge answered 412 now", [run(), run(status="partial", pages_fetched=2, http_errors=1, article_links=0,
                                               articles_new=0, needs_browser=1)], {"needs_browser", "no_articles"}),
    ("a scripted list page beside lists with links", [run(needs_browser=1)], set()),
    ("interrupted runs say nothing", [run(), run(status="interrupted", article_links=0, articles_new=0),
                                      run(status="killed", article_links=0)], set()),
]


@pytest.mark.parametrize("history, expected", [(h, e) for _, h, e in CASES], ids=[name for name, _, _ in CASES])
def test_health_flags(history, expected):
    assert {flag["flag"] for flag in health_flags(history)} == expected
