"""The one Datasette plugin of `crawler serve`: one- and two-character searches, which the
trigram index cannot match, go from the articles table's search box to the `search` canned
query, whose LIKE fallback finds them and says so; the broken-site rule of `crawler report`
becomes the SQL function the `broken_sites` query calls; and an article's row page gets the
article and its copies (templates/row.html lays them out to be read)."""
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


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def redirect_short_searches(scope, receive, send):
            target = None
            if scope["type"] == "http":
                target = short_search_target(scope["path"], scope["query_string"].decode("latin-1"))
            if target is None:
                await app(scope, receive, send)
                return
            await send({"type": "http.response.start", "status": 302,
                        "headers": [(b"location", target.encode("ascii"))]})
            await send({"type": "http.response.body", "body": b""})
        return redirect_short_searches
    return wrap


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
