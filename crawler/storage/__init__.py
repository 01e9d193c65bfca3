"""The SQLite file: schema and migrations (`store`), the writes thread that batches a crawl's
writes (`storethread`), the crawl frontier kept in SQLite (`frontier`) and the one-writer lock
(`lock`), and what a `crawl_runs` row counts from crawl stats (`runcounts`). May import `crawler.article`, nothing else from `crawler`.
"""
