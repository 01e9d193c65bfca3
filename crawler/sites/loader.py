"""Scrapy's spider loader, except that one broken site module does not hide the others.

Scrapy imports the whole `spiders/` package in one go, so a syntax error in one site module
stops every crawl. Here each module is imported on its own; a module that fails is recorded in
`broken` (module name -> one-line reason) and the other sites load as usual.
"""
from __future__ import annotations

import importlib
import pkgutil

from scrapy.spiderloader import SpiderLoader, get_spider_loader
from scrapy.utils.project import get_project_settings


def one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".replace("\n", " ")


class SiteLoader(SpiderLoader):
    def _load_all_spiders(self) -> None:
        self.broken: dict[str, str] = {}
        for package_name in self.spider_modules:
            for module_name in self._module_names(package_name):
                try:
                    module = importlib.import_module(module_name)
                except Exception as exc:  # a site module is operator code: report it, load the rest
                    self.broken[module_name] = one_line(exc)
                else:
                    self._load_spiders(module)
        self._check_name_duplicates()

    def _module_names(self, package_name: str) -> list[str]:
        try:
            package = importlib.import_module(package_name)
        except Exception as exc:
            self.broken[package_name] = one_line(exc)
            return []
        if not hasattr(package, "__path__"):
            return [package_name]
        found = pkgutil.walk_packages(package.__path__, prefix=f"{package_name}.",
                                      onerror=lambda name: self.broken.setdefault(name, "cannot import package"))
        return [package_name, *(info.name for info in found)]


def broken_site_modules() -> dict[str, str]:
    """Site modules of this project that cannot be loaded, with the reason."""
    return getattr(get_spider_loader(get_project_settings()), "broken", {})
