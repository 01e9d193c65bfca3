"""`crawler serve`: the store in a browser, read-only."""
from __future__ import annotations

from pathlib import Path

from crawler.commands.options import EXIT_OK, ConfigError, add_command, add_db


def register(commands) -> None:
    serve = add_command(
        commands, "serve", handler=cmd_serve, help="browse, search and watch the store in a browser (Datasette)",
        description="Serve the store read-only with Datasette on 127.0.0.1: tables with facets, Chinese\n"
                    "full-text search (any substring), canned queries and a health dashboard at\n"
                    "/-/dashboards/health. Safe next to a running crawl; reload to see new articles.\n"
                    "The schema is migrated first if the file is older than this crawler; a file that\n"
                    "cannot be written (a published copy, a read-only mount) is served as it is.\n"
                    "Arbitrary SQL is off (one query could exhaust memory); canned queries stay.",
        epilog="example:\n  crawler serve --db output/demo.db --port 8001   # then open http://127.0.0.1:8001/")
    add_db(serve, "serve")
    serve.add_argument("--port", type=int, default=8001, help="port on 127.0.0.1 (default: 8001; 0: any free port)")


def cmd_serve(args) -> int:
    from crawler.serve.app import DASHBOARD, listen, serve
    from crawler.storage.store import Store, open_read_only, writable

    db = Path(args.db)
    if not db.is_file():
        raise ConfigError(f"no database at {db} (create one with `crawler demo` or `crawler crawl`)")
    read_only = not writable(db)
    if read_only:  # a published copy (read-only file or mount) is served as it is
        open_read_only(db).close()
    else:
        Store(db).close()  # bring an older file up to date (search index) before serving it read-only
    try:
        sock = listen(args.port)
    except OSError as exc:
        raise ConfigError(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror}") from exc
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    print(f"serving {db} read-only at {url}/{db.stem} (dashboard: {url}/-/dashboards/{DASHBOARD}); "
          "Ctrl-C to stop", flush=True)
    serve(db, sock, read_only)
    return EXIT_OK
