"""Run the Scrapy spider in this process for `monitor crawl` and `monitor demo`.

Scrapy and Twisted are imported here, inside `crawl`, so commands that do not crawl start fast.
The Twisted reactor cannot be restarted: one `crawl` call per process (the daemon runs each
crawl in a subprocess). A big crawl is shared among forked crawl processes, one per core
(`shards`: each host's sites stay in one process, so per-host politeness holds).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from monitor.config import Config, Site
from monitor.records import Outcome
from monitor.store import Store

log = logging.getLogger(__name__)


def crawl(config: Config, db: Path, names: list[str] | tuple[str, ...] = (),
          on_outcome: Callable[[Outcome], None] | None = None,
          settings: dict[str, Any] | None = None, deliver_alerts: bool = True,
          workers: int | None = None) -> list[Outcome]:
    """Fetch the sites named (all when none) once; return what each fetch became.

    `workers` crawl processes share the sites (default: the MONITOR_WORKERS setting, or one
    per core for a crawl big enough to pay for it; see `plan_workers`)."""
    from scrapy.settings import Settings

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
    Store(db).close()  # a missing, broken or newer database fails here, as a clear error
    if workers is None:
        workers = merged.getint("MONITOR_WORKERS", 0) or plan_workers(sites)
    import multiprocessing

    forking = "fork" in multiprocessing.get_all_start_methods()  # not on Windows
    groups = shards(sites, workers, split_hosts=merged.getint(
        "CONCURRENT_REQUESTS_PER_DOMAIN", 1) > 1) \
        if workers > 1 and forking and not browser else [sites]
    if len(groups) > 1:
        outcomes = crawl_shards(config, groups, merged, quiet, on_outcome)
    else:
        outcomes = crawl_here(config, sites, merged, quiet, on_outcome)
    if deliver_alerts:
        deliver(config, db)
    return outcomes


# A crawl process costs about a second to start (Scrapy's imports are shared by forking, its
# engine is not): below this many sites a process, a second one does not pay for itself.
SITES_PER_WORKER = 200


def plan_workers(sites: list[Site]) -> int:
    """One crawl process per core, as many as the crawl has SITES_PER_WORKER sites for."""
    return max(1, min(os.cpu_count() or 1, len(sites) // SITES_PER_WORKER))


def shards(sites: list[Site], count: int, *, split_hosts: bool = False) -> list[list[Site]]:
    """`sites` in up to `count` groups of about equal size, each host's sites in one group, so
    that per-host politeness (one request at a time, AutoThrottle's pace) holds across
    processes. `split_hosts` (the per-host limit was lifted): sites are shared one by one."""
    from urllib.parse import urlsplit

    by_host: dict[str, list[Site]] = {}
    for site in sites:
        key = site.name if split_hosts else (urlsplit(site.url).hostname or site.url)
        by_host.setdefault(key, []).append(site)
    groups: list[list[Site]] = [[] for _ in range(max(1, count))]
    for host in sorted(by_host, key=lambda h: (-len(by_host[h]), h)):  # biggest first
        min(groups, key=len).extend(by_host[host])
    return [group for group in groups if group]


def crawl_here(config: Config, sites: list[Site], settings: Any, quiet: bool,
               on_outcome: Callable[[Outcome], None] | None) -> list[Outcome]:
    """Run the spider over `sites` in this process (once: a reactor cannot be restarted)."""
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    from crawler.spiders.policy import PolicySpider

    outcomes: list[Outcome] = []

    def scraped(item: Any) -> None:
        if isinstance(item, Outcome):
            outcomes.append(item)
            if on_outcome:
                on_outcome(item)

    process = CrawlerProcess(settings)
    # Each site's outcome line says what went wrong; Scrapy's own tracebacks for an
    # unreachable host or a refused robots.txt would only bury it (unless asked for).
    if quiet:
        logging.getLogger("scrapy").setLevel(logging.CRITICAL)
    crawler = process.create_crawler(PolicySpider)
    crawler.signals.connect(scraped, signal=signals.item_scraped)
    process.crawl(crawler, sites_to_crawl=sites, config=config)
    process.start()
    return outcomes


def crawl_shards(config: Config, groups: list[list[Site]], settings: Any, quiet: bool,
                 on_outcome: Callable[[Outcome], None] | None) -> list[Outcome]:
    """One forked crawl process per group, all writing to the same store (each in short
    batched transactions); their outcomes come back here as they happen."""
    import multiprocessing
    from multiprocessing.connection import wait

    preload()
    import gc

    gc.collect()
    gc.freeze()  # the collector leaves what is shared alone: fewer pages copied into each child

    context = multiprocessing.get_context("fork")
    readers, processes = [], []
    for group in groups:
        reader, writer = context.Pipe(duplex=False)
        process = context.Process(target=shard_main, name="monitor-crawl",
                                  args=(config, group, settings, quiet, writer))
        process.start()
        writer.close()
        readers.append(reader)
        processes.append(process)
    outcomes: list[Outcome] = []
    while readers:
        for ready in wait(readers):
            try:
                outcome: Outcome = ready.recv()  # type: ignore[union-attr,call-arg,assignment]
            except EOFError:
                readers.remove(ready)  # type: ignore[arg-type]
                continue
            outcomes.append(outcome)
            if on_outcome:
                on_outcome(outcome)
    for process in processes:
        process.join()
        if process.exitcode:
            log.warning("a crawl process ended with status %s", process.exitcode)
    return outcomes


def preload() -> None:
    """Import, once before forking, what every crawl process would import for itself."""
    import importlib

    for module in ("crawler.spiders.policy", "crawler.pipelines", "crawler.middlewares",
                   "scrapy.core.engine", "scrapy.core.downloader.handlers.http11",
                   "scrapy.core.downloader.contextfactory", "scrapy.extensions.throttle",
                   "scrapy.downloadermiddlewares.retry", "scrapy.downloadermiddlewares.redirect",
                   "scrapy.downloadermiddlewares.httpcompression", "monitor.track",
                   "monitor.sources", "monitor.extract", "monitor.store.codec",
                   "monitor.plausibility", "monitor.alerts"):
        importlib.import_module(module)
    from monitor.store import codec

    codec.dictionary()


def shard_main(config: Config, sites: list[Site], settings: Any, quiet: bool,
               writer: Any) -> None:
    try:
        crawl_here(config, sites, settings, quiet, writer.send)
    finally:
        writer.close()


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
