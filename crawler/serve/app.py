"""`crawler serve`: Datasette over the store, read-only, with search, canned queries and a
health dashboard. We configure Datasette (metadata, one small plugin, two templates that extend
its own: an article's page, folded column descriptions); we write no web app.

Read-only mode: the file is opened with `mode=ro`, not `immutable=1` or `nolock=1`. A crawl may
be writing it: an immutable reader ignores the WAL file (it shows stale or torn data and caches
counts), and nolock drops the locks that keep a reader off pages being checkpointed. With
`mode=ro` on a WAL database each query reads one consistent snapshot, never blocks the writer,
and sees new articles on the next page load. A file that cannot be written (a published copy,
a read-only mount) is served `immutable`: no crawl can be writing it.

Arbitrary SQL is off: one `select zeroblob(...)` or a cross join returns as much data as it asks
for (the time limit counts VM steps, not bytes), so a page could exhaust the machine's memory.
The canned queries, table views, facets and search stay; the health dashboard's chart queries,
which its page sends to the SQL endpoint, are the one exception (SQL_ACTOR). For other SQL,
open the file with `sqlite3` or Datasette yourself.
"""
from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from crawler.report.health import BROKEN_SITES_SQL, RUN_RATES_SQL

DASHBOARD = "health"
SQL_ACTOR = "crawler-dashboard"  # the actor of dashboard requests (crawler/serve/plugin.py)
# Tables the crawler keeps for itself: not listed (still reachable by URL and SQL).
INTERNAL_TABLES = ("meta", "raw_pages", "frontier", "list_validators", "lsh_bands", "minhashes")
LATEST_RUNS = 20  # runs per site shown in the dashboard's rate charts
# A run's rate is charted only when this many articles are behind it: one page makes 0% or 100%.
MIN_RATE_ARTICLES = 5
SETTINGS = {
    "sql_time_limit_ms": 3000,  # a two-character search scans every body
    "suggest_facets": False,  # the configured facets are enough; suggesting more re-runs a search 10 times
    "default_page_size": 50,
    "truncate_cells_html": 140,  # a body shows its start in a table; the row page shows it all
    "default_facet_size": 6,  # facets above the rows: short lists, so that the rows show without scrolling
}

# The schema section of docs/analysts.md, column by column (tests/test_serve.py keeps the two in step).
ARTICLE_COLUMNS = {
    "id": "integer primary key",
    "url": "the URL it was fetched from (unique)",
    "canonical_url": "the URL normalised for deduplication: http, no www., no tracking parameters "
                     "or fragment, no index.html (unique)",
    "site": "the site module that crawled it",
    "title": "headline, Simplified Chinese",
    "published": "ISO 8601: 2024-07-24T10:33:00+08:00 when the page gives a time, 2022-07-18 when it "
                 "gives a day, NULL when it gives none (never the crawl time)",
    "published_month": "the month of published (2022-07), computed on read, for facets",
    "source": "来源 (originating outlet), or NULL",
    "author": "author or reporter when the page labels one, or NULL",
    "summary": "the page's 导读/摘要 lead, or NULL",
    "body": "article paragraphs in order, joined by \\n, Simplified Chinese, without pinyin "
            "annotations or page furniture",
    "script": "script of the original page: hans or hant",
    "content_hash": "SHA-1 of the normalised body (letters and digits only, NFKC)",
    "extractor": "site:NAME, generic or trafilatura",
    "fetched_at": "UTC time of the fetch, ISO 8601",
    "run_id": "the crawl_runs.id that stored it",
}

DUPLICATE_COLUMNS = {
    "url": "the URL of the copy",
    "canonical_url": "the copy's URL normalised for deduplication (unique)",
    "duplicate_of": "the stored article this is a copy of (articles.id)",
    "kind": "exact (same normalised body) or near (republished with changes)",
    "similarity": "1.0 for exact copies",
    "site": "the site module where the copy was found",
    "fetched_at": "UTC time of the fetch, ISO 8601",
    "run_id": "the crawl_runs.id that found it",
}

RUN_COLUMNS = {
    "invocation": "one id per command run",
    "status": "ok, partial (some pages failed), failed, or running while it runs",
    "finish_reason": "Scrapy's reason for closing the spider",
    "fallbacks": "articles a site module could not extract itself",
    "empty_bodies": "article pages dropped because no body was found",
    "missing_dates": "stored articles without a publication date",
}

# The 100 most recently published matches (undated ones last, then the newest stored). The
# matches are ranked on `published` alone; only those 100 are read whole for their excerpt
# (a body is several pages of the file, and a common phrase matches thousands of articles).
SEARCH_SQL = """
SELECT a.id, a.site, a.published, a.title,
       substr(a.body, max(instr(a.body, :q) - 30, 1), 90) AS excerpt,
       CASE WHEN length(:q) >= 3 THEN 'trigram index'
            ELSE 'LIKE scan: under 3 characters, the trigram index cannot match' END AS matched_by
FROM articles a JOIN (
  SELECT id FROM (
    SELECT a.id, a.published FROM articles_fts f JOIN articles a ON a.id = f.rowid
    WHERE length(:q) >= 3 AND articles_fts MATCH '"' || replace(:q, '"', '""') || '"'
    UNION ALL
    SELECT id, published FROM articles
    WHERE length(:q) BETWEEN 1 AND 2 AND (title LIKE '%' || :q || '%' OR body LIKE '%' || :q || '%'))
  ORDER BY published IS NULL, published DESC, id DESC LIMIT 100
) newest ON newest.id = a.id
ORDER BY a.published IS NULL, a.published DESC, a.id DESC
"""

CANNED_QUERIES = {
    "search": {
        "title": "Search titles and bodies",
        "description": "Any Chinese substring: 3 or more characters use the trigram full-text index; "
                       "1 or 2 characters, which trigrams cannot match, fall back to a LIKE scan of "
                       "every article (slower), as the matched_by column says. The 100 most recently "
                       "published matches (undated last); the articles table's search box gives all of "
                       "them with facets.",
        "sql": SEARCH_SQL,
        "hide_sql": True,
    },
    "latest_per_site": {
        "title": "Latest articles per site",
        "description": "The newest articles of each site by publication date (default 5 per site).",
        "sql": """
SELECT site, published, title, id, url FROM (
  SELECT *, row_number() OVER (
    PARTITION BY site ORDER BY published IS NULL, published DESC, fetched_at DESC, id DESC) AS n
  FROM articles)
WHERE n <= CAST(coalesce(nullif(:per_site, ''), 5) AS INTEGER)
ORDER BY site, n
""",
    },
    "articles_of_day": {
        "title": "Articles of a day",
        "description": "Articles published on a day (YYYY-MM-DD, China time as the page gave it).",
        "sql": """
SELECT id, site, published, title, source, url FROM articles
WHERE published >= :day AND published < date(:day, '+1 day')
ORDER BY published, site
""",
    },
    "copies": {
        "title": "Copies of an article",
        "description": "An article (by id) and every copy of it found elsewhere.",
        "sql": """
SELECT 'original' AS role, a.id AS article_id, a.site, a.url, a.title, NULL AS kind,
       NULL AS similarity, a.fetched_at
FROM articles a WHERE a.id = :id
UNION ALL
SELECT 'copy', d.duplicate_of, d.site, d.url, a.title, d.kind, d.similarity, d.fetched_at
FROM duplicates d JOIN articles a ON a.id = d.duplicate_of WHERE d.duplicate_of = :id
""",
    },
    "broken_sites": {
        "title": "Sites that look broken",
        "description": "The latest run of each site against its earlier runs (crawler/report/health.py, "
                       "the rule crawler report uses). An empty result: every site looks healthy.",
        "sql": BROKEN_SITES_SQL,
    },
}


def _latest_runs_sql(rate: str, counted: str, among: str) -> str:
    """The latest runs of each site with at least MIN_RATE_ARTICLES behind the rate, and the
    counts it comes from."""
    return (f"SELECT site, started_at, {rate}, {counted}, {among} FROM (SELECT *, row_number() OVER "
            f"(PARTITION BY site ORDER BY started_at DESC, id DESC) AS age FROM ({RUN_RATES_SQL}) "
            f"WHERE {among} >= {MIN_RATE_ARTICLES}) WHERE age <= {LATEST_RUNS} ORDER BY started_at")


def _vega_lite(mark: str, x: dict, y: dict, tooltip: list | None = None) -> dict:
    return {
        "mark": {"type": mark, "tooltip": True},
        "encoding": {"x": x, "y": y, "color": {"field": "site", "type": "nominal"},
                     **({"tooltip": tooltip} if tooltip else {})},
        # SVG, so that a browser test can see the drawn marks; no export menu.
        "usermeta": {"embedOptions": {"renderer": "svg", "actions": False}},
    }


def _rate_chart(rate: str, counted: str, among: str, title: str, db_name: str) -> dict:
    return {
        "title": title, "db": db_name, "query": _latest_runs_sql(rate, counted, among), "library": "vega-lite",
        "display": _vega_lite(
            "line", {"field": "started_at", "type": "temporal", "title": "run started (UTC)"},
            {"field": rate, "type": "quantitative", "title": title, "axis": {"format": ".0%"}},
            # the counts beside the rate: 2 of 3 and 200 of 300 are both 67%
            [{"field": "site"}, {"field": "started_at", "type": "temporal", "format": "%Y-%m-%d %H:%M"},
             {"field": rate, "format": ".0%"}, {"field": counted}, {"field": among}]),
    }


def dashboard(db_name: str) -> dict:
    """The health dashboard, in datasette-dashboards' configuration format."""
    def metric(title: str, query: str) -> dict:
        return {"title": title, "db": db_name, "query": query, "library": "metric",
                "display": {"field": "n"}}

    return {
        "title": "Crawl health",
        "description": "New articles per site and day, the share of copies, and per-run rates of "
                       f"empty bodies and missing dates (last {LATEST_RUNS} runs per site with at least "
                       f"{MIN_RATE_ARTICLES} articles behind the rate; hover a point for its counts).",
        "layout": [["articles", "copies", "broken"],
                   ["new-per-day", "new-per-day", "new-per-day"],
                   ["duplicate-share", "empty-body-rate", "missing-date-rate"]],
        "charts": {
            "articles": metric("Articles stored", "SELECT count(*) AS n FROM articles"),
            "copies": metric("Copies found", "SELECT count(*) AS n FROM duplicates"),
            "broken": metric("Sites that look broken", f"SELECT count(*) AS n FROM ({BROKEN_SITES_SQL})"),
            "new-per-day": {
                "title": "New articles per site per day", "db": db_name, "library": "vega-lite",
                "query": "SELECT substr(fetched_at, 1, 10) AS day, site, count(*) AS articles FROM articles "
                         "WHERE fetched_at >= date('now', '-60 days') GROUP BY day, site ORDER BY day",
                "display": _vega_lite(
                    "bar", {"field": "day", "type": "ordinal", "title": "day fetched (UTC)"},
                    {"field": "articles", "type": "quantitative", "title": "new articles"}),
            },
            "duplicate-share": {
                "title": "Share of copies per site", "db": db_name, "library": "vega-lite",
                "query": "SELECT site, round(1.0 * sum(copy) / count(*), 3) AS duplicate_share FROM ("
                         "SELECT site, 0 AS copy FROM articles UNION ALL SELECT site, 1 FROM duplicates) "
                         "GROUP BY site ORDER BY site",
                "display": _vega_lite(
                    "bar", {"field": "site", "type": "nominal", "title": None},
                    {"field": "duplicate_share", "type": "quantitative", "title": "copies / articles seen",
                     "axis": {"format": ".0%"}}),
            },
            "empty-body-rate": _rate_chart("empty_body_rate", "empty_bodies", "articles_seen", "Empty-body rate",
                                           db_name),
            "missing-date-rate": _rate_chart("missing_date_rate", "missing_dates", "articles_new",
                                             "Missing-date rate", db_name),
        },
    }


def metadata(db_name: str) -> dict:
    """Datasette metadata for a store served under `db_name`."""
    return {
        "title": "gov-news-crawler",
        "description": "Chinese regional-government and portal news, one row per distinct article. "
                       "Read-only.",
        "databases": {db_name: {
            "tables": {
                "articles": {
                    "description": "One row per distinct article. Search finds any Chinese substring "
                                   "of 3 or more characters; for 1 or 2 use the search query.",
                    "columns": ARTICLE_COLUMNS, "label_column": "title", "sort_desc": "published",
                    "facets": ["site", "extractor", "published_month", "script"],
                },
                "duplicates": {
                    "description": "Every later copy of a stored article; duplicate_of links to it.",
                    "columns": DUPLICATE_COLUMNS, "sort_desc": "fetched_at", "facets": ["site", "kind"],
                },
                "crawl_runs": {
                    "description": "One row per site per run, with its counts.",
                    "columns": RUN_COLUMNS, "sort_desc": "started_at", "facets": ["site", "status"],
                },
                **{name: {"hidden": True} for name in INTERNAL_TABLES},
            },
            "queries": CANNED_QUERIES,
        }},
        "allow_sql": {"id": SQL_ACTOR},
        "plugins": {"datasette-dashboards": {DASHBOARD: dashboard(db_name)}},
    }


def listen(port: int) -> socket.socket:
    """A socket on 127.0.0.1 (port 0: any free one); OSError when the port is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


def serve(db: Path, sock: socket.socket, read_only: bool = False) -> None:
    """Serve `db` read-only on the bound socket until interrupted; `read_only`: the file
    cannot be written (it is opened immutable)."""
    import uvicorn
    from datasette.app import Datasette
    from datasette.plugins import pm

    from crawler.serve import plugin

    if not pm.is_registered(plugin):
        pm.register(plugin, name="crawler")
    files = {"immutables" if read_only else "files": [str(db)]}
    ds = Datasette(**files, metadata=metadata(db.stem), settings=SETTINGS,
                   template_dir=str(Path(__file__).parent / "templates"))
    asyncio.run(ds.invoke_startup())
    uvicorn.Server(uvicorn.Config(ds.app(), log_level="warning")).run(sockets=[sock])
