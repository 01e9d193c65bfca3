"""The site module of the hostile test site (tests/faultserver.py); tests copy it into a
scratch project's `spiders/`. The server's address and any setting overrides come from the
environment, since the server picks a free port per test run."""
import json
import os

from crawler.site import SiteSpider

BASE = os.environ.get("FAULT_SITE_URL", "http://127.0.0.1:9")
START_PATHS = json.loads(os.environ.get("FAULT_SITE_STARTS", '["/list/1.html"]'))


class FaultSiteSpider(SiteSpider):
    name = "faultsite"
    allowed_domains = ["127.0.0.1"]
    start_urls = [BASE + path for path in START_PATHS]
    article_links = os.environ.get("FAULT_SITE_ARTICLE_LINKS", "ul.news li a")
    next_page = "a.next"
    fields = {"title": "h1.title", "published": ".info", "source": ".info", "body": ".content"}
    custom_settings = json.loads(os.environ.get("FAULT_SITE_SETTINGS", "{}"))
