"""Scrapy settings for the policy crawler: polite by default.

Our own components read settings with a MONITOR_ prefix. `monitor crawl` loads this module too,
so `uv run scrapy crawl policy` and `uv run monitor crawl` behave the same.
"""

import os

from monitor import config as siteconfig

BOT_NAME = "policy-monitor"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Honest and reachable: the product and where to read about it (defined once, in
# monitor.config, for `monitor extract` too; $MONITOR_USER_AGENT replaces it).
USER_AGENT = siteconfig.USER_AGENT

# Politeness: robots.txt (a site may opt out with obey_robots = false), one request at a time
# per domain, AutoThrottle to follow the server's pace.
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# One page gives one item (or the next page's request): Scrapy starts CONCURRENT_ITEMS tasks
# for each response's output, 100 by default, which cost more than the page itself. Items are
# recorded off the reactor by the pipeline's writer thread, MONITOR_WRITER_QUEUE at a time.
CONCURRENT_ITEMS = 1
MONITOR_WRITER_QUEUE = 64
MONITOR_WRITER_BATCH = 32
MONITOR_WORKERS = 0  # crawl processes; 0: one a core for 200 sites or more each

RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 5 * 1024 * 1024

# Policies are public pages: no cookies (no session-dependent variants), no Scrapy HTTP cache
# (conditional requests use the validators recorded in the store instead).
COOKIES_ENABLED = False
HTTPCACHE_ENABLED = False
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # Scrapy 2.19's control server: a crawl listens on no port
# Nothing a policy crawl needs, paid on every request: a Referer header (none is sent: we
# come from nowhere), depth and URL-length bookkeeping for link-following spiders.
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.referer.RefererMiddleware": None,
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
}

# Where a request may go: the address guard comes before everything else (no robots.txt
# request either may reach a refused host), our robots.txt reading replaces Scrapy's (a
# robots.txt that fails means "not now", RFC 9309), then conditional requests.
DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.AddressGuardMiddleware": 40,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.RobotsMiddleware": 100,
    "crawler.middlewares.ConditionalRequestMiddleware": 560,
}
MONITOR_ADDRESS_GUARD = True  # False: follow redirects into internal addresses (see README)
ITEM_PIPELINES = {"crawler.pipelines.MonitorPipeline": 300}

MONITOR_CONFIG = os.environ.get("MONITOR_CONFIG", "sites.toml")
MONITOR_DB = os.environ.get("MONITOR_DB", os.path.join("snapshots", "monitor.db"))

LOG_LEVEL = os.environ.get("MONITOR_SCRAPY_LOG_LEVEL", "INFO")
