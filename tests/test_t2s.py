"""The fast t2s gives exactly OpenCC's output: on whole articles in either script, and on
Simplified text holding a few Traditional characters or phrases."""
import json
from pathlib import Path

import opencc
import pytest

from crawler.text import t2s, to_simplified

CONTENT = Path(__file__).resolve().parent.parent / "crawler" / "demo" / "content"
ARTICLES = ["\n".join([a["title"], *a["paragraphs"]]) for site in ("laowu", "investchn", "huaian", "czgx", "gdcyxx")
            for a in json.loads((CONTENT / f"{site}.json").read_text("utf-8"))["articles"]]
OPENCC_T2S = opencc.OpenCC("t2s").convert
S2T = opencc.OpenCC("s2t").convert

MIXED = [
    "今年以来，海陵区始终坚持项目为王。",  # nothing to convert
    "会议由區長主持，他说这么做是对的。",  # two Traditional characters in a Simplified page
    "对群众来信要及时答覆，做到一目瞭然。",  # phrases whose characters are all valid Simplified
    "沈默是金；反覆思量、乾坤未定（2024）。",
    "",
]


@pytest.mark.parametrize("text", [*ARTICLES[:20], *[S2T(a) for a in ARTICLES[:20]], *MIXED])
def test_t2s_gives_exactly_what_opencc_gives(text):
    assert t2s(text) == OPENCC_T2S(text)


def test_script_is_still_told_apart():
    traditional = S2T(ARTICLES[0])
    assert to_simplified(traditional) == (OPENCC_T2S(traditional), "hant")
    assert to_simplified(ARTICLES[0]) == (ARTICLES[0], "hans")
    quoting = ARTICLES[0] + "\n會議由區長主持。"  # a few characters do not make a page Traditional
    assert to_simplified(quoting) == (quoting, "hans")
