"""Conditional requests from the server's own validators, never from our clock; fetch times."""

from __future__ import annotations

from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from monitor.store import Store, now


class ConditionalRequestMiddleware:
    """Send If-None-Match / If-Modified-Since with the ETag and Last-Modified the server gave
    on the newest good fetch of the same URL. A 304 then means unchanged."""

    def __init__(self, db_path: str) -> None:
        self.db_path = db_path
        self.store: Store | None = None  # opened on the first request, closed with the spider

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalRequestMiddleware:
        if not crawler.settings.get("MONITOR_DB"):
            raise NotConfigured("MONITOR_DB is needed for conditional requests")
        middleware = cls(crawler.settings.get("MONITOR_DB"))
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def process_request(self, request: Request, spider: object = None) -> None:
        site = request.meta.get("site")
        if not site:
            return None
        request.meta["started"] = now()  # when the request leaves, not when it was queued
        if request.meta.get("unconditional"):
            return None
        if self.store is None:
            self.store = Store(self.db_path)
        etag, last_modified = self.store.validators(site, request.url, request.meta.get("rules"))
        if etag and b"If-None-Match" not in request.headers:
            request.headers[b"If-None-Match"] = etag
        if last_modified and b"If-Modified-Since" not in request.headers:
            request.headers[b"If-Modified-Since"] = last_modified
        return None

    def spider_closed(self, spider: Any = None) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None
