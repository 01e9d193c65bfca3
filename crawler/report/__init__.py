"""`crawl_runs` read back: the per-site health rule, the terminal table and the SQL the
dashboard runs (`health`), and the plain table formatter (`table`). May import `crawler.storage`.
"""
