"""Pages written by scripts: rendered in headless Chromium through scrapy-playwright.

Opt-in per site (`render = "browser"`), with the system's Chromium (Debian's `chromium`;
`$MONITOR_CHROMIUM` names another binary): Playwright never downloads a browser. Only the
requests of such sites go through the browser; every other request keeps Scrapy's own download
handler. A render is bounded by the site's `timeout`; images, media and fonts are not loaded.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import shutil
import socket
from typing import Any
from urllib.parse import urlsplit

from scrapy.settings import BaseSettings

HANDLER = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
# The flags a headless Chromium needs on a closed network, as root, in a container.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-extensions"]
SKIPPED = frozenset({"image", "media", "font"})


def chromium() -> str:
    """The Chromium binary to drive, or a clear message of what to install."""
    path = os.environ.get("MONITOR_CHROMIUM") or shutil.which("chromium") \
        or shutil.which("chromium-browser")
    if not path:
        from monitor.errors import ConfigError

        raise ConfigError('render = "browser" needs Chromium: install Debian\'s package '
                          "`chromium` (apt-get install chromium) or set $MONITOR_CHROMIUM")
    return path


async def skipped(request: Any) -> bool:
    """Requests a render does without: images, media and fonts (they cost time and never hold
    policy text), and whatever the page asks of another host that resolves to an internal
    address (a script fetching cloud metadata into the page, a navigation to an intranet
    host), as AddressGuardMiddleware refuses a redirect there. Playwright shows no route the
    hops of a redirect: a page the browser was redirected to is dropped afterwards, by the
    address it was answered from (AddressGuardMiddleware.process_response)."""
    return request.resource_type in SKIPPED or await into_internal(request)


RESOLVED: dict[tuple[str, int], list[str]] = {}  # host and port -> addresses, for this crawl


async def into_internal(request: Any) -> bool:
    """Whether `request` goes to another host than the page's (the first navigation's own URL
    before there is a page) that resolves to an internal address."""
    from monitor.addresses import internal, same_host

    try:
        page = request.frame.url
    except Exception:  # a service worker's request has no frame
        page = ""
    parts = urlsplit(request.url)
    origin = page if page.startswith(("http://", "https://")) else request.url
    if parts.scheme not in ("http", "https") or same_host(origin, request.url):
        return False
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if (host, port) not in RESOLVED:
        try:
            ipaddress.ip_address(host.split("%")[0])
            RESOLVED[host, port] = [host]
        except ValueError:
            try:
                found = await asyncio.get_running_loop().getaddrinfo(
                    host, port, type=socket.SOCK_STREAM)
            except OSError:
                return True  # cannot tell where it goes: not sent
            RESOLVED[host, port] = [str(info[4][0]) for info in found]
    return any(internal(address) for address in RESOLVED[host, port])


def enable(settings: BaseSettings) -> None:
    """Route requests marked `playwright` through headless Chromium (in this crawl only)."""
    settings.set("DOWNLOAD_HANDLERS", {"http": HANDLER, "https": HANDLER}, priority="spider")
    settings.set("PLAYWRIGHT_BROWSER_TYPE", "chromium", priority="spider")
    settings.set("PLAYWRIGHT_LAUNCH_OPTIONS", {"executable_path": chromium(), "headless": True,
                                               "args": FLAGS}, priority="spider")
    settings.set("PLAYWRIGHT_ABORT_REQUEST", skipped, priority="spider")
    settings.set("PLAYWRIGHT_MAX_PAGES_PER_CONTEXT", 4, priority="spider")


def meta(timeout_s: float) -> dict[str, Any]:
    """Request meta for a rendered page: wait for the network to settle, within the timeout."""
    return {"playwright": True, "unconditional": True,
            "playwright_page_goto_kwargs": {"wait_until": "networkidle",
                                            "timeout": timeout_s * 1000}}
