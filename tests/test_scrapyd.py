"""Scrapyd deployment as docs/operators.md describes it: `scrapyd-deploy` builds the project's
egg, a Scrapyd on 127.0.0.1 takes it and runs a demo site's job through the demo server.

scrapyd and scrapyd-client are pinned in requirements-dev.txt; where they are not installed
the tests skip with the reason, except in CI (CI=true), where they fail."""
from __future__ import annotations

import configparser
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, connect, copy_project
from crawler.demo.server import DemoServer
from crawler.demo.sites import SITES
from crawler.sites.spider import site_classes

BIN = Path(sys.executable).parent
JOB_SECONDS = 120


def tool(name: str) -> Path:
    path = BIN / name
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing in CI: `make install` installs requirements-dev.txt")
        pytest.skip(f"{name} not installed (pinned in requirements-dev.txt: `make install`)")
    return path


def deployable(tmp_path: Path, scrapyd_url: str | None = None) -> Path:
    """A copy of the project, as an operator's checkout, with a [deploy] target if given."""
    project = copy_project(tmp_path / "project")
    shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
    if scrapyd_url:
        with open(project / "scrapy.cfg", "a", encoding="utf-8") as cfg:
            cfg.write(f"\n[deploy]\nurl = {scrapyd_url}/\nproject = crawler\n")
    return project


def test_the_egg_scrapyd_deploy_builds_names_the_settings_module(tmp_path):
    project = deployable(tmp_path)
    egg = tmp_path / "crawler.egg"
    built = subprocess.run([str(tool("scrapyd-deploy")), "--build-egg", str(egg)], cwd=project,
                           capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stderr
    with zipfile.ZipFile(egg) as archive:
        names = set(archive.namelist())
        entry_points = configparser.ConfigParser()
        entry_points.read_string(archive.read("EGG-INFO/entry_points.txt").decode("utf-8"))
    # Scrapyd's runner reads this entry point to find the settings (the job fails without it).
    assert entry_points["scrapy"]["settings"] == "crawler.settings"
    assert {"crawler/settings.py", "spiders/laowu.py", "crawler/demo/content/seeds.json"} <= names


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _api(base: str, endpoint: str, **form) -> dict:
    data = urllib.parse.urlencode(form, doseq=True).encode() if form else None
    with urllib.request.urlopen(f"{base}/{endpoint}", data=data, timeout=30) as response:
        return json.loads(response.read().decode("utf-8"))


@pytest.fixture
def scrapyd(tmp_path):
    """A Scrapyd of its own on a free loopback port, in a folder of its own (HOME too, so that a
    ~/.scrapyd.conf of the machine's user does not apply); its base URL."""
    program = tool("scrapyd")
    home = tmp_path / "scrapyd"
    home.mkdir()
    port = _free_port()
    (home / "scrapyd.conf").write_text(
        f"[scrapyd]\nbind_address = 127.0.0.1\nhttp_port = {port}\nmax_proc = 1\npoll_interval = 0.5\n"
        "items_dir =\n", "utf-8")
    process = subprocess.Popen([str(program)], cwd=home, env={**os.environ, "HOME": str(home)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if _api(base, "daemonstatus.json")["status"] == "ok":
                    break
            except OSError:
                assert process.poll() is None, process.stderr.read()
                assert time.monotonic() < deadline, "scrapyd never answered"
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_deployed_project_runs_a_demo_site_job_on_a_loopback_scrapyd(tmp_path, scrapyd):
    project = deployable(tmp_path, scrapyd)
    deployed = subprocess.run([str(tool("scrapyd-deploy"))], cwd=project, capture_output=True, text=True,
                              timeout=120)
    assert deployed.returncode == 0, deployed.stderr + deployed.stdout
    answer = json.loads(deployed.stdout)
    assert (answer["status"], answer["spiders"]) == ("ok", len(site_classes()))  # every module in spiders/

    db = tmp_path / "jobs.db"
    with DemoServer() as server:
        job = _api(scrapyd, "schedule.json", project="crawler", spider="laowu", setting=[
            f"CRAWLER_DB={db}", f"PROXY_URL={server.url}", "AUTOTHROTTLE_ENABLED=0", "DOWNLOAD_DELAY=0"])
        assert job["status"] == "ok", job
        deadline = time.monotonic() + JOB_SECONDS
        while not any(j["id"] == job["jobid"] for j in _api(scrapyd, "listjobs.json")["finished"]):
            assert time.monotonic() < deadline, "the job did not finish"
            time.sleep(0.5)

    log = next((tmp_path / "scrapyd" / "logs" / "crawler" / "laowu").glob("*.log")).read_text("utf-8")
    assert "Traceback" not in log
    with connect(db) as conn:
        runs = conn.execute("SELECT site, status, articles_new FROM crawl_runs").fetchall()
        stored = conn.execute("SELECT COUNT(*) FROM articles WHERE site = 'laowu'").fetchone()[0]
    assert [tuple(run) for run in runs] == [("laowu", "ok", stored)]
    assert stored == len(SITES["laowu"].articles)
