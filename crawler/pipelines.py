"""The item pipeline: hands each `Fetched` to a writer thread that runs `monitor.track`.

Nothing slow runs on Scrapy's reactor thread: extraction, classification, alert planning and
store writes happen in the writer thread (`Writer`), in batches (`track.track_many`: read,
extract and judge without the write lock, then one short transaction for the batch). The queue
is bounded (MONITOR_WRITER_QUEUE items): when it is full, `process_item` waits, Scrapy's scraper
holds the responses, and the downloader stops taking new requests until the writer catches up.
A slow judgement or a database locked by another process delays the writer only; downloads in
flight go on.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet.defer import Deferred, DeferredSemaphore
from twisted.python.failure import Failure

from monitor import config as siteconfig
from monitor.config import Site
from monitor.records import Fetched, Outcome

log = logging.getLogger(__name__)


class MonitorPipeline:
    """Record every fetch in the store; return the `Outcome` as the item, counted in the
    crawl's stats (`monitor/new`, `monitor/same`, `monitor/suspect`, ...)."""

    def __init__(self, config_path: str, db_path: str, stats: Any = None, *,
                 queue_size: int = 64, batch: int = 32) -> None:
        self.config_path, self.db_path, self.stats = config_path, db_path, stats
        self.batch = batch
        self.config: siteconfig.Config | None = None
        self.writer: Writer | None = None
        self.slots = DeferredSemaphore(queue_size)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MonitorPipeline:
        settings = crawler.settings
        if not settings.get("MONITOR_CONFIG") or not settings.get("MONITOR_DB"):
            raise NotConfigured("MONITOR_CONFIG and MONITOR_DB are needed to record fetches")
        pipeline = cls(settings.get("MONITOR_CONFIG"), settings.get("MONITOR_DB"), crawler.stats,
                       queue_size=settings.getint("MONITOR_WRITER_QUEUE", 64),
                       batch=settings.getint("MONITOR_WRITER_BATCH", 32))
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self, spider: Any = None) -> None:
        from monitor.alerts import alerting_for
        from monitor.store import Store

        self.config = getattr(spider, "config", None) or siteconfig.load(self.config_path)
        crawled = getattr(spider, "sites_to_crawl", None) or self.config.sites
        Store(self.db_path).close()  # a broken database fails here, before any fetch
        self.writer = Writer(self.db_path, self.config, alerting_for(self.config), self.batch,
                             crawled)
        self.writer.start()

    async def process_item(self, item: Fetched) -> Outcome:
        """The item's `Outcome`, once the writer recorded it."""
        from scrapy.utils.defer import maybe_deferred_to_future

        return self.counted(await maybe_deferred_to_future(self.slots.run(self.submit, item)))

    def submit(self, item: Fetched) -> Deferred:
        from twisted.internet import reactor

        assert self.writer is not None
        done: Deferred = Deferred()
        self.writer.put(item, lambda result: reactor.callFromThread(  # type: ignore[attr-defined]
            done.errback if isinstance(result, Failure) else done.callback, result))
        return done

    def counted(self, outcome: Outcome) -> Outcome:
        if self.stats is not None:
            self.stats.inc_value(f"monitor/{outcome.outcome}")
        return outcome

    def spider_closed(self, spider: Any = None) -> None:
        if self.writer is not None:
            self.writer.stop()
            self.writer = None


class Writer(threading.Thread):
    """The one thread that writes to the store for this crawl: takes fetched pages off its
    queue, up to `batch` at a time (whatever is waiting; never waits to fill a batch), and
    records them with `track_many`. Each result goes to the item's `reply` callable."""

    STOP = object()

    def __init__(self, db_path: str, config: siteconfig.Config, alerting: Any,
                 batch: int, sites: list[Site] | tuple[Site, ...]) -> None:
        super().__init__(name="monitor-writer", daemon=True)
        self.db_path, self.config, self.alerting, self.batch = db_path, config, alerting, batch
        self.sites = sites
        self.queue: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def put(self, item: Fetched, reply: Any) -> None:
        self.queue.put((item, reply))

    def stop(self) -> None:
        self.queue.put(self.STOP)
        self.join()

    def run(self) -> None:
        from monitor.store import Store

        store = Store(self.db_path)
        try:
            store.sync_sites([(s.name, s.url) for s in self.sites])  # may wait for the lock
            stopping = False
            while not stopping:
                batch: list[tuple[Fetched, Any]] = []
                while not batch or (len(batch) < self.batch and not self.queue.empty()):
                    entry = self.queue.get()
                    if entry is self.STOP:
                        stopping = True
                        break
                    batch.append(entry)
                if batch:
                    self.write(store, batch)
        finally:
            store.close()

    def write(self, store: Any, batch: list[tuple[Fetched, Any]]) -> None:
        from monitor.track import track_many

        pairs = [(self.config.site(item.site), item) for item, _ in batch]
        try:
            outcomes = track_many(store, pairs, self.alerting,
                                  classifier=self.config.classifier.backend,
                                  failed=lambda site, item, e: self.failed(store, site, item, e))
        except Exception:  # the store itself failed (locked past its timeout, disk full)
            log.exception("could not record %d fetches", len(batch))
            failure = Failure()
            for _, reply in batch:
                reply(failure)
            return
        for (_, reply), outcome in zip(batch, outcomes, strict=True):
            reply(outcome)

    def failed(self, store: Any, site: Site, item: Fetched, error: Exception) -> Outcome:
        """One site's bug must not stop the others: record it, go on."""
        from monitor.track import record

        log.error("%s: could not record the fetch", item.site, exc_info=error)
        return record(store, site, item, "failed", f"internal error: {error!r}", None)
