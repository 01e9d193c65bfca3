"""Scrapy settings: polite by default. Override per site with `custom_settings` in its module."""

BOT_NAME = "crawler"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

# Identify ourselves; operators should put their contact address here.
USER_AGENT = "gov-news-crawler/0.1 (+mailto:crawler-operator@example.invalid)"
ROBOTSTXT_OBEY = True

# Politeness: a few requests per site at a time, paced by the server's response times.
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0

# Government servers are slow and flaky: bounded timeouts and retries, bounded page sizes.
DOWNLOAD_TIMEOUT = 30
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# A request that failed for good gets one line, the spider's "fetch failed" warning; Scrapy's
# own "Gave up retrying" line goes to the log file only.
RETRY_GIVE_UP_LOG_LEVEL = "INFO"
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
COOKIES_ENABLED = False

ITEM_PIPELINES = {"crawler.crawl.pipelines.ArticlePipeline": 300}
SPIDER_MIDDLEWARES = {"crawler.crawl.incremental.IncrementalCrawl": 50}
DOWNLOADER_MIDDLEWARES = {"crawler.crawl.middlewares.FixedProxy": 740, "crawler.crawl.incremental.ConditionalListRequests": 650}
EXTENSIONS = {"crawler.crawl.runs.RunRecorder": 500}

# Where articles are stored (`crawler ... --db PATH` overrides it).
CRAWLER_DB = "output/articles.db"
# A page's CPU work (extraction, cleaning, dedup keys) runs in this many worker processes
# (0: one per CPU core; 1: in the crawl process itself).
CRAWLER_EXTRACT_WORKERS = 0
# Stored pages are committed in batches, by a thread of their own: after this many writes or
# this many seconds, and when a crawl ends. A kill loses at most the open batch (whose pages
# stay in the frontier, so the next run fetches them again), never half an article.
CRAWLER_BATCH_WRITES = 500
CRAWLER_BATCH_SECONDS = 2.0
# A page yields one article or a few dozen links; Scrapy's default of 100 items in parallel
# per response starts 100 idle tasks for each page.
CONCURRENT_ITEMS = 16
# How many list pages a site is paged through at most (0: no limit). Later runs stop earlier by
# themselves, at the first list page that holds only known articles.
CRAWLER_MAX_LIST_PAGES = 0
# An HTTP proxy for every request (None: direct). The demo sets it to its local server.
PROXY_URL = None

LOG_LEVEL = "INFO"
LOG_FORMATTER = "crawler.crawl.pipelines.LogFormatter"
FEED_EXPORT_ENCODING = "utf-8"

# Distributed mode (`crawler worker`, `crawler writer`; see crawler/distributed/cluster.py).
REDIS_URL = None  # the shared Redis; scrapy-redis reads this name too
DISTRIBUTED_WORKER_NAME = None  # the worker's consumer name: keep it stable across restarts
DISTRIBUTED_IDLE_EXIT = 0  # seconds a worker waits on an empty frontier before leaving (0: never)
DISTRIBUTED_RECLAIM_AFTER = 300  # seconds after which a request another worker holds is taken over
DISTRIBUTED_KNOWN_DB = None  # the store (or a copy) a worker reads to skip known articles
# Not set by hand: a worker's CONCURRENT_REQUESTS_PER_DOMAIN, DOWNLOAD_DELAY and AUTOTHROTTLE_*
# become its sites' shared budget in Redis (crawler/distributed/politeness.py).
DISTRIBUTED_POLITENESS = None

# `crawler crawl --url`: the list page a site without a site module is crawled from, and how
# many list pages (the first one included) its pagination is followed for.
GENERIC_START_URL = None
GENERIC_MAX_LIST_PAGES = 5

# Attachments of stored articles, for sites whose module sets `fetch_attachments = True`
# (crawler/crawl/attachment_downloads.py): the kinds downloaded and read, and the most bytes
# downloaded of one file (a bigger one is recorded as too_large).
CRAWLER_ATTACHMENT_KINDS = ["pdf", "docx", "doc", "wps", "xlsx", "xls"]
CRAWLER_ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
# Reading one file's text (crawler/crawl/file_reading.py): a file that takes longer, or more
# memory (address space of the reading process), is recorded as too_large and the crawl goes on.
CRAWLER_ATTACHMENT_READ_SECONDS = 120
CRAWLER_ATTACHMENT_READ_MEMORY = 2 * 1024 * 1024 * 1024

# Faults (see crawler/crawl/retry.py, traps.py, attachments.py, faults.py): retries wait
# RETRY_BACKOFF_BASE seconds, doubling each time, or what the server's Retry-After asks for,
# never more than RETRY_BACKOFF_MAX.
RETRY_BACKOFF_BASE = 1.0
RETRY_BACKOFF_MAX = 60.0
REDIRECT_MAX_TIMES = 10
# Trap bounds: list-page depth, list pages per query pattern, requests per site per run
# (TrapGuard runs after known articles are skipped, so those do not count).
DEPTH_LIMIT = 100
TRAP_MAX_QUERY_PAGES = 100
CRAWLER_MAX_PAGES = 10000
# Article links followed from one page; a list page of a real site holds tens, a link farm
# hundreds of thousands (the rest are counted in `trapped`).
CRAWLER_MAX_LINKS_PER_PAGE = 1000
# A broken site module is reported and skipped instead of stopping every site.
SPIDER_LOADER_CLASS = "crawler.sites.loader.SiteLoader"
SPIDER_MIDDLEWARES = {**SPIDER_MIDDLEWARES, "crawler.crawl.traps.TrapGuard": 40, "crawler.crawl.attachments.AttachmentLinks": 70}
DOWNLOADER_MIDDLEWARES = {
    **DOWNLOADER_MIDDLEWARES,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.crawl.retry.OffsiteRedirects": 540,
    "crawler.crawl.retry.RedirectLoops": 610,
    "crawler.crawl.retry.BackoffRetry": 550,
    "crawler.crawl.attachments.AttachmentResponses": 560,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.crawl.middlewares.RobotsTxt": 100,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.crawl.middlewares.MetaRefresh": 580,
}
EXTENSIONS = {**EXTENSIONS, "crawler.crawl.faults.FaultCounts": 510}

# Sites that need a browser (`render` in a site module, `crawl --url ... --render`; see
# crawler/crawl/rendering.py): their http(s) requests go through this handler, which renders
# the pages the site asks for in Debian's Chromium and fetches everything else as plain HTTP.
RENDER_DOWNLOAD_HANDLERS = {"http": "crawler.crawl.rendering.RenderingHandler",
                            "https": "crawler.crawl.rendering.RenderingHandler"}
RENDER_BROWSER = "/usr/bin/chromium"  # never a browser Playwright downloads
RENDER_TIMEOUT = 30.0  # seconds before a page that hangs is closed and counted as a timeout
RENDER_WAIT = 10.0  # seconds to wait for the list links / body to be drawn (else network idle)
RENDER_MAX_PAGES = 4  # browser pages open at once per site
RENDER_CONTEXT_PAGES = 100  # pages per browser context (cookies, cache) before a fresh one
GENERIC_RENDER = None  # `crawl --url ... --render`: "all" or "lists"
