import json
from pathlib import Path

import opencc
import pytest

from crawler.article.text import (convert_like, drop_boilerplate, is_boilerplate, labelled_value, normalize_space, script_of,
                          strip_pinyin, uses_pinyin_annotations)

DEMO_CONTENT = Path(__file__).resolve().parent.parent / "crawler" / "demo" / "content"


@pytest.mark.parametrize("raw, clean", [
    # toned annotations: always stripped, whatever the rest of the page does
    ("其他地區(qū)", "其他地區"),
    ("產(chǎn)業(yè)項(xiàng)目", "產業項目"),
    ("產（chǎn）業（yè）", "產業"),
    ("產(chǎn yè)", "產"),
    ("產業(chǎn yè)發展", "產業發展"),
    ("夢(mèng) 譚", "夢 譚"),
    ("發(fā)布時(shí)間", "發布時間"),
    ("關(guān)注度", "關注度"),
    ("綠(lǜ)色", "綠色"),
    ("女(nǚ)士", "女士"),
    ("區( qū )", "區"),
    ("经济(jīng jì)发展", "经济发展"),
    ("重(zhòng)要", "重要"),
    ("嗯(ń)", "嗯"),
    # corrupted on the page: nothing to invent
    ("勇?tīng)?zhēng)第一", "勇?tīng)?zhēng)第一"),
    ("淮安日?qǐng)?bào)訊", "淮安日?qǐng)?bào)訊"),
    # ordinary brackets: never touched
    ("于2024年(2024)", "于2024年(2024)"),
    ("空气质量(PM2.5)", "空气质量(PM2.5)"),
    ("管理办法(试行)", "管理办法(试行)"),
    ("(记者 张三)", "(记者 张三)"),
    ("（记者 李四 通讯员 王五）", "（记者 李四 通讯员 王五）"),
    ("泰州(Taizhou)", "泰州(Taizhou)"),
    ("申通(泰州)智慧物流", "申通(泰州)智慧物流"),
    ("世界卫生组织(WHO)", "世界卫生组织(WHO)"),
    ("国内生产总值(GDP)增长", "国内生产总值(GDP)增长"),
    ("见附件(pdf)", "见附件(pdf)"),
    ("(a) 第一款", "(a) 第一款"),
    ("Café(café)", "Café(café)"),
    # toneless: only with page-level evidence (toneless=False here)
    ("的(de)", "的(de)"),
    ("我們(men)", "我們(men)"),
])
def test_strip_pinyin(raw, clean):
    assert strip_pinyin(raw) == clean


@pytest.mark.parametrize("raw, clean", [
    # the page annotates: toneless syllables go where they are a reading of the character
    ("發展的(de)產業", "發展的產業"),
    ("我們(men)", "我們"),
    ("產業(chan ye)", "產業"),
    ("綠(lu)色", "綠色"),
    ("綠(lv)色", "綠色"),
    ("綠(lü)色", "綠色"),
    ("了(le5)解", "了解"),
    ("子（zi）", "子"),
    # not a reading of that character: kept
    ("泰州(Taizhou)", "泰州(Taizhou)"),
    ("的(men)", "的(men)"),
    ("管理办法(shixing)", "管理办法(shixing)"),
    ("文件(pdf)", "文件(pdf)"),
    ("(de)开头", "(de)开头"),
    ("版本(a)", "版本(a)"),
])
def test_strip_toneless_pinyin_on_annotated_pages(raw, clean):
    assert strip_pinyin(raw, toneless=True) == clean


def test_page_level_evidence_for_toneless_pinyin():
    annotated = "其他地區(qū)的(de)產(chǎn)業(yè)項(xiàng)目"
    assert uses_pinyin_annotations(annotated)
    assert not uses_pinyin_annotations("一个地區(qū)的(de)项目")  # one toned group is not a pattern
    assert not uses_pinyin_annotations("管理办法(试行)(2024)(PM2.5)")


def test_script_detection_and_conversion():
    assert script_of("市委市政府舉行重特大產業項目攻堅拉練") == "hant"
    assert convert_like("市委市政府舉行重特大產業項目攻堅拉練", "hant") == "市委市政府举行重特大产业项目攻坚拉练"
    assert script_of("海陵区举行项目观摩活动，" * 10 + "台灣") == "hans"  # one quoted name: still Simplified
    assert convert_like("台灣", "hans") == "台灣"


@pytest.mark.parametrize("traditional, simplified", [
    ("一目瞭然", "一目了然"),              # phrase differs from its characters
    ("乾坤", "乾坤"),                      # 乾 stays in this phrase, becomes 干 elsewhere
    ("乾燥", "干燥"),
    ("衞生署", "卫生署"),                  # Hong Kong variant that t2s alone leaves
    ("裏面", "里面"),
    ("着數", "着数"),
    ("嗰度", "嗰度"),                      # Cantonese: not turned into a rare supplementary character
    ("佢哋喺度", "佢哋喺度"),
    ("香港特區政府", "香港特区政府"),
    ("臺灣", "台湾"),
    ("顯著", "显著"),
])
def test_hong_kong_and_taiwan_variants_are_not_mangled(traditional, simplified):
    assert convert_like(traditional, "hant") == simplified


def _demo_texts() -> list[str]:
    texts = []

    def walk(value):
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for path in sorted(DEMO_CONTENT.glob("*.json")):
        walk(json.loads(path.read_text("utf-8")))
    return texts


def test_fast_conversion_gives_opencc_t2s_output():
    """Our table-driven conversion must match OpenCC's own t2s on real article text, in both
    scripts (Simplified text passes through t2s unchanged where OpenCC leaves it)."""
    reference, s2t, s2tw = opencc.OpenCC("t2s"), opencc.OpenCC("s2t"), opencc.OpenCC("s2tw")
    texts = [t for t in _demo_texts() if len(t) > 20]
    assert len(texts) > 50
    for text in texts:
        for source in (text, s2t.convert(text), s2tw.convert(text)):
            assert convert_like(source, "hant") == reference.convert(source)


@pytest.mark.parametrize("line", [
    "来源：泰州日报", "责任编辑：王五", "分享到：", "上一篇：某某", "下一条:永乐店邀专家解读十八大精神",
    "相关文章", "版权声明:本文由本站发布,如需转载请注明出处。部份内容收集于网络,如有不妥之处请联系我们删除",
    "【打印本页】【关闭窗口】", "字号：大 中 小", "扫一扫在手机打开当前页", "客服热线:0755-8882 8155",
    "Copyright © 2015-2024 InvestCHN.com All Rights Reserved. 版权所有:投促中国",
    "本文章内容来源于网络公开内容,仅供参考!不对文章内容时效、真实性负责", "关键词: 产业集群 项目建设",
    "2005-04-05 06:40更新 来源：转载文章", "第1页/共1页", "<< 上一页 | 下一页 >>", "展开全文",
    "(本文发表于首页, 已被阅读178次)", "发布: 2021-1-29 13:18 | 点击: 313", "【字体：大 中 小】",
    "admin1年前 (2024-10-15)广东产业信息56", "产业招商/厂房土地租售:400 0123 021", "2022-02-13 09:57 光明网",
    "Admin - admin 于2022年12月14日发表", "发表于 2005-09-10 10:56",
])
def test_boilerplate_lines(line):
    assert is_boilerplate(line)


@pytest.mark.parametrize("line", [
    "(图片来源:常州高新区)", "(张文)", "欧阳兴、中国江西新闻网记者杜宇蔚/文",
    "资金来源主要包括财政专项资金和社会资本，共计12亿元。",
    "企业代表在会上分享了智能化改造的经验。",
    "加强知识产权和版权保护，营造良好创新环境。",
    "■融媒体记者 叶 列 唐筱葳 刘 梦 谭 鑫 赵启瑞,通 讯 员 华明刚",
    "2022年2月13日，市政府发布了春节期间的出行提示。",
    "会议于9:30开始，由副市长主持并作总结讲话。",
    "2024-10-15，全县新开工项目12个。",
    "项目总投资4000万元，年产值8000万元。",
    "读者可扫描文末二维码获取《实施办法》全文及解读材料，相关部门将在官方网站同步公开办理进度和结果，接受社会监督。",
])
def test_prose_that_mentions_furniture_words_is_kept(line):
    assert not is_boilerplate(line)
    assert drop_boilerplate([line]) == [line]


def test_labelled_value_and_spaces():
    assert labelled_value("发布时间:2022-07-18  来源:泰州市海陵区新闻中心  发布开发区:泰州", ("来源",)) == "泰州市海陵区新闻中心"
    assert normalize_space("\u3000\u3000今年以来，\xa0海陵区  ") == "今年以来， 海陵区"


def test_control_characters_go_but_tabs_and_newlines_stay_spaces_and_lines():
    # a NUL cuts a value short for SQLite's string functions and its search index
    assert normalize_space("\x00今年以来\x01，海陵区\x1f\x7f\n第二段\t完") == "今年以来，海陵区\n第二段 完"
