"""The one generic spider: fetch each site's policy page once, hand the result on as `Fetched`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.middlewares import FetchRefused
from monitor import config as siteconfig
from monitor.config import Site
from monitor.errors import MonitorError
from monitor.records import Fetched
from monitor.store import now
from monitor.track import fingerprint, moved_away

# Every status we want to see ourselves; 3xx stay with RedirectMiddleware.
SEEN_STATUSES = [304, *range(400, 600)]


class PolicySpider(scrapy.Spider):
    """`scrapy crawl policy [-a sites=a,b]`: all sites of the site list, or those named."""

    name = "policy"

    def __init__(self, sites_to_crawl: list[Site] | None = None, sites: str = "",
                 config: siteconfig.Config | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.names = [n for n in sites.split(",") if n]
        self.sites_to_crawl = sites_to_crawl
        self.config = config  # the site list, when the caller has it loaded already

    @classmethod
    def update_settings(cls, settings: Any) -> None:
        """Headless Chromium only for a crawl with a `render = "browser"` site
        (MONITOR_BROWSER; when unset, read from the site list)."""
        super().update_settings(settings)
        wanted = settings.get("MONITOR_BROWSER")
        if wanted is None and settings.get("MONITOR_CONFIG"):
            try:
                config = siteconfig.load(settings.get("MONITOR_CONFIG"))
            except MonitorError:
                return  # from_crawler reports it
            wanted = any(site.render == "browser" for site in config.sites)
        if wanted and str(wanted).lower() not in ("0", "false"):
            from crawler.browser import enable

            enable(settings)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> PolicySpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        if spider.config is None:
            spider.config = siteconfig.load(crawler.settings.get("MONITOR_CONFIG"))
        if spider.sites_to_crawl is None:
            spider.sites_to_crawl = spider.config.select(spider.names)
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request | Fetched]:
        for site in self.sites_to_crawl or ():
            try:
                request = self.request(site)
            except Exception as e:  # one site's bad URL must not stop the sites after it
                yield Fetched(site=site.name, url=site.url, at=now(),
                              error=f"cannot request this URL: {type(e).__name__}: {e}")
                continue
            yield request

    def request(self, site: Site, part: int = 0, got: tuple = ()) -> scrapy.Request:
        """The request for `site`'s page number `part` (0: its `url`; then its `pages`, each
        fetched after the one before, `got` holding what came so far)."""
        meta: dict[str, Any] = {
            "site": site.name, "rules": fingerprint(site), "started": now(),
            "download_timeout": site.timeout, "dont_obey_robotstxt": not site.obey_robots,
            "handle_httpstatus_list": SEEN_STATUSES}
        if site.render == "browser":
            from crawler.browser import meta as rendered

            meta.update(rendered(site.timeout))
        if site.pages:  # one document over several pages: a 304 of one page says nothing
            meta.update(unconditional=True, part=part, got=got, site_url=site.url)
        url = site.url if part == 0 else site.pages[part - 1].url
        return scrapy.Request(url, callback=self.parse, errback=self.failed,
                              dont_filter=True, meta=meta)

    def parse(self, response: Response) -> Fetched | scrapy.Request:
        meta = response.meta
        headers = response.headers
        if "part" in meta and response.status < 300:
            return self.combine(response)
        return Fetched(
            site=meta["site"],
            url=meta.get("site_url") or meta.get("redirect_urls", [response.url])[0],
            at=meta.get("first_started", meta["started"]), final_url=response.url,
            status=response.status,
            body=response.body if response.status < 300 else b"",
            content_type=header(headers, b"Content-Type"), etag=header(headers, b"ETag"),
            last_modified=header(headers, b"Last-Modified"),
            duration_ms=round(meta.get("download_latency", 0.0) * 1000, 1))

    def combine(self, response: Response) -> Fetched | scrapy.Request:
        """The next page of a combined site, or, with all of them, one envelope of them all."""
        from monitor.sources import COMBINED, pack

        meta = response.meta
        site = next(s for s in self.sites_to_crawl or () if s.name == meta["site"])
        got = (*meta["got"], (response.url, header(response.headers, b"Content-Type"),
                              response.body))
        first_started = meta.get("first_started", meta["started"])
        asked = site.url if len(got) == 1 else site.pages[len(got) - 2].url
        if moved_away(asked, response.url):  # this page was redirected home or to a login:
            return Fetched(  # `track` records the site's fetch as suspect, with the reason
                site=site.name, url=asked, at=first_started, final_url=response.url,
                status=response.status, body=response.body,
                content_type=header(response.headers, b"Content-Type"))
        if len(got) <= len(site.pages):
            request = self.request(site, len(got), got)
            request.meta["first_started"] = first_started
            return request
        return Fetched(site=site.name, url=site.url, at=first_started, final_url=got[0][0],
                       status=200, body=pack(got), content_type=COMBINED)

    def failed(self, failure: Failure) -> Fetched:
        """A fetch that got no page: `blocked` when it needs a person (robots.txt, a refused
        address), `failed` when the next run may do better (DNS, refused, timeout)."""
        request = failure.request  # type: ignore[attr-defined]
        meta = request.meta
        refused = failure.value if isinstance(failure.value, FetchRefused) else None
        if refused is not None:
            blocked, reason = not refused.transient, str(refused)
        else:
            blocked = failure.check(IgnoreRequest) is not None
            reason = f"{failure.type.__name__}: {failure.getErrorMessage()}"
            if blocked and "robots" in reason.lower():
                reason = "forbidden by robots.txt"
        first = meta.get("redirect_urls", [request.url])[0]
        return Fetched(site=meta["site"], url=meta.get("site_url", first),
                       at=meta.get("first_started", meta["started"]),
                       final_url=request.url if request.url != first else None,
                       error=reason, blocked=blocked)


def header(headers: Any, name: bytes) -> str | None:
    value = headers.get(name)
    return value.decode("latin-1") if value else None
