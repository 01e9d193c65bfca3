"""What a site module is: the base class (`spider`, imported by site modules as
`crawler.site.SiteSpider`), the loader that finds `spiders/*.py` and reports broken ones
(`loader`), the generic spider of `crawl --url` (`generic`), how failed requests are counted
(`failures`), and the operator tools for new sites: scaffolding (`scaffold`, `templates/`) and
fixtures (`fixtures`). May import `crawler.article`.
"""
