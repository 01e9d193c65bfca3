"""Scrapy settings for crawling the test news site (tests/newsroom.py) with the `crawler`
command: the project's settings, its site module, and its server as the proxy. Selected with
SCRAPY_SETTINGS_MODULE=newsroom_settings, the standard Scrapy way to swap settings."""
import os

from crawler.settings import *  # noqa: F403 - the project's settings, changed below

SPIDER_MODULES = ["newsroom"]
PROXY_URL = os.environ["NEWSROOM_PROXY"]
# Our own server on loopback: no need to pace requests.
AUTOTHROTTLE_ENABLED = False
DOWNLOAD_DELAY = 0
RETRY_BACKOFF_BASE = 0.1  # and no need to wait long before a retry
CONCURRENT_REQUESTS_PER_DOMAIN = 4
