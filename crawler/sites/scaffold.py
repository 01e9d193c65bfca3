"""`crawler new-site`: a site module and its fixture folder, written from the templates in
`crawler/sites/templates/` (the way `scrapy genspider` does it)."""
from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from string import Template
from urllib.parse import urlsplit

from scrapy.utils.conf import closest_scrapy_cfg
from scrapy.utils.project import get_project_settings

TEMPLATES = Path(__file__).parent / "templates"
FIXTURES = Path("tests") / "sites"  # fixture folders, relative to the project folder


class ScaffoldError(Exception):
    """The name or URL cannot be used; the message says why."""


@dataclass(frozen=True)
class Project:
    root: Path  # the folder holding scrapy.cfg
    spiders: Path  # the package of site modules (NEWSPIDER_MODULE)

    @property
    def fixtures(self) -> Path:
        return self.root / FIXTURES


def current_project() -> Project:
    """The crawler project around the working directory."""
    cfg = closest_scrapy_cfg()
    if not cfg:
        raise ScaffoldError("not inside a crawler project (no scrapy.cfg in this folder or above)")
    package = import_module(get_project_settings()["NEWSPIDER_MODULE"])
    return Project(root=Path(cfg).parent, spiders=Path(package.__file__).parent)


def check_name(name: str, taken: set[str]) -> None:
    if not name.isidentifier() or not name.isascii():
        raise ScaffoldError(f"invalid site name {name!r}: use a Python identifier such as 'jingmen_gov' "
                            "(ASCII letters, digits and _, not starting with a digit)")
    if keyword.iskeyword(name) or name.startswith("_"):
        raise ScaffoldError(f"invalid site name {name!r}: it is a Python keyword or starts with _")
    if name in taken:
        raise ScaffoldError(f"site {name!r} already exists; choose another name")


def allowed_domain(start_url: str) -> str:
    """The domain a site may crawl: the start URL's host without `www.`, so that links to
    both `www.x.gov.cn` and `x.gov.cn` are followed."""
    parts = urlsplit(start_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ScaffoldError(f"invalid start URL {start_url!r}: give a full http(s) URL such as http://www.example.gov.cn/xwzx/")
    return parts.hostname.lower().removeprefix("www.")


def class_name(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"_+", name) if part) + "Spider"


def render(template: str, **values: str) -> str:
    return Template((TEMPLATES / template).read_text("utf-8")).substitute(values)


def new_site(project: Project, name: str, start_url: str, existing: set[str]) -> list[Path]:
    """Write the site module and its fixture folder; return the files written."""
    module = project.spiders / f"{name}.py"
    folder = project.fixtures / name
    check_name(name, existing | {p.stem for p in project.spiders.glob("*.py")}
               | {p.name for p in project.fixtures.glob("*") if p.is_dir()})
    domain = allowed_domain(start_url)
    values = {"name": name, "classname": class_name(name), "domain": domain, "start_url": start_url}
    folder.mkdir(parents=True)
    readme = folder / "README.md"
    readme.write_text(render("fixtures_readme.md.tmpl", **values), "utf-8")
    module.write_text(render("site.py.tmpl", **values), "utf-8")
    return [module, readme]
