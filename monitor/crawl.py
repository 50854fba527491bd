"""Run the Scrapy spider in this process for `monitor crawl` and `monitor demo`.

Scrapy and Twisted are imported here, inside `crawl`, so commands that do not crawl start fast.
The Twisted reactor cannot be restarted: one `crawl` call per process (the daemon runs each
crawl in a subprocess).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from monitor.config import Config
from monitor.records import Outcome
from monitor.store import Store

log = logging.getLogger(__name__)


def crawl(config: Config, db: Path, names: list[str] | tuple[str, ...] = (),
          on_outcome: Callable[[Outcome], None] | None = None,
          settings: dict[str, Any] | None = None, deliver_alerts: bool = True) -> list[Outcome]:
    """Fetch the sites named (all when none) once; return what each fetch became."""
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings

    from crawler.spiders.policy import PolicySpider

    sites = config.select(names)
    merged = Settings()
    merged.setmodule("crawler.settings", priority="project")
    # MONITOR_SCRAPY_LOG_LEVEL (read by crawler.settings) shows Scrapy's own lines when set
    quiet = not os.environ.get("MONITOR_SCRAPY_LOG_LEVEL")
    browser = any(site.render == "browser" for site in sites)  # Chromium only when needed
    merged.setdict({"MONITOR_CONFIG": str(config.path), "MONITOR_DB": str(db),
                    "MONITOR_BROWSER": browser,
                    **({"LOG_LEVEL": "WARNING"} if quiet else {}), **(settings or {})},
                   priority="cmdline")
    outcomes: list[Outcome] = []

    def scraped(item: Any) -> None:
        if isinstance(item, Outcome):
            outcomes.append(item)
            if on_outcome:
                on_outcome(item)

    Store(db).close()  # a missing, broken or newer database fails here, as a clear error
    process = CrawlerProcess(merged)
    # Each site's outcome line says what went wrong; Scrapy's own tracebacks for an
    # unreachable host or a refused robots.txt would only bury it (unless asked for).
    if quiet:
        logging.getLogger("scrapy").setLevel(logging.CRITICAL)
    crawler = process.create_crawler(PolicySpider)
    crawler.signals.connect(scraped, signal=signals.item_scraped)
    process.crawl(crawler, sites_to_crawl=sites)
    process.start()
    if deliver_alerts:
        deliver(config, db)
    return outcomes


def deliver(config: Config, db: Path) -> None:
    """Send the alerts this crawl planned (and any earlier ones whose retry is due)."""
    from monitor.alerts import alerting_for, deliver_pending
    from monitor.store import Store

    if alerting_for(config) is None:
        return
    store = Store(db)
    try:
        results = deliver_pending(store, config)
    finally:
        store.close()
    for r in results:
        if r.state != "sent":  # redacted already; `monitor alerts` shows the rest
            log.warning("alert %s (%s %s) to %s: %s, %s", r.id, r.kind, r.site, r.channel,
                        "will retry" if r.state == "pending" else r.state, r.error)
