"""The generic chain on pages shaped like the CMS products government sites run on: standard
meta tags, CMS body containers, date stamps by the headline, link lists and comments left out."""
from __future__ import annotations

import pytest

from crawler.demo.sites import SITES
from crawler.article.items import Page
from crawler.chain.process import record_of
from crawler.sites.spider import site_classes

PARAGRAPHS = [
    "3月11日，全县一季度重大项目观摩推进会召开，观摩团实地察看了20个重大产业项目，总投资约326亿元。",
    "会议指出，今年以来全县项目建设势头良好，但仍存在项目质量不够高、要素保障不够快等短板，必须拿出更加有力的举措。",
    "会议要求，各乡镇和园区要把项目建设作为经济工作的主抓手，强化链式招商，完善项目全周期服务机制。",
]
RELATED = "".join(f'<li><a href="/xwzx/t2024031{i}_{i}.html">临湖县第{i}季度重点项目集中开工活动举行</a></li>'
                  for i in range(1, 7))
FURNITURE = f"""
<div class="nav"><a href="/">首页</a> <a href="/xwzx/">新闻中心</a> <a href="/zwgk/">政务公开</a></div>
<div class="position">当前位置：<a href="/">首页</a> &gt; 政务动态</div>"""
FOOTER = '<div class="footer">主办单位：某某县人民政府办公室 苏ICP备12000000号 联系电话：0512-56780000</div>'


def page(body: str, head: str = "", title: str = "全县召开一季度重大项目观摩推进会_某某县人民政府") -> bytes:
    return f"""<html><head><meta charset="utf-8"><title>{title}</title>{head}</head>
<body>{FURNITURE}{body}{FOOTER}</body></html>""".encode("utf-8")


def paragraphs_html() -> str:
    return "".join(f"<p>{p}</p>" for p in PARAGRAPHS)


def extract(html: bytes, url: str = "") -> dict:
    return record_of(Page(url=url, site=None, body=html, fetched_at="2025-10-15T04:00:00+00:00"))


@pytest.mark.parametrize("container", [
    '<div class="TRS_Editor">{}</div>',                    # TRS
    '<div id="zoom">{}</div>',                             # Hanweb
    '<div id="UCAP-CONTENT">{}</div>',                     # Kaipu
    '<div class="pages_content">{}</div>',                 # gov.cn
    '<div class="main"><div class="wrap">{}</div></div>',  # no known container: text density
])
def test_body_from_cms_containers_and_by_density(container):
    related = f'<div class="xgxw"><h3>相关新闻</h3><ul>{RELATED}</ul></div>'
    html = page(f'<h1>全县召开一季度重大项目观摩推进会</h1>{container.format(paragraphs_html())}{related}')
    record = extract(html)
    assert record["body"].split("\n") == PARAGRAPHS
    assert record["extractor"] == "generic"
    assert record["title"] == "全县召开一季度重大项目观摩推进会"


@pytest.mark.parametrize("heading, page_title", [
    ("<h1>全县召开一季度重大项目观摩推进会</h1>", "全县召开一季度重大项目观摩..._某某县人民政府"),  # <title> cut short
    ('<h1><span class="tag">原创</span>全县召开一季度重大项目观摩推进会</h1>', "全县召开一季度重大项目观摩推进会_某某县人民政府"),
    ('<div class="title">全县召开一季度重大项目观摩推进会 <span>某某县发展和改革局</span></div>', "全县召开一季度重大项目观摩推进会"),
    ('<h1 class="logo">某某县人民政府</h1><h2>全县召开一季度重大项目观摩推进会</h2>', "某某县人民政府"),
])
def test_the_headline_without_badges_departments_or_the_site_name(heading, page_title):
    html = page(f'{heading}<div class="TRS_Editor">{paragraphs_html()}</div>', title=page_title)
    assert extract(html)["title"] == "全县召开一季度重大项目观摩推进会"


@pytest.mark.parametrize("lead", ["<p>{}</p>", '<div style="text-indent:2em">{}</div>'])
def test_a_lead_paragraph_beside_the_content_div_is_kept(lead):
    summary = '<div class="summary">摘要：全县一季度重大项目观摩推进会召开，观摩团察看20个重大产业项目。</div>'
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS[1:])
    html = page(f'<h1>全县召开一季度重大项目观摩推进会</h1>{summary}<div class="main">{lead.format(PARAGRAPHS[0])}'
                f'<div class="news_content">{body}</div></div>')
    assert extract(html)["body"].split("\n") == PARAGRAPHS


def test_a_short_notice_in_a_link_heavy_table_cell_is_not_lost():
    """Old table templates put the text in the cell that holds the navigation too: more link
    text than prose, so no block passes the density rule, and trafilatura keeps the links."""
    notice = "受台风影响，8月10日全市中小学停课一天，请各学校做好学生安全教育和家校沟通工作。"
    nav = " | ".join(f'<a href="/{i}.html">{name}</a>' for i, name in enumerate(["首页", "机构概况", "政务公开", "办事服务"]))
    links = "".join(f'<a href="/{i}.html">{name}</a> ' for i, name in enumerate(
        ["返回首页", "上一篇：关于开展校园安全检查的通知", "下一篇：关于做好暑期防溺水工作的通知"]))
    html = f'<html><head><meta charset="utf-8"><title>通知</title></head><body><table><tr><td>{nav}<br>{notice}<br>{links}</td></tr></table></body></html>'
    record = extract(html.encode("utf-8"))
    assert record["extractor"] == "generic" and notice in record["body"].split("\n")


def test_government_meta_tags_fill_the_fields():
    head = """<meta name="ArticleTitle" content="全县召开一季度重大项目观摩推进会">
<meta name="PubDate" content="2024-03-12 09:30"><meta name="ContentSource" content="某某县融媒体中心">
<meta name="Author" content="周小平"><meta name="SiteName" content="某某县人民政府">"""
    record = extract(page(f'<div id="zoom">{paragraphs_html()}</div>', head=head, title="政务动态"))
    assert (record["title"], record["published"], record["source"], record["author"]) == (
        "全县召开一季度重大项目观摩推进会", "2024-03-12T09:30:00+08:00", "某某县融媒体中心", "周小平")


@pytest.mark.parametrize("stamp, expected", [
    ('<div class="info">发布时间：2024-03-12 09:30　来源：县政府办</div>', "2024-03-12T09:30:00+08:00"),
    ("<p>2024年03月12日 09:30　县政府办</p>", "2024-03-12T09:30:00+08:00"),   # unlabelled, under the headline
    ('<span class="time">2024-03-12</span>', "2024-03-12"),
    ("<p>日期：2024/3/12</p>", "2024-03-12"),
])
def test_date_stamp_next_to_the_headline(stamp, expected):
    sidebar = '<div class="side"><p>2019-01-01 10:00 旧闻</p></div>'
    html = page(f'{sidebar}<h1>全县召开一季度重大项目观摩推进会</h1>{stamp}<div class="content">{paragraphs_html()}</div>')
    assert extract(html)["published"] == expected


def test_date_from_the_canonical_url_when_the_page_prints_none():
    head = '<link rel="canonical" href="http://www.example.gov.cn/xwzx/202403/t20240312_1234.html">'
    assert extract(page(f'<div class="TRS_Editor">{paragraphs_html()}</div>', head=head))["published"] == "2024-03-12"


def test_comment_threads_are_not_taken_for_the_article():
    comments = "".join(f'<div class="item"><p>网友{i}：这篇文章写得很好，我们村里的项目也开工了，希望越来越好，大家一起努力。</p></div>'
                       for i in range(12))
    html = page(f'<div class="post"><h2>全县召开一季度重大项目观摩推进会</h2>{paragraphs_html()}</div>'
                f'<div id="comments"><h3>网友评论</h3>{comments}</div>')
    assert extract(html)["body"].split("\n") == PARAGRAPHS


def test_lines_after_the_article_end_marker_are_cut():
    html = page(f'<div class="article">{paragraphs_html()}<p>相关阅读：</p><p>临湖县第二季度重点项目集中开工活动举行，共有二十个项目开工</p></div>')
    assert extract(html)["body"].split("\n") == PARAGRAPHS


def test_future_dates_are_not_stored():
    html = page(f'<h1>全县召开一季度重大项目观摩推进会</h1><p>发布时间：2031-03-12</p><div id="zoom">{paragraphs_html()}</div>')
    assert extract(html)["published"] is None  # fetched 2025-10-15


@pytest.mark.parametrize("name", sorted(SITES))
def test_generic_chain_alone_gives_the_site_modules_records(name):
    """The five demo sites copy the markup and junk of real seed pages; without any selector the
    generic chain must give every field exactly as the site module does."""
    site, spider = SITES[name], site_classes()[name]
    fields = ("title", "published", "source", "author", "summary", "body", "script")
    for article in site.articles:
        page_ = Page(url=f"http://{site.host}{site.url_of(article)}", site=name, body=site.article_page(article),
                     content_type=site.content_type, fetched_at="2025-10-15T04:00:00+00:00")
        generic, by_site = record_of(page_), record_of(page_, spider)
        assert generic["extractor"] == "generic"
        assert {f: generic[f] for f in fields} == {f: by_site[f] for f in fields}, article.slug
