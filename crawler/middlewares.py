"""Downloader middlewares: where a request may go (internal addresses, robots.txt), and
conditional requests from the server's own validators, never from our clock; fetch times.

    AddressGuardMiddleware (40)   a redirect, meta refresh or robots.txt request to another
                                  host that resolves to an internal address is never sent
    RobotsMiddleware (100)        Scrapy's RobotsTxtMiddleware, as RFC 9309 reads: a robots.txt
                                  that fails (5xx, timeout) means "not now", not "allow all"
    ConditionalRequestMiddleware  If-None-Match / If-Modified-Since (560)

A request they refuse raises `FetchRefused`, which the spider records as a `blocked` fetch (or a
`failed` one when `transient`: tried again on the next run) with the reason.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThread

from monitor.addresses import internal, resolve, same_host
from monitor.store import Store, now

log = logging.getLogger(__name__)


class FetchRefused(IgnoreRequest):
    """A request we would not send. Blocked (a person must look) unless `transient` (a
    robots.txt that could not be read now: the next run tries again)."""

    def __init__(self, reason: str, *, transient: bool = False) -> None:
        super().__init__(reason)
        self.transient = transient


# --- internal addresses (SSRF): what is internal is told by monitor.addresses ---

class AddressGuardMiddleware:
    """A fetch may reach a loopback, private, link-local, multicast or reserved address only at
    the host of the configured URL (a user may watch an intranet page). A redirect, a meta
    refresh or a robots.txt redirect to another host is checked by the addresses that host
    resolves to (IPv4 and IPv6), before anything is sent to it, and refused when any of them is
    internal. The peer address of the answer is checked again, against a name that resolved
    differently the second time (DNS rebinding): such an answer is dropped, never read.

    Placed before OffsiteMiddleware, RobotsTxtMiddleware and everything else, so that nothing,
    not even a robots.txt request, reaches a refused host. `MONITOR_ADDRESS_GUARD = False` turns
    it off (for a crawl that must follow redirects inside a private network)."""

    def __init__(self) -> None:
        self.addresses: dict[tuple[str, int], list[str]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AddressGuardMiddleware:
        if not crawler.settings.getbool("MONITOR_ADDRESS_GUARD", True):
            raise NotConfigured("MONITOR_ADDRESS_GUARD is off")
        return cls()

    async def process_request(self, request: Request, spider: object = None) -> None:
        first = request.meta.get("redirect_urls", [request.url])[0]
        if same_host(first, request.url):
            return None
        parts = urlparse_cached(request)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            found = await self.lookup(host, port)
        except OSError as e:
            raise FetchRefused(f"{hop(request)} to {request.url} not sent: cannot resolve "
                               f"{host} ({e})", transient=True) from None
        for address in found:
            kind = internal(address)
            if kind:
                raise FetchRefused(f"{hop(request)} to {request.url} refused: {host} is a "
                                   f"{kind} address ({address}), and only the site's own "
                                   f"host may be internal")
        return None

    def process_response(self, request: Request, response: Response,
                         spider: object = None) -> Response:
        # response.url: a headless browser (render = "browser") follows redirects itself
        first = request.meta.get("redirect_urls", [request.url])[0]
        peer = response.ip_address
        if peer is not None and not same_host(first, response.url):
            kind = internal(str(peer))
            if kind:
                raise FetchRefused(f"{hop(request)} to {response.url} dropped: it was answered "
                                   f"from a {kind} address ({peer})")
        return response

    async def lookup(self, host: str, port: int) -> list[str]:
        try:
            return [str(ipaddress.ip_address(host.split("%")[0]))]
        except ValueError:
            pass
        if (host, port) not in self.addresses:
            self.addresses[host, port] = await maybe_deferred_to_future(
                deferToThread(resolve, host, port))
        return self.addresses[host, port]


def hop(request: Request) -> str:
    """How a request came to be: 'redirect (302)', 'meta refresh', 'robots.txt redirect'."""
    reasons = request.meta.get("redirect_reasons") or ["request"]
    what = f"redirect ({reasons[-1]})" if isinstance(reasons[-1], int) else str(reasons[-1])
    return f"robots.txt {what}" if request.meta.get("robots_of") else what


# --- robots.txt ---

class RobotsMiddleware(RobotsTxtMiddleware):
    """Scrapy's RobotsTxtMiddleware, read the way RFC 9309 (section 2.3.1) says: a robots.txt
    that cannot be read because of a server error (5xx, 429) or the network (timeout, refused)
    means "assume disallow": every request to that host is refused as a transient failure, and
    tried again on the next run (Scrapy's own reads it as "allow everything"). A 4xx still means
    "no rules". The robots.txt request gets the site's own `timeout` and no retries, so a
    hanging robots.txt costs a site its timeout once, not three times the default. A robots.txt
    redirect the address guard refuses refuses the host's pages too (blocked)."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.refused: dict[str, FetchRefused] = {}

    async def process_request(self, request: Request, spider: object = None) -> None:
        if request.meta.get("dont_obey_robotstxt"):
            return
        if request.url.startswith("data:") or request.url.startswith("file:"):
            return
        rp = await self.robot_parser(request)
        refusal = self.refused.get(urlparse_cached(request).netloc)
        if refusal is not None:
            raise FetchRefused(str(refusal), transient=refusal.transient)
        self.process_request_2(rp, request)

    async def robot_parser(self, request: Request) -> RobotParser | None:
        url = urlparse_cached(request)
        netloc = url.netloc
        if netloc not in self._parsers:
            self._parsers[netloc] = Deferred()
            robotsreq = Request(
                f"{url.scheme}://{netloc}/robots.txt", priority=self.DOWNLOAD_PRIORITY,
                callback=NO_CALLBACK,
                meta={"dont_obey_robotstxt": True, "dont_retry": True, "robots_of": netloc,
                      **({"download_timeout": request.meta["download_timeout"]}
                         if "download_timeout" in request.meta else {})})
            try:
                response = await self.crawler.engine.download_async(robotsreq)
                if response.status >= 500 or response.status == 429:
                    raise FetchRefused(f"robots.txt answered HTTP {response.status}: not "
                                       "fetched until it can be read (RFC 9309)",
                                       transient=True)
                await self._parse_robots(response, netloc, request)
            except Exception as e:
                self.refused_by(e, netloc)
                self._robots_error(e, netloc)
            self._stats.inc_value("robotstxt/request_count")
        parser = self._parsers[netloc]
        if isinstance(parser, Deferred):
            return await maybe_deferred_to_future(parser)
        return parser

    def refused_by(self, error: Exception, netloc: str) -> None:
        """Remember why the pages of `netloc` are not fetched, when its robots.txt failed."""
        if isinstance(error, FetchRefused):
            self.refused[netloc] = error
        elif not isinstance(error, IgnoreRequest):  # IgnoreRequest: too many redirects, no rules
            reason = f"{type(error).__name__}: {error}".rstrip(": ")
            self.refused[netloc] = FetchRefused(
                f"robots.txt could not be fetched ({reason}): not fetched until it can be "
                "read (RFC 9309)", transient=True)
        if netloc in self.refused:
            log.warning("%s: %s", netloc, self.refused[netloc])


# --- conditional requests ---

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
