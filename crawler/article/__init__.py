"""One page's bytes -> one clean article record and its dedup keys.

The page stages, in the order a page meets them: `items` (the page and raw-article values),
`decode` (bytes -> text), `extract` (text -> fields), `dates` and `text` (the rules `clean` applies),
`clean` (fields -> record), `dedup` (canonical URL, body hash, MinHash keys). Pure functions: no
Scrapy, no SQLite, no I/O. Imports nothing else from `crawler`.
"""
