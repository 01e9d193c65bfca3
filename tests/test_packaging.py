"""The project as a package: pyproject.toml declares what the code imports, and the wheel alone,
installed into an empty venv from the pinned wheels `make install` keeps (offline), runs."""
from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from conftest import ROOT

PACKAGES = ("crawler", "spiders")
WHEELS = Path(sys.prefix) / "wheels"  # filled by `make install` (pip wheel of the pinned requirements)
FIXTURE = ROOT / "tests" / "sites" / "investchn" / "i0718"  # GBK bytes, declared gb2312


def _name(requirement: str) -> str:
    """A requirement's project name, normalised as PEP 503 does."""
    return re.sub(r"[-_.]+", "-", re.split(r"[\s<>=!~;\[(]", requirement.strip(), maxsplit=1)[0]).lower()


def imported_modules() -> set[str]:
    """Top-level modules that crawler/ and spiders/ import, other than the standard library's and ours."""
    found = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if isinstance(node, ast.Import):
                    found.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    found.add(node.module.split(".")[0])
    return {name for name in found if name not in sys.stdlib_module_names and name not in PACKAGES}


def test_every_module_the_code_imports_is_a_declared_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    declared = {_name(requirement) for requirement in project["dependencies"]}
    providers = packages_distributions()
    undeclared = {module: providers.get(module) for module in imported_modules()
                  if not declared & {_name(dist) for dist in providers.get(module, [])}}
    assert not undeclared, f"imported but not in pyproject.toml's dependencies: {undeclared}"


def _project_files() -> set[str]:
    """What the package consists of: every file under crawler/ and spiders/ but bytecode."""
    return {path.relative_to(ROOT).as_posix() for package in PACKAGES for path in (ROOT / package).rglob("*")
            if path.is_file() and "__pycache__" not in path.parts}


def test_the_wheel_alone_installs_offline_into_an_empty_venv_and_extracts_a_page(tmp_path):
    if not WHEELS.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{WHEELS} is missing in CI: `make install` fills it")
        pytest.skip(f"no pinned wheels at {WHEELS} (`make install` fills it)")
    source = tmp_path / "source"  # built from a copy: a build leaves build/ and *.egg-info behind
    for package in PACKAGES:
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", source)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index",
                            "--no-build-isolation", "-w", str(tmp_path / "dist"), str(source)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    wheel = next((tmp_path / "dist").glob("*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        missing = _project_files() - set(archive.namelist())
    assert not missing, f"files the wheel leaves out (package data?): {sorted(missing)}"

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    installed = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                                "--disable-pip-version-check", "--no-index", "--find-links", str(WHEELS), str(wheel)],
                               capture_output=True, text=True, timeout=600)
    assert installed.returncode == 0, installed.stderr

    # Outside the project folder, so that only the installed package can be imported.
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "crawler.settings"}
    crawler = str(venv / "bin" / "crawler")
    helped = subprocess.run([crawler, "--help"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert helped.returncode == 0, helped.stderr
    assert "extract" in helped.stdout
    url = json.loads(FIXTURE.with_suffix(".meta.json").read_text("utf-8"))["url"]
    extracted = subprocess.run([crawler, "extract", "--url", url, str(FIXTURE.with_suffix(".html"))], cwd=tmp_path,
                               env=env, capture_output=True, text=True, timeout=120)
    assert extracted.returncode == 0, extracted.stderr
    record = json.loads(extracted.stdout)
    expected = json.loads(FIXTURE.with_suffix(".expected.json").read_text("utf-8"))
    assert record["extractor"] == "site:investchn"
    assert (record["title"], record["published"], record["body"].split("\n")) == (
        expected["title"], expected["published"], expected["body"])
