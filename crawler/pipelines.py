"""The item pipeline: a thin adapter that hands each `Fetched` to `monitor.track.track`."""

from __future__ import annotations

import logging

from scrapy.crawler import Crawler

from monitor import config as siteconfig
from monitor.store import Store
from monitor.track import Fetched, Outcome, record, track

log = logging.getLogger(__name__)


class MonitorPipeline:
    """Record every fetch in the store; return the `Outcome` as the item."""

    def __init__(self, config_path: str, db_path: str) -> None:
        self.config = siteconfig.load(config_path)
        self.store = Store(db_path)
        self.store.sync_sites([(s.name, s.url) for s in self.config.sites])
        from monitor.alerts import alerting_for

        self.alerting = alerting_for(self.config)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MonitorPipeline:
        return cls(crawler.settings.get("MONITOR_CONFIG"), crawler.settings.get("MONITOR_DB"))

    def process_item(self, item: Fetched) -> Outcome:
        site = self.config.site(item.site)
        try:
            return track(self.store, site, item, self.alerting)
        except Exception as e:  # one site's bug must not stop the others: record it, go on
            log.exception("%s: could not record the fetch", item.site)
            return record(self.store, site, item, "failed", f"internal error: {e!r}", None)

    def close_spider(self) -> None:
        self.store.close()
