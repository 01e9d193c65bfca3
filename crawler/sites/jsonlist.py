"""JSON list endpoints: a site module declares the URL template (page N) and JMESPath
expressions for the article links, titles and dates; paging is the same as for HTML lists."""
from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urljoin

import jmespath

@dataclass(frozen=True)
class JsonList:
    """A list served as JSON: `url` with `{n}` (page number from 1) or `{i}` (from 0), and
    JMESPath expressions that give the article links (and, if the API has them, their titles
    and dates) in list order, e.g. `links="data.list[].url"`."""
    url: str
    links: str
    titles: str | None = None
    dates: str | None = None

    def __post_init__(self):
        if "{n}" not in self.url and "{i}" not in self.url:
            raise ValueError(f"JsonList url needs {{n}} or {{i}}: {self.url!r}")
        for expression in (self.links, self.titles, self.dates):
            if expression:
                jmespath.compile(expression)  # a typo fails when the site module is loaded

    @property
    def first_url(self) -> str:
        return self.url.replace("{n}", "1").replace("{i}", "0")

    def items(self, body: str, url: str) -> list[dict]:
        """The listed articles: [{url, title, published}] with absolute URLs."""
        try:
            data = json.loads(body)
        except ValueError:
            return []
        links = _as_list(jmespath.search(self.links, data))
        titles = _as_list(jmespath.search(self.titles, data)) if self.titles else []
        dates = _as_list(jmespath.search(self.dates, data)) if self.dates else []
        return [{"url": urljoin(url, str(link)),
                 "title": titles[i] if i < len(titles) else None,
                 "published": str(dates[i]) if i < len(dates) and dates[i] is not None else None}
                for i, link in enumerate(links) if isinstance(link, str) and link.strip()]


def _as_list(value) -> list:
    return value if isinstance(value, list) else [] if value is None else [value]
