"""The article chain: a fetched page (or an ingested record, or a stored raw page) through
extraction, cleaning, dedup keys and admission to the store (`process`), run in worker processes
(`workers`), over JSON lines (`ingest`) and over stored pages (`reextract`). May import
`crawler.article`, `crawler.storage` and `crawler.sites` (for a page's site module).
"""
