"""The demo web server: serves the demo sites on 127.0.0.1 as an HTTP proxy would.

Crawlers send it absolute URLs of the `.test` demo hosts (Scrapy's proxy support), so the site
modules keep realistic host names and the crawl never leaves the machine: a host that is not a
demo site gets a 403, nothing is ever forwarded.
"""
from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from crawler.demo.scripted import SCRIPTED_SITES
from crawler.demo.sites import SITES_BY_HOST

log = logging.getLogger(__name__)
SCRIPTED_BY_HOST = {site.host: site for site in SCRIPTED_SITES.values()}


class DemoHandler(BaseHTTPRequestHandler):
    server_version = "DemoGov/1.0"

    def do_GET(self):
        target = urlsplit(self.path)
        host = (target.hostname or self.headers.get("Host", "").split(":")[0]).lower()
        site = SITES_BY_HOST.get(host) or SCRIPTED_BY_HOST.get(host)
        if site is None:
            self._send(403, "text/plain; charset=utf-8", f"not a demo host: {host}".encode())
            return
        path = target.path + (f"?{target.query}" if target.query else "")
        if hasattr(site, "reply"):  # a site that reads request headers or sets its own (crawler.demo.scripted)
            self._send(*site.reply(path, self.headers))
            return
        status, body = site.respond(path)
        self._send(status, site.content_type_of(path), body)

    def _send(self, status: int, content_type: str, body: bytes, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        log.debug("demo server: " + format, *args)


class DemoServer:
    """`with DemoServer() as server:` serves the demo sites on a free loopback port."""

    def __init__(self, port: int = 0):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), DemoHandler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="demo-server", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "DemoServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def main(argv: list[str] | None = None) -> None:
    """`python -m crawler.demo.server`: serve the demo sites for a while, e.g. to try
    `crawler new-site` and `crawler fixture save --proxy` on them by hand."""
    import argparse
    import time

    parser = argparse.ArgumentParser(prog="python -m crawler.demo.server", description=main.__doc__,
                                     epilog="example:\n  python -m crawler.demo.server --port 8800 --minutes 30",
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0, help="loopback port (default: a free one)")
    parser.add_argument("--minutes", type=float, default=10, help="stop after this long (default: 10)")
    args = parser.parse_args(argv)
    with DemoServer(args.port) as server:
        print(f"demo sites on {server.url} (an HTTP proxy for the .test hosts); stops in {args.minutes:g} min or on Ctrl-C",
              flush=True)
        try:
            time.sleep(args.minutes * 60)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
