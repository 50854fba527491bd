"""The item pipeline: a thin adapter that hands each `Fetched` to `monitor.track.track`."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from monitor import config as siteconfig
from monitor.records import Fetched, Outcome
from monitor.track import record, track

log = logging.getLogger(__name__)


class MonitorPipeline:
    """Record every fetch in the store; return the `Outcome` as the item, counted in the
    crawl's stats (`monitor/new`, `monitor/same`, `monitor/suspect`, ...)."""

    def __init__(self, config_path: str, db_path: str, stats: Any = None) -> None:
        self.config_path, self.db_path, self.stats = config_path, db_path, stats
        self.config: siteconfig.Config | None = None
        self.store: Any = None
        self.alerting: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MonitorPipeline:
        settings = crawler.settings
        if not settings.get("MONITOR_CONFIG") or not settings.get("MONITOR_DB"):
            raise NotConfigured("MONITOR_CONFIG and MONITOR_DB are needed to record fetches")
        pipeline = cls(settings.get("MONITOR_CONFIG"), settings.get("MONITOR_DB"), crawler.stats)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self, spider: Any = None) -> None:
        from monitor.alerts import alerting_for
        from monitor.store import Store

        self.config = siteconfig.load(self.config_path)
        self.store = Store(self.db_path)
        self.store.sync_sites([(s.name, s.url) for s in self.config.sites])
        self.alerting = alerting_for(self.config)

    def process_item(self, item: Fetched) -> Outcome:
        assert self.config is not None
        site = self.config.site(item.site)
        try:
            outcome = track(self.store, site, item, self.alerting,
                            classifier=self.config.classifier.backend)
        except Exception as e:  # one site's bug must not stop the others: record it, go on
            log.exception("%s: could not record the fetch", item.site)
            outcome = record(self.store, site, item, "failed", f"internal error: {e!r}", None)
        if self.stats is not None:
            self.stats.inc_value(f"monitor/{outcome.outcome}")
        return outcome

    def spider_closed(self, spider: Any = None) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None
