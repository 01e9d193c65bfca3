from datetime import datetime

import pytest

from crawler.dates import CHINA, date_from_url, parse_date

NOW = datetime(2025, 10, 15, 12, 0, tzinfo=CHINA)


@pytest.mark.parametrize("text, expected", [
    ("Admin - admin 于2022年08月17日发表", "2022-08-17"),
    ("发布时间:2022-07-18  来源:泰州市海陵区新闻中心", "2022-07-18"),
    ("發(fā)布時(shí)間: 2024-07-24 10:33  關(guān)注度:675", "2024-07-24T10:33:00+08:00"),
    ("admin1年前 (2024-09-27)广东产业信息56", "2024-09-27"),
    ("2022-08-17 10:33:21", "2022-08-17T10:33:21+08:00"),
    ("2024/7/24", "2024-07-24"),
    ("2024.07.24", "2024-07-24"),
    ("24-07-24", "2024-07-24"),
    ("二〇二四年七月二十四日", "2024-07-24"),
    ("7月24日", "2025-07-24"),
    ("12月24日", "2024-12-24"),  # not yet this year: last year's
    ("2024-07-24T02:33:00Z", "2024-07-24T10:33:00+08:00"),
    ("2024-07-24T10:33:00+08:00", "2024-07-24T10:33:00+08:00"),
    ("3天前", "2025-10-12"),
    ("昨天 10:20", "2025-10-14"),
    ("1年前", "2024-10-15"),
    ("1989-06-01", None),
    ("2031-01-01", None),
    ("2022年13月45日", None),
    ("没有日期", None),
    ("", None),
])
def test_parse_date(text, expected):
    assert parse_date(text, now=NOW) == expected


@pytest.mark.parametrize("url, expected", [
    ("http://www.gov.cn/xinwen/2022-08/17/content_5705.htm", "2022-08-17"),
    ("http://sthjj.example.gov.cn/xwzx/t20220817_123456.html", "2022-08-17"),
    ("http://example.gov.cn/art/2022/8/17/art_1229_1.html", None),
    ("http://example.gov.cn/news/20220817/abc.html", "2022-08-17"),
    ("http://www.czgx.test/news/c1001.shtml", None),
])
def test_date_from_url(url, expected):
    assert date_from_url(url, now=NOW) == expected
