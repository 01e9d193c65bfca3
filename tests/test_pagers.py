"""The pagers of real government CMSs, read from their markup as the CMSs emit it (whitespace,
quotes, arguments in variables, scripts split over several tags), and the article links of
list pages whose URLs or markup are not plain."""
from __future__ import annotations

import pytest

from crawler.sites.generic import article_links
from crawler.sites.pagers import ListDoc, check_next_page, declared_next, detect_next, trs_pager

LIST = "http://www.example.gov.test/xwzx/zwdt/"


def page(body: str, head: str = "") -> str:
    return f'<html><head><meta charset="utf-8">{head}</head><body><ul class="list"></ul>{body}</body></html>'


# --- TRS WCM script pagers ------------------------------------------------------------------------
# createPageHTML.js ships with TRS templates; the list page only calls it.
TRS_FUNCTION = """<script type="text/javascript">
function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt){
	if(_nPageCount == null || _nPageCount<=1){ return; }
	var nCurrIndex = _nCurrIndex || 0;
	if(nCurrIndex == 0) document.write("<span>1</span>&nbsp;");
	else document.write("<a href=\\""+_sPageName+"."+_sPageExt+"\\">1</a>&nbsp;");
}
</script>"""
TRS_WRITE = """<script language="JavaScript">
var currentPage = 0;//所在页从0开始
var prevPage = currentPage-1//上一页
var nextPage = currentPage+1//下一页
var countPage = 29//共多少页
if(countPage>1&&currentPage!=(countPage-1))
	document.write("<a href=\\"index"+"_" + nextPage + "."+"html\\" >下一页</a>&nbsp;");
else
	document.write("下一页&nbsp;");
</script>"""


@pytest.mark.parametrize(("body", "url", "expected"), [
    ('<div class="page">\n\t<script>\n\t\tcreatePageHTML(35, 0, "index", "html");\n\t</script>\n</div>', LIST,
     LIST + "index_1.html"),
    # The variant with the pager's element id first counts pages from 1: page 2 is xlist_2.shtml.
    ("<script>createPageHTML('page_div',10, 1,'dezlist','shtml',149)</script>", LIST + "dezlist.shtml",
     LIST + "dezlist_2.shtml"),
    ("<script>createPageHTML('paging',25,7,'index','html',500);</script>", LIST + "index_7.html", LIST + "index_8.html"),
    ("<script>createPageHTML( 10 ,2 , 'index' , 'shtml' );</script>", LIST + "index_2.shtml", LIST + "index_3.shtml"),
    ('<script>var countPage = 5//共多少页\nvar currentPage = 0;</script><div class="pg"><script>'
     'createPageHTML(countPage, currentPage, "index", "html");</script></div>', LIST + "index.html", LIST + "index_1.html"),
    ('<script>var pageName = "list"; var pageExt = "htm"; var pageCount = 8;</script>'
     "<script>createPageHTML(pageCount, 0, pageName, pageExt)</script>", LIST, LIST + "list_1.htm"),
    (TRS_FUNCTION + '<script>createPageHTML(3, 1, "index", "html");</script>', LIST + "index_1.html",
     LIST + "index_2.html"),
    (TRS_WRITE, LIST, LIST + "index_1.html"),
    ('<script>\n//createPageHTML(9, 0, "index", "html");\n' + TRS_WRITE[TRS_WRITE.index("var"):], LIST + "index_12.html",
     LIST + "index_13.html"),  # a commented-out call: the live countPage = 29 counts
    ("<script>\n  new Pager({size: 12, current: 0, prefix: 'index', suffix: 'html'});\n</script>", LIST,
     LIST + "index_1.html"),
    ("<script>Pager({ size:6, current:3, prefix:'index', suffix:'shtml', total:118 })</script>",
     LIST + "index_3.shtml", LIST + "index_4.shtml"),
])
def test_trs_script_pagers_give_the_next_index_page(body, url, expected):
    assert detect_next(ListDoc(page(body), url)) == (expected, "trs")


@pytest.mark.parametrize(("body", "url"), [
    ('<script>createPageHTML(3, 2, "index", "html");</script>', LIST + "index_2.html"),  # the last page
    ('<script>createPageHTML(1, 0, "index", "html");</script>', LIST),  # a single page
    ("<script>createPageHTML('paging',25,25,'index','html',500);</script>", LIST + "index_25.html"),
    (TRS_FUNCTION, LIST),  # the function without a call
])
def test_trs_pagers_stop_at_the_last_page(body, url):
    assert detect_next(ListDoc(page(body), url)) == (None, None)


def test_the_pager_in_the_head_and_the_call_in_the_body_are_read_together():
    doc = ListDoc(page("<script>createPageHTML(countPage, 0, 'index', 'html')</script>",
                       head="<script>var countPage = 4;</script>"), LIST)
    assert trs_pager(doc.scripts).count == 4 and detect_next(doc) == (LIST + "index_1.html", "trs")


# --- links, onclick, 跳转 boxes and forms, numbered pages ---------------------------------------------
@pytest.mark.parametrize(("body", "url", "expected", "pager"), [
    ('<div class="page"><a href="index.html">首页</a> <a href="index_1.html">下一页 &gt;</a></div>', LIST,
     LIST + "index_1.html", "link"),
    ('<a href="index_2.html" title="下一页"><img src="/images/next.gif"></a>', LIST, LIST + "index_2.html", "link"),
    ('<a href="javascript:void(0);" onclick="location.href=encodeURI(\'index_2.jhtml\');">下一页</a>',
     LIST + "index.jhtml", LIST + "index_2.jhtml", "link"),
    ('<span class="next" onclick="window.location.href=\'list_3.html\'">&gt;</span>', LIST + "list_2.html",
     LIST + "list_3.html", "link"),
    ('转到<select onchange="location.href=this.value"><option value="index.html">1</option>'
     '<option value="index_1.html" selected>2</option><option value="index_2.html">3</option></select>',
     LIST + "index_1.html", LIST + "index_2.html", "select"),
    ('<a href="?page=1">1</a> <b>2</b> <a href="?page=3">3</a>', "http://www.example.gov.test/list.jsp?page=2",
     "http://www.example.gov.test/list.jsp?page=3", "numbered"),
    ('<a href="list.aspx?cid=7&amp;pageIndex=2">2</a>', "http://www.example.gov.test/list.aspx?cid=7",
     "http://www.example.gov.test/list.aspx?cid=7&pageIndex=2", "numbered"),
    ('<a href="list_2.html">2</a>', LIST + "list.html", LIST + "list_2.html", "numbered"),
    ('<a href="index_1.shtml">1</a> <a href="index_3.shtml">3</a>', LIST + "index_2.shtml", LIST + "index_3.shtml",
     "numbered"),
    ('<form action="/search/list.jsp" method="get"><input type="hidden" name="channelid" value="9">'
     '<input type="text" name="PageNo" value="1" size="3"><input type="submit" value="跳转"></form>',
     "http://www.example.gov.test/search/list.jsp?channelid=9", "http://www.example.gov.test/search/list.jsp?channelid=9&PageNo=2",
     "form"),
])
def test_other_real_pagers(body, url, expected, pager):
    assert detect_next(ListDoc(page(body), url)) == (expected, pager)


def test_links_resolve_against_the_base_href():
    doc = ListDoc(page('<a href="index_1.html">下一页</a>', head='<base href="http://www.example.gov.test/xxgk/">'),
                  "http://www.example.gov.test/xxgk/index.html?from=nav")
    assert detect_next(doc) == ("http://www.example.gov.test/xxgk/index_1.html", "link")


def test_a_next_link_to_the_page_itself_is_the_last_page():
    assert detect_next(ListDoc(page('<a href="index_2.html">下一页</a>'), LIST + "index_2.html")) == (None, None)


# --- Hanweb jpage ------------------------------------------------------------------------------------
HANWEB = """<div id="4455560"><script type="text/xml"><datastore>
<nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&appid=1&webid=1934&path=/&columnid=1389975&unitid=4455560&webname=%E6%B8%A9%E5%B7%9E%E5%B8%82%E7%A7%91%E5%AD%A6%E6%8A%80%E6%9C%AF%E5%B1%80&permissiontype=0"></a>]]></nextgroup>
<recordset>
<record><![CDATA[
<li><a href="/art/2021/1/4/art_1389975_58916591.html" target="_blank" title="温州市科技局召开2021年全市科技工作会议">温州市科技局召开2021年全市科技工作会议</a><span>2021-01-04</span></li>
]]></record>
<record><![CDATA[
<li><a href="/art/2020/12/31/art_1389975_58916500.html" target="_blank" title="关于公布2020年度市级科技计划项目的通知">关于公布2020年度市级科技计划项目的通知</a><span>2020-12-31</span></li>
]]></record>
</recordset>
</datastore>
</script></div>
<script>$(function(){$('#4455560').jpage({themeName:'default',showMode:'full',totalRecord:257,openCookies:false,
dataBefore:'<ul class="list">',dataAfter:'</ul>',groupSize:3,proxyUrl:'/module/web/jpage/dataproxy.jsp',perPage:15,
barPosition:'bottom',ajaxParam:{col:1,appid:'1',webid:1934,path:'/',columnid:1389975,unitid:'4455560',
webname:'温州市科学技术局',permissiontype:0}});});</script>"""
PROXY = "http://kjj.wenzhou.gov.test/module/web/jpage/dataproxy.jsp"
COLUMN = ("appid=1&webid=1934&path=%2F&columnid=1389975&unitid=4455560&webname=%E6%B8%A9%E5%B7%9E%E5%B8%82%E7%A7%91"
          "%E5%AD%A6%E6%8A%80%E6%9C%AF%E5%B1%80&permissiontype=0&col=1")


def test_hanweb_records_are_links_and_the_data_proxy_serves_the_next_ones():
    doc = ListDoc(page(HANWEB), "http://kjj.wenzhou.gov.test/col/col1389975/index.html")
    assert article_links(doc) == ["http://kjj.wenzhou.gov.test/art/2021/1/4/art_1389975_58916591.html",
                                  "http://kjj.wenzhou.gov.test/art/2020/12/31/art_1389975_58916500.html"]
    assert detect_next(doc) == (f"{PROXY}?startrecord=3&endrecord=47&perpage=15&{COLUMN}", "hanweb")


def test_a_data_proxy_answer_gives_its_records_and_the_next_group_until_the_total():
    answer = ('<?xml version="1.0" encoding="UTF-8"?><datastore><totalrecord>257</totalrecord><totalpage>18</totalpage>'
              '<recordset><record><![CDATA[<li><a href="/art/2020/6/1/art_1389975_1.html">一</a></li>]]></record>'
              '</recordset></datastore>')
    url = f"{PROXY}?startrecord=46&endrecord=90&perpage=15&{COLUMN}"
    doc = ListDoc(answer, url)
    assert article_links(doc) == ["http://kjj.wenzhou.gov.test/art/2020/6/1/art_1389975_1.html"]
    assert detect_next(doc) == (f"{PROXY}?startrecord=91&endrecord=135&perpage=15&{COLUMN}", "hanweb")
    last = ListDoc(answer, f"{PROXY}?startrecord=226&endrecord=270&perpage=15&{COLUMN}")
    assert detect_next(last) == (None, None)


# --- declared pagers -----------------------------------------------------------------------------------
def test_declared_templates_count_pages_or_indexes_from_the_url():
    assert declared_next(ListDoc("", LIST), "index_{i}.html") == (LIST + "index_1.html", "template")
    assert declared_next(ListDoc("", LIST + "index_4.html"), "index_{i}.html") == (LIST + "index_5.html", "template")
    assert declared_next(ListDoc("", LIST + "list.jsp?p=4"), "list.jsp?p={n}") == (LIST + "list.jsp?p=5", "template")
    assert declared_next(ListDoc(page('<a class="nx" href="p2.html">»</a>'), LIST), "a.nx") == (LIST + "p2.html", "selector")
    assert declared_next(ListDoc(page('<script>createPageHTML(2,0,"index","html")</script>'), LIST), "link") == (None, None)


@pytest.mark.parametrize("value", ["trs", "hanweb", "auto", "index_{n}.html", ".page a.next", "//a[@class='next']", None])
def test_valid_next_page_values(value):
    check_next_page(value)


def test_a_next_page_that_is_no_pager_template_or_selector_is_refused():
    with pytest.raises(ValueError, match="no pager name"):
        check_next_page(".page a[")


# --- article links of real URL shapes -------------------------------------------------------------------
def test_article_urls_of_real_cms_shapes_are_articles_and_list_pages_are_not():
    doc = ListDoc(page("""<ul class="list">
<li><a href="/2021/1/4/a1.html">短</a></li>
<li><a href="/news/articleinfo-373.html">短</a></li>
<li><a href="./202208/t20220817_123.html">短</a></li>
<li><a href="/art/2022/8/17/art_1229_5.html">短</a></li>
<li><a href="/info/1023/12345.htm">短</a></li>
<li><a href="javascript:void(0)" onclick="openDetail('./202208/t20220818_124.html')">短</a></li>
<li><a href="/xwzx/zwdt/index_2.html">第二页</a></li>
<li><a href="/2021/list_2.html">更多</a></li>
</ul>"""), LIST)
    assert article_links(doc) == [
        "http://www.example.gov.test/2021/1/4/a1.html", "http://www.example.gov.test/news/articleinfo-373.html",
        LIST + "202208/t20220817_123.html", "http://www.example.gov.test/art/2022/8/17/art_1229_5.html",
        "http://www.example.gov.test/info/1023/12345.htm", LIST + "202208/t20220818_124.html"]
