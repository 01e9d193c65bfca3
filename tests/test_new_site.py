"""`crawler new-site` and `crawler fixture save`, run the way an operator runs them: in a copy of
the project, against the demo server, then the copy's own fixture test."""
from __future__ import annotations

import filecmp
import json
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
    before = sorted(p.name for p in (project / "spiders").iterdir())
    result = run_crawler("new-site", name, url, cwd=project)
    assert result.returncode == 3
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in (project / "spiders").iterdir()) == before
    assert sorted(p.name for p in (project / "tests" / "sites").iterdir()) == sorted(SITES)


def test_a_new_demo_site_added_with_new_site_and_selectors_only_crawls_and_passes_its_fixture_test(project, tmp_path):
    site = NEW_SITES["duodao"]
    seed = next(a for a in site.articles if a.slug == "l0817")
    seed_url = f"http://{site.host}{site.url_of(seed)}"
    db = tmp_path / "duodao.db"

    assert run_crawler("new-site", "duodao", f"http://{site.host}{site.first_list}", cwd=project).returncode == 0
    module = project / "spiders" / "duodao.py"
    text = module.read_text("utf-8")
    for old, new in DUODAO_SELECTORS.items():
        assert old in text
        text = text.replace(old, new)
    module.write_text(text, "utf-8")

    with DemoServer() as server:
        crawled = crawl_through(server.url, "duodao", db, cwd=project)
        assert crawled.returncode == 0, crawled.stderr
        saved = run_crawler("fixture", "save", seed_url, "--site", "duodao", "--name", "seed", "--proxy", server.url,
                            cwd=project)
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


def test_a_fixture_whose_site_output_changed_fails_with_a_field_level_diff(project):
    """The fixture test must notice a selector that now grabs the wrong element."""
    module = project / "spiders" / "investchn.py"
    module.write_text(module.read_text("utf-8").replace('"title": "h2.detail-title"', '"title": ".location"'), "utf-8")
    tests = fixture_tests(project, select="investchn")
    assert tests.returncode == 1
    assert "investchn/i0718: 1 field(s) differ" in tests.stdout
    assert "title: expected '海陵区举行项目“大观摩·大比拼”活动', extracted '您现在的位置" in tests.stdout
