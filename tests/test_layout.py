"""The packages of crawler/ import one way only (docs/developers.md, Layout): a page stage never
imports Scrapy wiring, the wiring never imports the commands."""
from __future__ import annotations

import ast
from pathlib import Path

CRAWLER = Path(__file__).resolve().parent.parent / "crawler"

# What each package may import from crawler/ besides itself.
ALLOWED = {
    "article": set(),
    "storage": {"article"},
    "chain": {"article", "storage"},
    "sites": {"article"},
    "crawl": {"article", "storage", "chain", "sites", "site"},
    "distributed": {"article", "storage", "chain", "sites", "site", "settings"},
    "report": {"storage"},
    "serve": {"report", "storage"},
    "demo": set(),
}


def _imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "crawler":
            parts = node.module.split(".")
            found |= {parts[1]} if len(parts) > 1 else {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("crawler.")}
    return found


def test_every_package_is_listed_with_a_docstring():
    packages = {p.parent.name for p in CRAWLER.glob("*/__init__.py")}
    assert packages == set(ALLOWED) | {"commands"}
    for name in packages - {"demo"}:
        assert ast.get_docstring(ast.parse((CRAWLER / name / "__init__.py").read_text())), name


def test_imports_point_down_only():
    wrong = []
    for package, allowed in ALLOWED.items():
        for module in sorted((CRAWLER / package).rglob("*.py")):
            for imported in _imported_packages(module) - allowed - {package}:
                wrong.append(f"{module.relative_to(CRAWLER)} imports crawler.{imported}")
    assert not wrong, "\n".join(wrong)
