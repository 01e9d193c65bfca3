"""The public import of site modules: `from crawler.site import SiteSpider` (and `JsonList`
for a list served as JSON).

The base class lives in `crawler.sites.spider`; this name stays stable so that site modules
written for any version keep loading.
"""
from crawler.sites.jsonlist import JsonList
from crawler.sites.spider import SiteSpider

__all__ = ["JsonList", "SiteSpider"]
