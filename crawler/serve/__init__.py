"""`crawler serve`: the read-only Datasette app, its metadata, canned queries and dashboard
(`app`), and the plugin that registers the health SQL functions (`plugin`). May import
`crawler.report`.
"""
