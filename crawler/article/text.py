"""Pure text functions: whitespace, pinyin annotations, script conversion, boilerplate lines.

Order matters and is fixed by `crawler.article.clean`: pinyin annotations are stripped before the
Traditional -> Simplified conversion (OpenCC would otherwise see `區(qū)` as one token), and the
boilerplate filter runs on Simplified text so that one list of patterns serves both scripts.
"""
from __future__ import annotations

import re
import sys
import unicodedata
from functools import lru_cache
from itertools import islice
from pathlib import Path

import numpy as np
import opencc

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
TONE_MARKS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
_SYLLABLE = rf"[a-zü{TONE_MARKS}]{{1,6}}"

# `區(qū)`, `產（chǎn）`, `產(chǎn yè)`: a parenthesised group of pinyin syllables right after a CJK
# character, with at least one tone mark, so `(2024)`, `(PM2.5)`, `(试行)` never match.
_TONED_PINYIN = re.compile(
    rf"[(（](?<=[{CJK}][(（])\s*(?=[^)）]*[{TONE_MARKS}])({_SYLLABLE}(?:\s+{_SYLLABLE})*)\s*[)）]"
)

_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u2002-\u200b\u3000\ufeff]+")
# C0 control characters that are not spaces (and DEL): nothing a reader sees, and a NUL cuts a
# value short for SQLite's string functions and its search index.
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]+")


def normalize_space(text: str) -> str:
    """Collapse runs of spaces (including ideographic and no-break ones), drop control
    characters, and trim the ends."""
    return _SPACES.sub(" ", _CONTROLS.sub("", text)).strip()


# --- pinyin annotations ---------------------------------------------------------------------
def strip_pinyin(text: str, toneless: bool = False) -> str:
    """Remove pinyin annotations such as `區(qū)` -> `區`; leave every other bracket alone.

    Toned annotations are unmistakable. Toneless ones (`的(de)`) are removed only with
    `toneless=True`, which the caller passes when the page as a whole uses the pattern (see
    `uses_pinyin_annotations`), and only where each syllable is a reading of the character it
    follows, so `泰州(Taizhou)` or `(de)` after an unrelated character stay.
    """
    if "(" not in text and "（" not in text:
        return text
    text = _TONED_PINYIN.sub("", text)
    if toneless:
        text = _TONELESS_PINYIN.sub(_drop_if_reading, text)
    return text


def uses_pinyin_annotations(text: str) -> bool:
    """True when a page annotates its characters with toned pinyin (three times or more)."""
    if "(" not in text and "（" not in text:
        return False
    return sum(1 for _ in islice(_TONED_PINYIN.finditer(text), 3)) == 3


_TONELESS_PINYIN = re.compile(rf"[(（](?<=[{CJK}][(（])\s*([a-zü]{{1,6}}[1-5]?(?:\s+[a-zü]{{1,6}}[1-5]?){{0,3}})\s*[)）]")


def _drop_if_reading(match: re.Match) -> str:
    """Drop `(de)` when each syllable reads the character before it (`產業(chan ye)`)."""
    group = match.group(1).split()
    annotated = match.string[max(0, match.start() - len(group)): match.start()]
    if len(annotated) == len(group) and all(
            syllable.rstrip("12345") in _readings(char) for char, syllable in zip(annotated, group)):
        return ""
    return match.group(0)


@lru_cache(maxsize=None)
def _readings(char: str) -> frozenset[str]:
    """Toneless readings of a character from pypinyin's table (`的` -> de, di)."""
    toned = _PINYIN_TABLE().get(ord(char), "")
    # Drop the tone marks but keep ü's diaeresis: `lǜ` -> `lü`.
    plain = "".join(c for c in unicodedata.normalize("NFD", toned) if not unicodedata.combining(c) or c == "\u0308")
    plain = unicodedata.normalize("NFC", plain)
    readings = set(plain.split(","))
    return frozenset(readings | {r.replace("ü", "u") for r in readings} | {r.replace("ü", "v") for r in readings})


@lru_cache(maxsize=1)
def _PINYIN_TABLE() -> dict[int, str]:
    from pypinyin.pinyin_dict import pinyin_dict

    return pinyin_dict


# --- script: Traditional -> Simplified ----------------------------------------------------------
# OpenCC's t2s data (from the pinned opencc-python-reimplemented), applied as a character table
# plus the few phrases whose conversion differs from their characters' (乾坤 stays 乾坤, 瞭解 ->
# 了解). Same output as OpenCC's t2s, about 20x faster than its pure-Python segmentation.
# Hong Kong variants that t2s leaves alone are added; characters that t2s would turn into rare
# supplementary-plane forms (Cantonese 嗰 -> 𠮶) are kept as written.
_HK_VARIANTS = {"衞": "卫", "衹": "只", "粧": "妆", "敍": "叙", "枱": "台", "糭": "粽"}


class _T2S:
    def __init__(self):
        folder = Path(opencc.__file__).parent / "dictionary"
        characters = self._load(folder / "TSCharacters.txt")
        characters = {k: v for k, v in characters.items() if len(k) == 1 and ord(v[0]) <= 0xFFFF}
        characters.update(_HK_VARIANTS)
        self.table = str.maketrans(characters)
        # Traditional-only characters: what script detection counts, as a table indexed by code
        # point, so that a whole text is looked up by numpy at once.
        self.traditional = np.zeros(sys.maxunicode + 1, dtype=bool)
        self.traditional[[ord(k) for k, v in characters.items() if k != v]] = True
        phrases = self._load(folder / "TSPhrases.txt")
        self.phrases = {k: v for k, v in phrases.items() if k.translate(self.table) != v}
        alternatives = sorted(self.phrases, key=len, reverse=True)
        self.pattern = re.compile("|".join(map(re.escape, alternatives)))

    @staticmethod
    def _load(path: Path) -> dict[str, str]:
        pairs = (line.rstrip("\n").split("\t") for line in path.open(encoding="utf-8") if "\t" in line)
        return {key: value.split(" ")[0] for key, value in pairs}

    def convert(self, text: str) -> str:
        out, position = [], 0
        for m in self.pattern.finditer(text):
            out.append(text[position:m.start()].translate(self.table))
            out.append(self.phrases[m.group()])
            position = m.end()
        out.append(text[position:].translate(self.table))
        return "".join(out)


@lru_cache(maxsize=1)
def _t2s() -> _T2S:
    return _T2S()


def _cjk_count(text: str) -> int:
    return len(_CJK_CHAR.findall(text))


_CJK_CHAR = re.compile(f"[{CJK}]")


def script_of(text: str) -> str:
    """`hant` when a noticeable share of the characters are Traditional-only, else `hans`: a
    Simplified page quoting one Traditional name must not be rewritten as a whole."""
    count = int(np.count_nonzero(_t2s().traditional[np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)]))
    if count and (count >= 20 or count >= 0.02 * max(_cjk_count(text), 1)):
        return "hant"
    return "hans"


def convert_like(text: str, script: str) -> str:
    """Convert a field of a page to Simplified when the page as a whole is Traditional."""
    return _t2s().convert(text) if script == "hant" else text


# --- boilerplate -------------------------------------------------------------------------------
# Lines that are page furniture whatever their length: they start with a furniture label.
_FURNITURE_START = re.compile(
    r"^[【\[（(]?(?:来源|稿源|责任编辑|编辑|责编|审核|校对|作者|文章来源|信息来源|发布时间|发布日期|"
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
    r"ICP备|公网安备|转载请注明|如有侵权|请联系我们删除|仅供参考|不对文章内容|上一页|下一页|上一篇|下一篇|"
    r"展开全文|阅读全文|纠错|责任编辑|特别声明|发送给朋友|推荐给朋友|发表评论|我要评论|已被阅读|阅读次数|点击次数|浏览次数|"
    r"第\s*\d+\s*页\s*/?\s*共\s*\d+\s*页|于\s*\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*发表|发表于\s*\d{4}"
)
# A date stamp line: a numeric date (2022-02-13, 2022/2/13 or with a time of day) next to a
# byline label, as CMSs print under the headline. Prose writes dates as 2022年2月13日.
# That is `(?:19|20)\d{2}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}:\d{2}`, written to start with a digit:
# `re` then skips ahead to the next digit instead of trying both branches at every character
# (twice as fast, and every line of every page is searched).
_DATE_STAMP = re.compile(r"\d(?::\d\d|(?<=1)9\d\d[-/.]\d{1,2}[-/.]\d|(?<=2)0\d\d[-/.]\d{1,2}[-/.]\d)")
_CLAUSE = re.compile(r"[，。；！？]")
_STAMP_LABEL = re.compile(r"来源|发布|更新|作者|编辑|点击|浏览|阅读|访问|字号|打印")
_HOTLINE = re.compile(
    r"(?:热线|电话|手机|传真|微信|QQ|邮箱)\s*[:：/]?\s*[\d+\-() ]{7,}|@\w+\.\w+|(?<!\d)[48]00[-\s]?\d{3,4}[-\s]?\d{3,4}(?!\d)"
)


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
    if len(line) < 80 and not _is_sentence(line) and (_FURNITURE_ANYWHERE.search(line) or _HOTLINE.search(line)):
        return True
    if not _DATE_STAMP.search(line):
        return False
    # a byline: a numeric date with a label, or a short line with a date and no sentence in it
    return len(line) < 60 and bool(_STAMP_LABEL.search(line)) or len(line) < 40 and not _CLAUSE.search(line)


def _is_sentence(line: str) -> bool:
    """Article prose: a sentence with a clause break that ends like one."""
    return len(line) >= 30 and "，" in line and line.endswith(("。", "！", "？", "”"))


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
