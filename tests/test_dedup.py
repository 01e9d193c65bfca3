import pytest

from crawler.article.dedup import canonical_url, content_hash


@pytest.mark.parametrize("a, b", [
    ("https://www.example.gov.cn/news/index.html", "http://example.gov.cn/news/"),
    ("http://example.gov.cn:80/a.html#top", "http://example.gov.cn/a.html"),
    ("http://example.gov.cn/a.html?utm_source=wx&id=3&from=timeline", "http://example.gov.cn/a.html?id=3"),
    ("http://EXAMPLE.gov.cn/a.html?b=2&a=1", "http://example.gov.cn/a.html?a=1&b=2"),
])
def test_same_page_same_canonical_url(a, b):
    assert canonical_url(a) == canonical_url(b)


@pytest.mark.parametrize("a, b", [
    ("http://example.gov.cn/a.html?id=3", "http://example.gov.cn/a.html?id=4"),
    ("http://example.gov.cn:8080/a.html", "http://example.gov.cn/a.html"),
    ("http://a.gov.cn/x.html", "http://b.gov.cn/x.html"),
])
def test_different_pages_differ(a, b):
    assert canonical_url(a) != canonical_url(b)


def test_content_hash_ignores_spacing_and_punctuation_width_only():
    assert content_hash("今年以来，海陵区\n始终坚持") == content_hash("今年以来,海陵区 始终坚持")
    assert content_hash("今年以来，海陵区始终坚持") != content_hash("今年以来，海陵区始终不坚持")
