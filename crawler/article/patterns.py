"""The vocabulary of real Chinese article pages that the generic extractor reads: meta tag names,
CMS body containers, class names of bylines and furniture, labels.

Only words and selectors live here; what is done with them is in `crawler.article.extract`.
"""
from __future__ import annotations

import re

# Meta tag names by field, most specific first; matched case-insensitively on name= or property=.
# The government ones are those of 国办发〔2017〕47号 (ArticleTitle, PubDate, ContentSource...).
META = {
    "title": ("articletitle", "og:title"),
    "published": ("pubdate", "publishdate", "article:published_time", "og:article:published_time",
                  "publish_time", "published_time", "firstpublishedtime", "dc.date", "date"),
    "source": ("contentsource", "source", "og:article:source"),
    "author": ("author", "article:author", "dc.creator"),
}
# Body containers of the CMS products that most government sites run on, then common names;
# earlier ones win.
CMS_BODIES = (
    ".TRS_Editor", ".TRS_UEDITOR", ".Custom_UnionStyle", "#zoom", "#Zoom", "#UCAP-CONTENT",
    "#fontzoom", ".pages_content", ".article-content", ".article_content", "#article_content",
    ".art_con", ".news_content", ".content_text", ".contentText", "#content", ".content",
    ".detail-content", ".zw", "#zw", "article", ".article",
)
# Byline blocks (date, source, author) by their class or id names.
INFO_CLASS = re.compile("info|meta|time|date|source|attr")
INFO_ID = re.compile("info|time|date")
# Labels before a publication date in a byline.
DATE_LABELS = "发布时间|发布日期|发表时间|发文日期|成文日期|时间|日期|发布于|更新时间"
# Block elements that hold furniture when their class or id says so.
FURNITURE_BLOCK_TAGS = ("div", "ul", "ol", "dl", "table", "section", "aside", "nav", "p", "span", "td")
# Class or id names of blocks that are not article text, whatever the CMS.
FURNITURE_NAME = re.compile(
    r"comment|pinglun|reply|related|xiangguan|recommend|tuijian|share|fenxiang|footer|sidebar|"
    r"\bnav|breadcrumb|crumb|position|location|toolbar|pager|pagination|\bad\b|advert|qrcode|erweima|"
    r"promo|weixin|wechat|\bwx[-_]",
    re.IGNORECASE,
)
# A line that starts what comes after an article: related lists, comments.
ARTICLE_END = re.compile(
    r"^[【\[]?(?:相关(?:报道|新闻|文章|内容|阅读|链接|稿件|专题)|延伸阅读|推荐阅读|热门推荐|猜你喜欢|"
    r"文章评论|发表评论|网友评论|我要评论|最新评论|评论列表)[】\]]?\s*[:：]?\s*$"
)
SUMMARY_CLASSES = ("daodu", "summary", "abstract", "zhaiyao", "lead", "intro", "description")
