"""The one Datasette plugin of `crawler serve`: one- and two-character searches, which the
trigram index cannot match, go from the articles table's search box to the `search` canned
query, whose LIKE fallback finds them and says so; the broken-site rule of `crawler report`
becomes the SQL function the `broken_sites` query calls; an article's row page gets the
article and its copies (templates/row.html lays them out to be read); requests that are not
reads get 405; and only the health dashboard's own queries may run SQL that is not a canned
query (see crawler/serve/app.py, SQL_ACTOR)."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, quote

from datasette import hookimpl
from datasette.utils import tilde_decode

from crawler.report.health import register_sql_functions

TRIGRAM = 3
_ARTICLES_PAGE = re.compile(r"/(?P<db>[^/]+)/articles")


def short_search_target(path: str, query_string: str) -> str | None:
    """Where a table search too short for trigrams should go instead, or None."""
    page = _ARTICLES_PAGE.fullmatch(path)
    terms = parse_qs(query_string).get("_search", [""])[0].strip()
    if page is None or not 0 < len(terms) < TRIGRAM:
        return None
    return f"/{quote(page['db'])}/search?q={quote(terms)}"


READS = ("GET", "HEAD")
DASHBOARDS = "/-/dashboards/"


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def reads_only_and_short_searches(scope, receive, send):
            status, headers = None, []
            if scope["type"] == "http" and scope["method"] not in READS:
                # The store is served read-only: Datasette would answer a POST to a canned
                # query with a 500 (it asserts the query writes).
                status, headers = 405, [(b"allow", ", ".join(READS).encode("ascii"))]
            elif scope["type"] == "http":
                target = short_search_target(scope["path"], scope["query_string"].decode("latin-1"))
                if target is not None:
                    status, headers = 302, [(b"location", target.encode("ascii"))]
            if status is None:
                await app(scope, receive, send)
                return
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
        return reads_only_and_short_searches
    return wrap


@hookimpl
def actor_from_request(datasette, request):
    """The health dashboard's pages, and the chart queries its script sends to the SQL endpoint
    word for word, run under the one actor allowed SQL (crawler/serve/app.py, SQL_ACTOR)."""
    from crawler.serve.app import SQL_ACTOR

    charts = [chart for board in (datasette.plugin_config("datasette-dashboards") or {}).values()
              for chart in board.get("charts", {}).values()]
    if request.path.startswith(DASHBOARDS) or request.args.get("sql") in {chart["query"] for chart in charts}:
        return {"id": SQL_ACTOR}
    return None


@hookimpl
def prepare_connection(conn):
    register_sql_functions(conn)


ARTICLE_SQL = ("SELECT id, url, site, title, published, source, author, summary, body, script, extractor, "
               "fetched_at FROM articles WHERE id = ?")
COPIES_SQL = "SELECT id, url, site, kind, similarity FROM duplicates WHERE duplicate_of = ? ORDER BY fetched_at, id"


def _link(url: str | None) -> str | None:
    """A URL fit for an href: http(s) only (an ingested record may carry anything)."""
    return url if url and url.startswith(("http://", "https://")) else None


def article_page(article: dict, copies: list[dict]) -> dict:
    """The template variables of an article's row page: the row with its paragraphs and link,
    and its copies with theirs."""
    return {"article": {**article, "paragraphs": (article["body"] or "").split("\n"), "link": _link(article["url"])},
            "copies": [{**copy, "link": _link(copy["url"])} for copy in copies]}


@hookimpl
def extra_template_vars(datasette, database, table, view_name, request):
    if view_name != "row" or table != "articles" or request is None:
        return {}

    async def article_vars():
        db = datasette.get_database(database)
        key = tilde_decode(request.url_vars["pks"])
        rows = [dict(row) for row in (await db.execute(ARTICLE_SQL, [key])).rows]
        if not rows:
            return {}
        copies = [dict(row) for row in (await db.execute(COPIES_SQL, [key])).rows]
        return article_page(rows[0], copies)
    return article_vars
