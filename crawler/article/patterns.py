"""The vocabulary of real Chinese article pages that the generic extractor reads: meta tag names,
CMS body containers, class names of bylines and furniture, labels, title separators.

Only words and selectors live here; what is done with them is in `crawler.article.extract`.
"""
from __future__ import annotations

import re

# Meta tag names by field, most specific first; matched case-insensitively on name= or property=.
# The government ones are those of 国办发〔2017〕47号 (ArticleTitle, PubDate, ContentSource...).
META = {
    "title": ("articletitle", "og:title", "twitter:title"),
    "published": ("pubdate", "publishdate", "article:published_time", "og:article:published_time",
                  "publish_time", "published_time", "firstpublishedtime", "dc.date", "date"),
    "source": ("contentsource", "source", "og:article:source"),
    "author": ("author", "article:author", "dc.creator"),
}
# Meta tags that name the site or the column, never the article.
SITE_NAME_META = ("sitename", "og:site_name", "application-name", "columnname", "apple-mobile-web-app-title")

# Body containers of the CMS products that most government sites run on (TRS, Hanweb, Kaipu/UCAP,
# VSB, Epoint, JEECMS, SiteServer), then common names; earlier ones win.
CMS_BODIES = (
    ".TRS_Editor", ".TRS_UEDITOR", ".Custom_UnionStyle", "#zoom", "#Zoom", "#UCAP-CONTENT",
    "#fontzoom", "#vsb_content", ".v_news_content", "#ivs_content", ".ewb-article-info",
    ".pages_content", ".article-content", ".article_content", "#article_content",
    ".art_con", ".news_content", ".content_text", ".contentText", "#content", ".content",
    ".detail-content", ".zw", "#zw", "article", ".article",
)

# Byline blocks (date, source, author) by their class or id names.
INFO_CLASS = re.compile("info|meta|time|date|source|attr|byline|author")
INFO_ID = re.compile("info|time|date|byline")

# Labels before a publication date in a byline, most common first.
DATE_LABELS = ("发布时间|发布日期|发表时间|发稿时间|发文日期|成文日期|印发日期|录入时间|上传时间|添加时间|"
               "刊发时间|更新时间|时间|日期|发布于|发布")

# Block elements that hold furniture when their class or id says so.
FURNITURE_BLOCK_TAGS = ("div", "ul", "ol", "dl", "table", "section", "aside", "nav", "p", "span", "td")
# Class or id names of blocks that are not article text, whatever the CMS.
FURNITURE_NAME = re.compile(
    r"comment|pinglun|reply|related|xiangguan|recommend|tuijian|share|fenxiang|footer|sidebar|"
    r"\bnav|breadcrumb|crumb|position|location|toolbar|pager|pagination|\bad\b|advert|qrcode|erweima|"
    r"promo|weixin|wechat|\bwx[-_]|statement|disclaimer",
    re.IGNORECASE,
)
# A line that starts what comes after an article: related lists, comments.
ARTICLE_END = re.compile(
    r"^[【\[]?(?:相关(?:报道|新闻|文章|内容|阅读|链接|稿件|专题)|延伸阅读|推荐阅读|热门推荐|猜你喜欢|"
    r"文章评论|发表评论|网友评论|我要评论|最新评论|评论列表)[】\]]?\s*[:：]?\s*$"
)
# The button of a body the page shows folded; the rest of the text follows it.
UNFOLD = re.compile(r"^(?:展开全文|阅读全文|查看全文|显示全文|点击展开|展开阅读全文|余下全文)\W*$")
SUMMARY_CLASSES = ("daodu", "summary", "abstract", "zhaiyao", "lead", "intro", "description")

# Elements that may hold the headline, besides h1-h3: class or id names.
TITLE_NAME = re.compile(r"title|headline|biaoti|(?:^|[\s_-])(?:tit|bt|wztit)(?:$|[\s_-])", re.IGNORECASE)
# What separates the headline from the site and column names in `<title>` and og:title:
# `_`, `|`, `｜`, `——`, `--`, and a `-` that is not inside a word (`COVID-19`, `2021-2022` stay).
TITLE_SEPARATOR = re.compile(r"\s*(?:[_|｜]|——+|--+|(?<![A-Za-z0-9])-|-(?![A-Za-z0-9])|\s[-–·]\s)\s*")
# Words that site names end with (a short headline ending so is rare).
SITE_WORDS = re.compile(r"(?:网|网站|门户|官网|政府|频道|首页|之窗|日报|晚报|\.(?:com|cn|net|org)(?:\.cn)?)$", re.IGNORECASE)
# How the names of offices and publishers end (a department named beside a headline).
ORGANISATION = re.compile(r"(?:局|委|办|厅|部|院|会|政府|中心|处|所|站|队|公司|集团|网|报|社|台)$")
LOGO_NAME = re.compile(r"logo", re.IGNORECASE)
