"""Site health from `crawl_runs`: per-run rates and the rule that flags a site as broken.

Plain SQL, so that the same text serves `crawler serve` (canned query and dashboard charts)
and any command that reports on sites (`crawler report`): one rule, wherever it is shown.
"""
from __future__ import annotations

import sqlite3

JUMP = 0.2  # a rate this much above the site's earlier runs is a jump, not noise
HISTORY = 5  # how many earlier runs of a site the latest one is compared with
EVIDENCE = 3  # fewer pages than this behind a rate prove nothing (one dead link refetched each run)

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

# The latest run of each site against its earlier runs. A site is flagged when its last run
# failed, found no article where earlier runs found some, had a jump in empty bodies, missing
# dates or fallback use, or had HTTP errors on a fifth of its pages in each of its last two runs
# (a rate counts only when at least EVIDENCE pages stand behind it in the latest run).
BROKEN_SITES_SQL = f"""
WITH runs AS (
  SELECT *, row_number() OVER (PARTITION BY site ORDER BY started_at DESC, id DESC) AS age
  FROM ({RUN_RATES_SQL})
),
latest AS (SELECT * FROM runs WHERE age = 1),
previous AS (SELECT * FROM runs WHERE age = 2),
earlier AS (
  SELECT site, count(*) AS runs, sum(articles_seen + skipped_known) AS found,
         avg(empty_body_rate) AS empty_body_rate, avg(missing_date_rate) AS missing_date_rate,
         avg(fallback_rate) AS fallback_rate
  FROM runs WHERE age BETWEEN 2 AND {HISTORY + 1} GROUP BY site
),
judged AS (
  SELECT l.site, l.started_at AS last_run, l.status, l.pages_fetched, l.articles_new,
         l.empty_body_rate, l.missing_date_rate, l.fallback_rate, l.http_error_rate,
         CASE WHEN l.status = 'failed' THEN 'last run failed; ' ELSE '' END
      || CASE WHEN e.found > 0 AND l.articles_seen + l.skipped_known = 0
              THEN 'no articles found where earlier runs found some; ' ELSE '' END
      || CASE WHEN l.empty_bodies >= {EVIDENCE} AND l.empty_body_rate >= e.empty_body_rate + {JUMP}
              THEN 'empty bodies jumped; ' ELSE '' END
      || CASE WHEN l.missing_dates >= {EVIDENCE} AND l.missing_date_rate >= e.missing_date_rate + {JUMP}
              THEN 'missing dates jumped; ' ELSE '' END
      || CASE WHEN l.fallbacks >= {EVIDENCE} AND l.fallback_rate >= e.fallback_rate + {JUMP}
              THEN 'extractor fallbacks jumped; ' ELSE '' END
      || CASE WHEN l.http_errors >= {EVIDENCE} AND l.http_error_rate >= {JUMP} AND p.http_error_rate >= {JUMP}
              THEN 'HTTP errors in the last two runs; ' ELSE '' END AS reasons
  FROM latest l LEFT JOIN previous p ON p.site = l.site LEFT JOIN earlier e ON e.site = l.site
)
SELECT site, last_run, status, pages_fetched, articles_new, empty_body_rate, missing_date_rate,
       fallback_rate, http_error_rate, rtrim(reasons, '; ') AS reasons
FROM judged WHERE reasons != '' ORDER BY site
"""


def broken_sites(conn: sqlite3.Connection) -> list[dict]:
    """The sites whose latest run looks broken, with the reasons, one dict per site."""
    cursor = conn.execute(BROKEN_SITES_SQL)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor]
