"""Shared fixtures: real crawls of the demo sites, run as the `crawler` command in a subprocess
(Twisted's reactor runs once per process, and this is how operators run it too)."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SEED_EXPECTED = SHARED / "seeds" / "expected"
CHROMIUM = Path("/usr/bin/chromium")  # Debian's, from `make browser-deps` (the RENDER_BROWSER setting)


def run_crawler(*args: str, cwd: Path = ROOT, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run `crawler ARGS...` with this interpreter's environment; never raises on exit codes."""
    return subprocess.run([sys.executable, "-m", "crawler.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def connect(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    return conn


@pytest.fixture(scope="session")  # session, like demo_db: checked before the demo crawl starts
def chromium() -> Path:
    """Debian's Chromium: a skip with the reason outside CI when it is missing, a failure in CI."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI: `make browser-deps` must install it")
        pytest.skip(f"{CHROMIUM} not installed (run `make browser-deps`)")
    return CHROMIUM


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """One demo crawl into a fresh database, shared by the tests that only read it."""
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    result = run_crawler("demo", "--db", str(db))
    assert result.returncode == 0, result.stderr
    return db, result


@pytest.fixture(scope="session")
def demo_db(demo_run) -> Path:
    return demo_run[0]


def seed_expectations() -> list[dict]:
    if not SEED_EXPECTED.is_dir():
        return []
    return [json.loads(p.read_text("utf-8")) for p in sorted(SEED_EXPECTED.glob("*.json"))]


def copy_database(source: Path, dest: Path) -> Path:
    """A copy of a SQLite file with what its WAL holds (a plain file copy would leave out the
    pages another test's Store committed and has not checkpointed yet)."""
    with sqlite3.connect(source) as reading, sqlite3.connect(dest) as writing:
        reading.backup(writing)
    reading.close()
    writing.close()
    return dest


def copy_project(dest: Path) -> Path:
    """A copy of the project's code (crawler/, spiders/, tests/, scrapy.cfg) to run commands in
    that change it, e.g. `new-site` or a selector edit. Commands run with `cwd=` the copy import
    the copy's packages, since `python -m` puts the working directory first on sys.path."""
    ignore = shutil.ignore_patterns("__pycache__", ".pytest_cache")
    for name in ("crawler", "spiders", "tests"):
        shutil.copytree(ROOT / name, dest / name, ignore=ignore)
    shutil.copy(ROOT / "scrapy.cfg", dest / "scrapy.cfg")
    return dest


def run_scrapy(*args: str, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scrapy", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


def crawl_through(server_url: str, site: str, db: Path, cwd: Path) -> subprocess.CompletedProcess:
    """`scrapy crawl SITE` of a demo site through the running demo server, unthrottled."""
    return run_scrapy("crawl", site, "-s", f"CRAWLER_DB={db}", "-s", f"PROXY_URL={server_url}",
                      "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "DOWNLOAD_DELAY=0", "-s", "LOG_LEVEL=WARNING", cwd=cwd)
