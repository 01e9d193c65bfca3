"""Publication dates found in Chinese page text, meta tags and URLs, as ISO 8601 strings.

Output is `YYYY-MM-DD` when the page gives no time and `YYYY-MM-DDTHH:MM:SS+08:00` when it
does (China time). Dates before 1990 or after the fetch time are rejected, not stored.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "CST")
EARLIEST = date(1990, 1, 1)

_TIME = r"(?:\s*(?:T|\s)?\s*(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2}))?)?"
_ISO_OFFSET = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})"
)
_YMD = re.compile(r"(?<!\d)((?:19|20)\d{2})(?:\s*[-/.年]\s*|\s+(?=\d{1,2}\s*/))(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)\s*日?" + _TIME)
_YY_MD = re.compile(r"(?<![\d./-])(\d{2})([-./])(\d{2})\2(\d{2})(?![\d./-])" + _TIME)
_MD = re.compile(r"(?<!\d)(\d{1,2})\s*月\s*(\d{1,2})\s*日" + _TIME)
_HAN_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0, "○": 0, "Ｏ": 0, "O": 0}
_HAN_YMD = re.compile(rf"([{''.join(_HAN_DIGITS)}]{{4}})年([一二三四五六七八九十]{{1,3}})月([一二三四五六七八九十]{{1,3}})日")
_RELATIVE = re.compile(r"(\d+)\s*(年|个月|月|周|星期|天|日|小时|分钟)前|(昨天|前天|今天|刚刚)")
_URL_DATE = re.compile(
    r"(?<!\d)((?:19|20)\d{2})[-_/]?(0[1-9]|1[0-2])[-_/]?(0[1-9]|[12]\d|3[01])(?!\d)"
)


def _han_number(text: str) -> int:
    """`二十四` -> 24, `十` -> 10, `七` -> 7 (days and months only)."""
    if "十" not in text:
        return _HAN_DIGITS.get(text, -1)
    tens, _, units = text.partition("十")
    return (_HAN_DIGITS.get(tens, -1) if tens else 1) * 10 + (_HAN_DIGITS.get(units, -1) if units else 0)


def _century(yy: int, year: int | None, now: datetime) -> int:
    """The full year of a two-digit one (`19-09-18`): the context's year when it ends in those
    digits (the URL's date folder), else the latest year not after `now`."""
    if year and year % 100 == yy:
        return year
    full = now.year - now.year % 100 + yy
    return full if full <= now.year else full - 100


def _valid(value: datetime, now: datetime) -> bool:
    return EARLIEST <= value.date() and value <= now + timedelta(days=1)


def _build(y, mo, d, hh, mi, ss, now) -> str | None:
    try:
        value = datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0), tzinfo=CHINA)
    except ValueError:
        return None
    if not _valid(value, now):
        return None
    return value.isoformat() if hh is not None else value.date().isoformat()


def _absolute(text: str, now: datetime, year: int | None) -> str | None:
    m = _ISO_OFFSET.search(text)
    if m:
        y, mo, d, hh, mi, ss, tz = m.groups()
        offset = "+00:00" if tz == "Z" else tz if ":" in tz else f"{tz[:3]}:{tz[3:]}"
        value = datetime.fromisoformat(f"{y}-{mo}-{d}T{hh}:{mi}:{ss or '00'}{offset}").astimezone(CHINA)
        if _valid(value, now):
            return value.isoformat()
    for m in _YMD.finditer(text):
        found = _build(*m.groups(), now)
        if found:
            return found
    m = _HAN_YMD.search(text)
    if m:
        year = "".join(str(_HAN_DIGITS[c]) for c in m.group(1))
        found = _build(year, _han_number(m.group(2)), _han_number(m.group(3)), None, None, None, now)
        if found:
            return found
    m = _YY_MD.search(text)
    if m:
        yy, _, mo, d, hh, mi, ss = m.groups()
        found = _build(_century(int(yy), year, now), mo, d, hh, mi, ss, now)
        if found:
            return found
    m = _MD.search(text)
    if m:
        mo, d, hh, mi, ss = m.groups()
        # A month-day without a year takes the year the context gives (the URL's date), else the
        # latest year that does not put it in the future.
        for candidate in (year,) if year else (now.year, now.year - 1):
            found = _build(candidate, mo, d, hh, mi, ss, now)
            if found:
                return found
    return None


def _relative(text: str, now: datetime) -> str | None:
    m = _RELATIVE.search(text)
    if not m:
        return None
    amount, unit, word = m.groups()
    if word:
        back = {"昨天": 1, "前天": 2, "今天": 0, "刚刚": 0}[word]
        return (now - timedelta(days=back)).date().isoformat()
    days = {"年": 365, "个月": 30, "月": 30, "周": 7, "星期": 7, "天": 1, "日": 1}.get(unit)
    if days is None:  # hours or minutes ago: the day of the fetch is as precise as it gets
        hours = int(amount) if unit == "小时" else 0
        return (now - timedelta(hours=hours)).date().isoformat()
    return (now - timedelta(days=days * int(amount))).date().isoformat()


def parse_date(text: str | None, now: datetime | None = None, year: int | None = None) -> str | None:
    """The first plausible date in `text`; an absolute date wins over a relative one
    (`admin1年前 (2024-09-27)` -> `2024-09-27`). Relative dates count back from `now`; a
    month and day without a year (`7月24日`) take `year` when the context gives one."""
    if not text:
        return None
    now = now or datetime.now(CHINA)
    if now.tzinfo is None:
        now = now.replace(tzinfo=CHINA)
    return _absolute(text, now, year) or _relative(text, now)


def date_from_url(url: str, now: datetime | None = None) -> str | None:
    """Dates that CMSs put in article URLs: `/2022-08/17/`, `t20220817_123.html`, `/20220817/`."""
    now = now or datetime.now(CHINA)
    for m in _URL_DATE.finditer(url):
        found = _build(*m.groups(), None, None, None, now)
        if found:
            return found
    return None


def utc_now() -> str:
    """Now, as stored in the database (fetched_at, run times)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
