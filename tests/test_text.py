import pytest

from crawler.text import drop_boilerplate, is_boilerplate, labelled_value, normalize_space, strip_pinyin, to_simplified


@pytest.mark.parametrize("raw, clean", [
    ("其他地區(qū)", "其他地區"),
    ("產(chǎn)業(yè)項(xiàng)目", "產業項目"),
    ("產（chǎn）業（yè）", "產業"),
    ("產(chǎn yè)", "產"),
    ("夢(mèng) 譚", "夢 譚"),
    ("勇?tīng)?zhēng)第一", "勇?tīng)?zhēng)第一"),  # corrupted on the page: nothing to invent
    ("淮安日?qǐng)?bào)訊", "淮安日?qǐng)?bào)訊"),
    ("于2024年(2024)", "于2024年(2024)"),
    ("空气质量(PM2.5)", "空气质量(PM2.5)"),
    ("管理办法(试行)", "管理办法(试行)"),
    ("(记者 张三)", "(记者 张三)"),
    ("的(de)", "的(de)"),  # toneless: only with page-level evidence (issue 5)
    ("泰州(Taizhou)", "泰州(Taizhou)"),
    ("申通(泰州)智慧物流", "申通(泰州)智慧物流"),
])
def test_strip_pinyin(raw, clean):
    assert strip_pinyin(raw) == clean


def test_to_simplified_converts_traditional_pages_and_records_the_script():
    assert to_simplified("市委市政府舉行重特大產業項目攻堅拉練") == ("市委市政府举行重特大产业项目攻坚拉练", "hant")


def test_to_simplified_leaves_simplified_pages_alone():
    text = "海陵区举行项目观摩活动，" * 10 + "台灣"
    assert to_simplified(text) == (text, "hans")


@pytest.mark.parametrize("line", [
    "来源：泰州日报", "责任编辑：王五", "分享到：", "上一篇：某某", "下一条:永乐店邀专家解读十八大精神",
    "相关文章", "版权声明:本文由本站发布,如需转载请注明出处。部份内容收集于网络,如有不妥之处请联系我们删除",
    "【打印本页】【关闭窗口】", "字号：大 中 小", "扫一扫在手机打开当前页", "客服热线:0755-8882 8155",
    "Copyright © 2015-2024 InvestCHN.com All Rights Reserved. 版权所有:投促中国",
    "本文章内容来源于网络公开内容,仅供参考!不对文章内容时效、真实性负责", "关键词: 产业集群 项目建设",
])
def test_boilerplate_lines(line):
    assert is_boilerplate(line)


@pytest.mark.parametrize("line", [
    "(图片来源:常州高新区)", "(张文)", "欧阳兴、中国江西新闻网记者杜宇蔚/文",
    "资金来源主要包括财政专项资金和社会资本，共计12亿元。",
    "企业代表在会上分享了智能化改造的经验。",
    "加强知识产权和版权保护，营造良好创新环境。",
    "■融媒体记者 叶 列 唐筱葳 刘 梦 谭 鑫 赵启瑞,通 讯 员 华明刚",
])
def test_prose_that_mentions_furniture_words_is_kept(line):
    assert not is_boilerplate(line)
    assert drop_boilerplate([line]) == [line]


def test_labelled_value_and_spaces():
    assert labelled_value("发布时间:2022-07-18  来源:泰州市海陵区新闻中心  发布开发区:泰州", ("来源",)) == "泰州市海陵区新闻中心"
    assert normalize_space("\u3000\u3000今年以来，\xa0海陵区  ") == "今年以来， 海陵区"
