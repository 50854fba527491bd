"""Run the Scrapy spider in this process for `monitor crawl` and `monitor demo`.

Scrapy and Twisted are imported here, inside `crawl`, so commands that do not crawl start fast.
The Twisted reactor cannot be restarted: one `crawl` call per process (the daemon runs each
crawl in a subprocess).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from monitor.config import Config
from monitor.track import Outcome


def crawl(config: Config, db: Path, names: list[str] | tuple[str, ...] = (),
          on_outcome: Callable[[Outcome], None] | None = None,
          settings: dict[str, Any] | None = None) -> list[Outcome]:
    """Fetch the sites named (all when none) once; return what each fetch became."""
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings

    from crawler.spiders.policy import PolicySpider

    sites = config.select(names)
    merged = Settings()
    merged.setmodule("crawler.settings", priority="project")
    merged.setdict({"MONITOR_CONFIG": str(config.path), "MONITOR_DB": str(db),
                    "LOG_LEVEL": "WARNING", **(settings or {})}, priority="cmdline")
    outcomes: list[Outcome] = []

    def scraped(item: Any) -> None:
        if isinstance(item, Outcome):
            outcomes.append(item)
            if on_outcome:
                on_outcome(item)

    process = CrawlerProcess(merged)
    crawler = process.create_crawler(PolicySpider)
    crawler.signals.connect(scraped, signal=signals.item_scraped)
    process.crawl(crawler, sites_to_crawl=sites)
    process.start()
    return outcomes
