import pytest

from crawler.article.decode import decode_html

TEXT = "副区长王喆主持会议，泰州海陵区签约项目。"


def page(charset_meta: str = "") -> str:
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset_meta}">' if charset_meta else ""
    return f"<html><head>{meta}<title>t</title></head><body><p>{TEXT}</p></body></html>"


@pytest.mark.parametrize("body, header, encoding", [
    (page("gb2312").encode("gbk"), "text/html; charset=gb2312", "gb18030"),  # GBK-only 喆 under a gb2312 label
    (page().encode("gbk"), "text/html", "gb18030"),  # no charset anywhere
    (page("gb2312").encode("gbk"), None, "gb18030"),  # only the <meta> says it
    (page("gb2312").encode("utf-8"), "text/html; charset=gb2312", "utf-8"),  # declared GB, really UTF-8
    (page("utf-8").encode("gbk"), "text/html; charset=utf-8", "gb18030"),  # declared UTF-8, really GBK
    (page("iso-8859-1").encode("gbk"), "text/html; charset=iso-8859-1", "gb18030"),  # never cp1252 mojibake
    ("\ufeff".encode() + page().encode("utf-8"), "text/html; charset=gbk", "utf-8"),  # the BOM wins
])
def test_decode_finds_the_real_encoding(body, header, encoding):
    decoded = decode_html(body, header)
    assert decoded.encoding == encoding
    assert TEXT in decoded.text
    assert not decoded.lossy


def test_big5_label_decodes_as_big5hkscs():
    text = "臺灣香港的新聞報導"
    decoded = decode_html(f'<meta charset="big5"><p>{text}</p>'.encode("big5hkscs"), None)
    assert decoded.encoding == "big5hkscs" and text in decoded.text


def test_truncated_page_loses_only_the_cut_character():
    body = page("gbk").encode("gbk")
    cut = body.index("主持".encode("gbk")) + 1
    decoded = decode_html(body[:cut], None)
    assert decoded.text.endswith("副区长王喆") and "\ufffd" not in decoded.text


def test_stray_bytes_are_dropped_not_stored_as_replacement_characters():
    """A GBK page with a character cut in half in the middle (a lead byte without its trail
    byte): decoded as GBK, the byte that fits no encoding is dropped, the page flagged lossy."""
    body = page("gb2312").encode("gbk").replace(b"<p>", b"<p>\xd6<br>", 1)
    decoded = decode_html(body, None)
    assert decoded.encoding == "gb18030" and decoded.lossy
    assert TEXT in decoded.text and "\ufffd" not in decoded.text


def test_undeclared_big5_page_is_sniffed():
    text = "香港特別行政區政府新聞公報，今日發布。"
    decoded = decode_html(f"<html><body><p>{text}</p></body></html>".encode("big5hkscs"), "text/html")
    assert decoded.encoding == "big5hkscs" and text in decoded.text and not decoded.lossy


def test_big5_page_labelled_gb2312_is_decoded_as_big5():
    text = "臺北市政府舉辦市民座談會，聽取民眾對交通與環境的意見。"
    body = f'<meta charset="gb2312"><p>{text}</p>'.encode("big5hkscs")
    decoded = decode_html(body, "text/html; charset=gb2312")
    assert decoded.encoding == "big5hkscs" and text in decoded.text
