"""Dates as real Chinese pages print them, table-driven. NOW is the fetch time."""
from datetime import datetime

import pytest

from crawler.article.dates import CHINA, date_from_url, parse_date

NOW = datetime(2025, 10, 15, 12, 0, tzinfo=CHINA)


@pytest.mark.parametrize("text, expected", [
    # absolute dates, as bylines and date stamps print them
    ("Admin - admin 于2022年08月17日发表", "2022-08-17"),
    ("发布时间:2022-07-18  来源:泰州市海陵区新闻中心", "2022-07-18"),
    ("發(fā)布時(shí)間: 2024-07-24 10:33  關(guān)注度:675", "2024-07-24T10:33:00+08:00"),
    ("admin1年前 (2024-09-27)广东产业信息56", "2024-09-27"),
    ("2022-08-17 10:33:21", "2022-08-17T10:33:21+08:00"),
    ("2022年08月17日", "2022-08-17"),
    ("2022年8月7日 09:05", "2022-08-07T09:05:00+08:00"),
    ("2024年07月24日10时33分", "2024-07-24T10:33:00+08:00"),
    ("发布日期：2021-1-29 13:18 | 点击: 313", "2021-01-29T13:18:00+08:00"),
    ("2005-04-05 06:40更新 来源：转载文章", "2005-04-05T06:40:00+08:00"),
    ("2024/7/24", "2024-07-24"),
    ("2024/07/24 08:00", "2024-07-24T08:00:00+08:00"),
    ("2024.07.24", "2024-07-24"),
    ("2024-7-4", "2024-07-04"),
    ("24-07-24", "2024-07-24"),
    ("二〇二四年七月二十四日", "2024-07-24"),
    ("二○二三年十二月一日", "2023-12-01"),
    ("二〇二二年十月十日印发", "2022-10-10"),
    ("2024-07-24T02:33:00Z", "2024-07-24T10:33:00+08:00"),
    ("2024-07-24T10:33:00+08:00", "2024-07-24T10:33:00+08:00"),
    ("2024-07-24T10:33:00+0800", "2024-07-24T10:33:00+08:00"),
    (" 2022 02/08 10:12:39", "2022-02-08T10:12:39+08:00"),  # xinhuanet's byline: year, then month/day
    ("2024-07-24 10:33:00.0", "2024-07-24T10:33:00+08:00"),
    # month and day only: the latest year that does not put it in the future
    ("7月24日", "2025-07-24"),
    ("12月24日", "2024-12-24"),
    ("10月15日 08:30", "2025-10-15T08:30:00+08:00"),
    # relative to the fetch time
    ("3天前", "2025-10-12"),
    ("昨天 10:20", "2025-10-14"),
    ("前天", "2025-10-13"),
    ("1年前", "2024-10-15"),
    ("2周前", "2025-10-01"),
    ("5小时前", "2025-10-15"),
    ("刚刚", "2025-10-15"),
    # rejected: before 1990, in the future, impossible, none
    ("1989-06-01", None),
    ("2031-01-01", None),
    ("2025-10-20", None),
    ("2022年13月45日", None),
    ("2023-02-29", None),
    ("没有日期", None),
    ("第12345号", None),
    ("", None),
    (None, None),
])
def test_parse_date(text, expected):
    assert parse_date(text, now=NOW) == expected


def test_month_day_takes_the_year_from_context():
    assert parse_date("7月24日 10:33", now=NOW, year=2022) == "2022-07-24T10:33:00+08:00"
    assert parse_date("2023年7月24日", now=NOW, year=2022) == "2023-07-24"  # a written year wins


@pytest.mark.parametrize("url, expected", [
    ("http://www.gov.cn/xinwen/2022-08/17/content_5705.htm", "2022-08-17"),
    ("http://sthjj.example.gov.cn/xwzx/t20220817_123456.html", "2022-08-17"),
    ("http://example.gov.cn/art/2022/8/17/art_1229_1.html", None),
    ("http://example.gov.cn/news/20220817/abc.html", "2022-08-17"),
    ("http://example.gov.cn/news/2022/0817/c123.html", "2022-08-17"),
    ("http://example.gov.cn/zwgk/202208/t20220817_1.shtml", "2022-08-17"),
    ("http://www.czgx.test/news/c1001.shtml", None),
    ("http://example.gov.cn/news/20991231/abc.html", None),
])
def test_date_from_url(url, expected):
    assert date_from_url(url, now=NOW) == expected
