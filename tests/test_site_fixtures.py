"""Every site's fixtures: saved page bytes in, the reviewed expected record out, field by field.

Fixture folders live in tests/sites/<site>/ (written by `crawler new-site`, filled by
`crawler fixture save`); a site module without a folder, or a folder without a site module,
is an error. A new site whose folder holds no page yet is skipped with a hint.
"""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import parsel
import pytest

from conftest import SEED_EXPECTED, seed_expectations
from crawler.article.extract import select
from crawler.sites.fixtures import differences, expected_of, fixtures_of
from crawler.sites.pagers import check_next_page
from crawler.chain.process import record_of
from crawler.sites.spider import site_classes

FIXTURES = Path(__file__).parent / "sites"
SITES = site_classes()
FIELDS = {"title", "published", "source", "author", "summary", "body"}


def _cases():
    for site in sorted(SITES):
        pages = fixtures_of(FIXTURES, site)
        if not pages:
            yield pytest.param(site, None, id=f"{site}-no-pages")
        for fixture in pages:
            yield pytest.param(site, fixture, id=f"{site}-{fixture.name}")


@pytest.mark.parametrize(("site", "fixture"), list(_cases()))
def test_site_fixture(site, fixture):
    if fixture is None:
        pytest.skip(f"{site}: no fixture page yet; record one with `crawler fixture save URL --site {site}`")
    actual = expected_of(record_of(fixture.page(), SITES[site]))
    found = differences(fixture.expected_record(), actual)
    assert not found, f"{site}/{fixture.name}: {len(found)} field(s) differ\n" + "\n".join(found)


def test_every_site_module_has_a_fixture_folder_and_every_folder_a_site_module():
    folders = {path.name for path in FIXTURES.iterdir() if path.is_dir()}
    assert folders == set(SITES), (f"site modules without tests/sites/<name>/: {sorted(set(SITES) - folders)}; "
                                   f"fixture folders without a site module: {sorted(folders - set(SITES))}")


@pytest.mark.parametrize("site", sorted(SITES))
def test_site_module_is_well_formed(site):
    """What a typo in a site module breaks, caught before any crawl: field names, selector syntax,
    start URLs outside the allowed domains."""
    spider = SITES[site]
    assert spider.allowed_domains, f"{site}: no allowed_domains"
    assert spider.start_urls, f"{site}: no start_urls"
    for url in spider.start_urls:
        host = urlsplit(url).hostname or ""
        assert any(host == d or host.endswith("." + d) for d in spider.allowed_domains), f"{site}: {url} not allowed"
    assert set(spider.fields) <= FIELDS, f"{site}: unknown field(s) {sorted(set(spider.fields) - FIELDS)}"
    page = parsel.Selector(text="<html><body></body></html>")
    check_next_page(spider.next_page)  # a pager name, a URL template or a selector
    for query in [spider.article_links, *spider.fields.values(), *spider.drop]:
        if query:
            select(page, query)  # raises on a CSS or XPath syntax error


# The seed article of each demo site, recorded as a fixture: its reviewed record must agree with
# the seed's own expected record, so a careless re-save cannot freeze junk or mojibake.
SEED_FIXTURES = {"000": "laowu/show-l0817", "001": "investchn/i0718", "002": "huaian/h0724",
                 "003": "gdcyxx/g0927", "004": "czgx/c0226"}


@pytest.mark.parametrize("number", sorted(SEED_FIXTURES))
def test_seed_fixtures_agree_with_the_seed_records(number):
    seed = next((e for e in seed_expectations() if e["seed"].startswith(number)), None)
    if seed is None:
        pytest.skip(f"seed records not available at {SEED_EXPECTED}")
    text = (FIXTURES / f"{SEED_FIXTURES[number]}.expected.json").read_text("utf-8")
    expected = json.loads(text)
    for name in ("title", "published", "source", "summary", "body", "script"):
        if name in seed:
            assert expected[name] == seed[name], f"{number}: {name}"
    assert not [junk for junk in seed["must_not_contain"] if junk in text]
    assert "\ufffd" not in text
