"""Site fixtures: a page's bytes exactly as served plus the record the site must produce from them.

    tests/sites/<site>/<page>.html           the bytes as served (any encoding)
    tests/sites/<site>/<page>.meta.json      url, content_type, fetched_at
    tests/sites/<site>/<page>.expected.json  the expected record (UTF-8, sorted keys, body as a list
                                             of paragraphs so that a review and a diff read per line)

`crawler fixture save` writes them; `tests/test_site_fixtures.py` checks every one of them.
"""
from __future__ import annotations

import difflib
import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from crawler.article.clean import RECORD_FIELDS
from crawler.article.items import Page


class FetchError(Exception):
    """The page could not be fetched; the message says why."""


@dataclass(frozen=True)
class Fixture:
    site: str
    name: str
    folder: Path

    @property
    def html(self) -> Path:
        return self.folder / f"{self.name}.html"

    @property
    def meta(self) -> Path:
        return self.folder / f"{self.name}.meta.json"

    @property
    def expected(self) -> Path:
        return self.folder / f"{self.name}.expected.json"

    def page(self) -> Page:
        meta = json.loads(self.meta.read_text("utf-8"))
        return Page(url=meta["url"], site=self.site, body=self.html.read_bytes(),
                    content_type=meta.get("content_type"), fetched_at=meta["fetched_at"])

    def expected_record(self) -> dict:
        return json.loads(self.expected.read_text("utf-8"))


def fixtures_of(root: Path, site: str) -> list[Fixture]:
    folder = root / site
    return [Fixture(site, path.name.removesuffix(".meta.json"), folder)
            for path in sorted(folder.glob("*.meta.json"))]


def page_name(url: str) -> str:
    """A file name for the page of a URL: its last path segment without extension."""
    segment = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    stem = re.sub(r"\.[A-Za-z0-9]+$", "", segment)
    return re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_") or "index"


def fetch(url: str, user_agent: str, proxy: str | None = None, timeout: float = 30) -> Page:
    """The page bytes as the server sends them (no decoding, no decompression asked for)."""
    handlers = [urllib.request.ProxyHandler({"http": proxy, "https": proxy})] if proxy else []
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(url, headers={"User-Agent": user_agent})
    try:
        with opener.open(request, timeout=timeout) as response:
            return Page(url=response.geturl(), site=None, body=response.read(),
                        content_type=response.headers.get("Content-Type"))
    except urllib.error.HTTPError as exc:
        raise FetchError(f"cannot fetch {url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise FetchError(f"cannot fetch {url}: {getattr(exc, 'reason', exc)}") from exc


def expected_of(record: dict) -> dict:
    """The part of a record that fixtures pin down, body split into paragraphs."""
    expected = {name: record.get(name) for name in RECORD_FIELDS}
    expected["body"] = record["body"].split("\n") if record.get("body") else []
    return expected


def to_json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1) + "\n"


def save(fixture: Fixture, page: Page, record: dict) -> None:
    fixture.folder.mkdir(parents=True, exist_ok=True)
    fixture.html.write_bytes(page.body)
    fixture.meta.write_text(to_json({"url": page.url, "content_type": page.content_type,
                                     "fetched_at": page.fetched_at}), "utf-8")
    fixture.expected.write_text(to_json(expected_of(record)), "utf-8")


def differences(expected: dict, actual: dict) -> list[str]:
    """One entry per field that differs; the body as a diff of its paragraphs."""
    found = []
    for name in sorted(set(expected) | set(actual)):
        want, got = expected.get(name), actual.get(name)
        if want == got:
            continue
        if name == "body":
            diff = difflib.unified_diff(want or [], got or [], "expected", "extracted", n=1, lineterm="")
            found.append("body:\n" + "\n".join(f"    {line}" for line in diff))
        else:
            found.append(f"{name}: expected {want!r}, extracted {got!r}")
    return found


def review_warnings(record: dict, site: str) -> list[str]:
    """What the operator should look at before trusting a freshly saved expected record."""
    warnings = []
    if record.get("lossy_decode"):
        warnings.append("the page did not decode cleanly (replacement characters in the text)")
    if not record.get("body"):
        warnings.append("the body is empty")
    elif record.get("extractor") != f"site:{site}":
        warnings.append(f"the body came from the {record.get('extractor')} extractor, not the site's body selector")
    for name in ("title", "published"):
        if not record.get(name):
            warnings.append(f"no {name} found")
    return warnings
