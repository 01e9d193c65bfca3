"""The one Datasette plugin of `crawler serve`: one- and two-character searches, which the
trigram index cannot match, go from the articles table's search box to the `search` canned
query, whose LIKE fallback finds them and says so; and the broken-site rule of `crawler report`
becomes the SQL function the `broken_sites` query calls."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, quote

from datasette import hookimpl

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
