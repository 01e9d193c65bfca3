"""The Scrapy wiring of a local crawl: pipelines, downloader and spider middlewares (retries,
traps, attachments, incremental skipping), the run record (`runs`), fault counting (`faults`),
progress lines and the runner that a `crawler crawl` starts. Imports the page stages, the chain,
the sites and the storage; never `crawler.distributed`, `crawler.report` or the commands.
"""
