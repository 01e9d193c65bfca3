"""`crawler new-site` and `crawler fixture save`, run the way an operator runs them: in a copy of
the project, against the demo server, then the copy's own fixture test."""
from __future__ import annotations

import filecmp
import json
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, connect, copy_project, crawl_through, run_crawler, run_scrapy
from crawler.demo.server import DemoServer
from crawler.demo.sites import NEW_SITES, SITES

# What an operator types into the scaffolded module of the duodao demo site, a TRS portal whose
# pager is a script: selectors and one pager line.
DUODAO_SELECTORS = {
    'article_links = ""': 'article_links = "ul.list-con li a"',
    "next_page = None": 'next_page = "trs"',
    "fields = {\n    }": 'fields = {\n        "title": ".xl-tit",\n        "published": ".xl-attr",\n'
                         '        "body": "#xlcon",\n    }',
}


def fixture_tests(project, *args, select="not agree_with_the_seed_records") -> subprocess.CompletedProcess:
    """The copy's fixture test (the seed records in ../shared are not beside the copy)."""
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs", "-k", select,
                           "tests/test_site_fixtures.py", *args], cwd=project, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def project(tmp_path):
    return copy_project(tmp_path / "project")


def add_duodao(project) -> None:
    """What the walk-through in docs/operators.md has an operator do: scaffold the duodao demo
    site and type in its selectors. A checkout where the operator already did it starts over."""
    (project / "spiders" / "duodao.py").unlink(missing_ok=True)
    shutil.rmtree(project / "tests" / "sites" / "duodao", ignore_errors=True)
    site = NEW_SITES["duodao"]
    assert run_crawler("new-site", "duodao", f"http://{site.host}{site.first_list}", cwd=project).returncode == 0
    module = project / "spiders" / "duodao.py"
    text = module.read_text("utf-8")
    for old, new in DUODAO_SELECTORS.items():
        assert old in text
        text = text.replace(old, new)
    module.write_text(text, "utf-8")


def save_duodao_seed(project, server) -> subprocess.CompletedProcess:
    site = NEW_SITES["duodao"]
    seed = next(a for a in site.articles if a.slug == "l0817")
    return run_crawler("fixture", "save", f"http://{site.host}{site.url_of(seed)}", "--site", "duodao", "--name",
                       "seed", "--proxy", server.url, cwd=project)


def test_a_new_site_passes_scrapy_list_and_the_fixture_tests_right_away(project):
    result = run_crawler("new-site", "jingmen_gov", "http://www.jingmen.gov.test/xwzx/", cwd=project)
    assert result.returncode == 0, result.stderr
    module = (project / "spiders" / "jingmen_gov.py").read_text("utf-8")
    assert "class JingmenGovSpider(SiteSpider)" in module
    assert 'allowed_domains = ["jingmen.gov.test"]' in module  # www. and bare host alike
    assert (project / "tests" / "sites" / "jingmen_gov" / "README.md").is_file()

    listed = run_scrapy("list", cwd=project)
    assert listed.returncode == 0, listed.stderr
    assert "jingmen_gov" in listed.stdout.split()

    tests = fixture_tests(project)
    assert tests.returncode == 0, tests.stdout
    assert "1 skipped" in tests.stdout and "jingmen_gov: no fixture page yet" in tests.stdout


@pytest.mark.parametrize(("name", "url", "message"), [
    ("laowu", "http://www.x.test/", "site 'laowu' already exists"),
    ("class", "http://www.x.test/", "Python keyword"),
    ("9news", "http://www.x.test/", "invalid site name '9news'"),
    ("news-site", "http://www.x.test/", "invalid site name 'news-site'"),
    ("新闻", "http://www.x.test/", "invalid site name '新闻'"),
    ("fine_name", "www.x.test/news/", "invalid start URL"),
])
def test_new_site_refuses_a_taken_or_invalid_name_and_writes_nothing(project, name, url, message):
    def written():  # the operator's own sites are there too: compare with before, not with the demo's
        return [sorted(p.name for p in (project / folder).iterdir()) for folder in ("spiders", "tests/sites")]

    before = written()
    assert set(SITES) <= set(before[1])
    result = run_crawler("new-site", name, url, cwd=project)
    assert result.returncode == 3
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert written() == before


def test_a_new_demo_site_added_with_new_site_and_selectors_only_crawls_and_passes_its_fixture_test(project, tmp_path):
    site = NEW_SITES["duodao"]
    seed = next(a for a in site.articles if a.slug == "l0817")
    seed_url = f"http://{site.host}{site.url_of(seed)}"
    db = tmp_path / "duodao.db"

    add_duodao(project)
    with DemoServer() as server:
        crawled = crawl_through(server.url, "duodao", db, cwd=project)
        assert crawled.returncode == 0, crawled.stderr
        saved = save_duodao_seed(project, server)
        assert saved.returncode == 0, saved.stderr
        assert "warning" not in saved.stderr
        served = site.respond(site.url_of(seed))[1]

    with connect(db) as conn:
        rows = {row["title"]: row for row in conn.execute("SELECT * FROM articles WHERE site = 'duodao'")}
    assert len(rows) == len(site.articles) == 12
    for article in site.articles:
        row = rows[article.title]
        assert row["body"].split("\n") == list(article.paragraphs), article.slug
        assert row["published"] == article.published and row["extractor"] == "site:duodao"

    folder = project / "tests" / "sites" / "duodao"
    assert (folder / "seed.html").read_bytes() == served  # GBK bytes, exactly as served
    expected = json.loads((folder / "seed.expected.json").read_text("utf-8"))
    assert (expected["title"], expected["published"], expected["body"]) == (seed.title, seed.published,
                                                                          list(seed.paragraphs))
    assert json.loads((folder / "seed.meta.json").read_text("utf-8"))["url"] == seed_url

    tests = fixture_tests(project, "-v")
    assert tests.returncode == 0, tests.stdout
    assert "test_site_fixture[duodao-seed] PASSED" in tests.stdout and "SKIPPED" not in tests.stdout

    # No core edit: the copy's crawler package is byte for byte the project's.
    differ = filecmp.dircmp(ROOT / "crawler", project / "crawler", ignore=["__pycache__"])
    assert not differ.diff_files and not differ.left_only and not differ.right_only


def test_the_tests_stay_green_after_an_operator_adds_a_site_and_its_fixture(project):
    """An operator's checkout with a sixth site: the tests that list sites or fixture folders,
    and this file's own walk-through (which adds duodao again), pass in it."""
    add_duodao(project)
    with DemoServer() as server:
        assert save_duodao_seed(project, server).returncode == 0
    tests = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-v", "-k",
                            "not agree_with_the_seed_records and not operator_adds_a_site and not right_away "
                            "and not field_level_diff",
                            "tests/test_new_site.py", "tests/test_site_fixtures.py"],
                           cwd=project, capture_output=True, text=True, timeout=600)
    assert tests.returncode == 0, tests.stdout[-3000:]
    assert "test_site_fixture[duodao-seed] PASSED" in tests.stdout
    assert "test_a_new_demo_site_added_with_new_site_and_selectors_only_crawls_and_passes_its_fixture_test PASSED" \
        in tests.stdout


def test_a_fixture_whose_site_output_changed_fails_with_a_field_level_diff(project):
    """The fixture test must notice a selector that now grabs the wrong element."""
    module = project / "spiders" / "investchn.py"
    module.write_text(module.read_text("utf-8").replace('"title": "h2.detail-title"', '"title": ".location"'), "utf-8")
    tests = fixture_tests(project, select="investchn")
    assert tests.returncode == 1
    assert "investchn/i0718: 1 field(s) differ" in tests.stdout
    assert "title: expected '海陵区举行项目“大观摩·大比拼”活动', extracted '您现在的位置" in tests.stdout
