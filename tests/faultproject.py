"""A scratch Scrapy project holding the fault site module (tests/fault_spiders/faultsite.py),
and the `crawler` command run in it against a FaultServer: used by the fault tests and the
soak benchmark."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE_MODULE = Path(__file__).parent / "fault_spiders" / "faultsite.py"


def make_project(folder: Path, extra_modules: dict[str, str] | None = None) -> Path:
    """`folder` with scrapy.cfg and a `spiders/` package: the fault site plus `extra_modules`
    (module name -> source)."""
    (folder / "spiders").mkdir(parents=True)
    shutil.copy(ROOT / "scrapy.cfg", folder / "scrapy.cfg")
    (folder / "spiders" / "__init__.py").write_text("")
    shutil.copy(SITE_MODULE, folder / "spiders" / "faultsite.py")
    for name, source in (extra_modules or {}).items():
        (folder / "spiders" / f"{name}.py").write_text(source)
    return folder


def run_in_project(project: Path, server, *args: str, starts=("/list/1.html",), settings=None, env=None,
                   prelude: str = "", timeout: float = 120) -> subprocess.CompletedProcess:
    """`crawler ARGS` in `project`, the fault site pointed at `server` with Scrapy `settings`.
    `prelude` is Python run first in the same process (to tamper with the store's connection)."""
    code = f"import sys\n{prelude}\nfrom crawler.cli import main\nsys.exit(main(sys.argv[1:]))"
    environment = {**os.environ, "FAULT_SITE_URL": server.url, "FAULT_SITE_STARTS": json.dumps(list(starts)),
                   "FAULT_SITE_SETTINGS": json.dumps(settings or {}), **(env or {})}
    return subprocess.run([sys.executable, "-c", code, *args], cwd=project, env=environment,
                          capture_output=True, text=True, timeout=timeout)
