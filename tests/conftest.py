"""Shared fixtures: real crawls of the demo sites, run as the `crawler` command in a subprocess
(Twisted's reactor runs once per process, and this is how operators run it too)."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SEED_EXPECTED = SHARED / "seeds" / "expected"


def run_crawler(*args: str, cwd: Path = ROOT, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run `crawler ARGS...` with this interpreter's environment; never raises on exit codes."""
    return subprocess.run([sys.executable, "-m", "crawler.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def connect(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    return conn


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
