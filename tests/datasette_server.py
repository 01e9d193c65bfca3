"""`crawler serve` as operators run it: a subprocess on a free loopback port, stopped at the end."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from conftest import ROOT

STARTUP_SECONDS = 30


@contextmanager
def serving(db: Path, prefix: tuple[str, ...] = ()):
    """Yield the base URL (`http://127.0.0.1:PORT`) of `crawler serve --db DB --port 0`, run
    after `prefix` (a command that runs another, such as setpriv)."""
    proc = subprocess.Popen([*prefix, sys.executable, "-m", "crawler.cli", "serve", "--db", str(db), "--port", "0"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert found, f"serve did not start: {line!r} {proc.stderr.read() if proc.poll() is not None else ''}"
        base = found.group(0)
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                urllib.request.urlopen(f"{base}/-/versions.json", timeout=5).close()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "serve never answered"
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def get_json(base: str, path: str, **params) -> dict | list:
    url = f"{base}{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read().decode("utf-8"))


def sql_rows(base: str, db_name: str, sql: str) -> list[dict]:
    return get_json(base, f"/{db_name}.json", sql=sql, _shape="array")
