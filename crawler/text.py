"""Pure text functions: whitespace, pinyin annotations, script conversion, boilerplate lines.

Order matters and is fixed by `crawler.clean`: pinyin annotations are stripped before the
Traditional -> Simplified conversion (OpenCC would otherwise see `區(qū)` as one token), and the
boilerplate filter runs on Simplified text so that one list of patterns serves both scripts.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from functools import lru_cache

import numpy as np
import opencc

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
TONE_MARKS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
_SYLLABLE = rf"[a-zü{TONE_MARKS}]{{1,6}}"

# `區(qū)`, `產（chǎn）`, `產(chǎn yè)`: a parenthesised group of pinyin syllables right after a CJK
# character, with at least one tone mark, so `(2024)`, `(PM2.5)`, `(试行)` never match.
_TONED_PINYIN = re.compile(
    rf"(?<=[{CJK}])[(（]\s*(?=[^)）]*[{TONE_MARKS}])({_SYLLABLE}(?:\s+{_SYLLABLE})*)\s*[)）]"
)

_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u2002-\u200b\u3000\ufeff]+")


def normalize_space(text: str) -> str:
    """Collapse runs of spaces (including ideographic and no-break ones) and trim the ends."""
    return _SPACES.sub(" ", text).strip()


def strip_pinyin(text: str) -> str:
    """Remove toned pinyin annotations such as `區(qū)` -> `區`; leave every other bracket alone."""
    return _TONED_PINYIN.sub("", text)


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def _cjk_count(text: str) -> int:
    return len(re.findall(f"[{CJK}]", text))


@lru_cache(maxsize=1)
def _t2s_triggers() -> np.ndarray:
    """Characters without which t2s cannot change a text, as a table by code point: those it
    converts, plus the differing characters of the phrases it converts (`覆` in `答覆`)."""
    table = np.zeros(0x110000, dtype=bool)
    _t2s().convert("")  # loads the dictionaries
    for _, _, mapping in _t2s().dict_cache.values():
        for key, values in mapping.items():
            value = values.split(" ")[0]
            if key == value:
                continue
            changed = [k for k, v in zip(key, value) if k != v] if len(key) == len(value) else key
            table[[ord(char) for char in changed]] = True
    return table


def t2s(text: str) -> str:
    """OpenCC t2s, run only where it can change something. OpenCC converts each stretch between
    its separators (punctuation, spaces) on its own, so the stretches without a trigger
    character are left as they are: a Simplified page with a few Traditional characters costs
    microseconds instead of the milliseconds of OpenCC's pure-Python conversion."""
    triggers = np.flatnonzero(_t2s_triggers()[np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)]).tolist()
    if not triggers:
        return text
    parts, start = [], 0
    for index, part in enumerate(_t2s().split_chars_re.split(text)):
        end = start + len(part)
        first = bisect_left(triggers, start)
        converts = index % 2 == 0 and first < len(triggers) and triggers[first] < end
        parts.append(_t2s().convert(part) if converts else part)
        start = end
    return "".join(parts)


def to_simplified(text: str) -> tuple[str, str]:
    """Return (Simplified text, original script `hans`/`hant`).

    A page counts as Traditional only when a noticeable share of its characters change under
    t2s: a Simplified page quoting one Traditional name must not be rewritten as a whole.
    """
    converted = t2s(text)
    if converted == text:
        return text, "hans"
    changed = sum(1 for a, b in zip(text, converted) if a != b)
    cjk = _cjk_count(text)
    if changed and (changed >= 20 or changed >= 0.02 * max(cjk, 1)):
        return converted, "hant"
    return text, "hans"


def convert_like(text: str, script: str) -> str:
    """Convert a field of a page to Simplified when the page as a whole is Traditional."""
    return t2s(text) if script == "hant" else text


# --- boilerplate -------------------------------------------------------------------------------
# Lines that are page furniture whatever their length: they start with a furniture label.
_FURNITURE_START = re.compile(
    r"^[【\[]?(?:来源|稿源|责任编辑|编辑|责编|审核|校对|作者|文章来源|信息来源|发布时间|发布日期|"
    r"更新时间|浏览次数|阅读次数|点击数|分享到|分享给朋友|扫一扫|微信扫一扫|上一篇|下一篇|上一条|"
    r"下一条|上一页|下一页|相关文章|相关阅读|相关新闻|相关链接|延伸阅读|推荐阅读|热门推荐|为您推荐|"
    r"您可能也感兴趣|今日热点|今日要闻|最近更新|排行|版权声明|免责声明|声明|版权所有|Copyright|"
    r"打印|关闭窗口|字号|【字体|当前位置|您现在的位置|您当前的位置|所在位置|关键词|关键字|"
    r"标签|导读|网站地图|联系我们|关于我们|主办单位|承办单位|技术支持|备案号|ICP)\s*([:：])?",
    re.IGNORECASE,
)
# Short lines that are page furniture when they say little else.
_FURNITURE_ANYWHERE = re.compile(
    r"扫一扫|扫码|二维码|关注(?:我们|公众号|微信)|微信号|分享到|收藏本页|打印本页|关闭窗口|"
    r"字号[:：]?\s*[大中小]|【\s*[大中小]\s*】|返回顶部|版权所有|All Rights Reserved|"
    r"ICP备|公网安备|转载请注明|如有侵权|请联系我们删除|仅供参考|不对文章内容"
)
_HOTLINE = re.compile(r"(?:热线|电话|手机|传真|微信|QQ|邮箱)\s*[:：/]?\s*[\d+\-() ]{7,}|@\w+\.\w+")


def is_boilerplate(line: str) -> bool:
    """True for a line of page furniture; false for article prose that merely mentions the words.

    A furniture label followed by a colon (`来源：…`, `版权声明：…`) condemns a line of any
    length; a bare label, a furniture phrase or a phone number condemns only short lines.
    """
    if not line:
        return True
    start = _FURNITURE_START.match(line)
    if start and (start.group(1) or len(line) < 30):
        return True
    if len(line) < 80 and (_FURNITURE_ANYWHERE.search(line) or _HOTLINE.search(line)):
        return True
    return False


def drop_boilerplate(lines: list[str]) -> list[str]:
    return [line for line in lines if not is_boilerplate(line)]


_LABEL_VALUE = r"\s*[:：]\s*([^\s|｜<>]{2,40})"


def labelled_value(text: str, labels: tuple[str, ...]) -> str | None:
    """The value after `label:` in a byline, e.g. `来源：泰州日报 作者：…` -> `泰州日报`."""
    for label in labels:
        m = re.search(label + _LABEL_VALUE, text)
        if m:
            return m.group(1)
    return None
