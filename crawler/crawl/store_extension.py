"""The base of the Scrapy extensions that work on the crawl's store while a spider runs."""
from __future__ import annotations

from scrapy import signals
from twisted.internet.task import LoopingCall

from crawler.storage.store import shared_store


class StoreExtension:
    """Has the crawl's store and calls `tick` every `every` seconds from the moment the spider
    opens until it closes. A subclass extends `spider_opened` / `spider_closed` (calling these)."""

    every: float

    def __init__(self, crawler):
        self.crawler = crawler
        self.store = shared_store(crawler.settings["CRAWLER_DB"])
        self.ticker = LoopingCall(self.tick)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def tick(self) -> None:
        raise NotImplementedError

    def spider_opened(self, spider):
        self.ticker.start(self.every, now=False)

    def spider_closed(self, spider, reason):
        if self.ticker.running:
            self.ticker.stop()
