"""Pages written by scripts: rendered in headless Chromium through scrapy-playwright.

Opt-in per site (`render = "browser"`), with the system's Chromium (Debian's `chromium`;
`$MONITOR_CHROMIUM` names another binary): Playwright never downloads a browser. Only the
requests of such sites go through the browser; every other request keeps Scrapy's own download
handler. A render is bounded by the site's `timeout`; images, media and fonts are not loaded.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

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


def skipped(request: Any) -> bool:
    """Requests a render does without: they cost time and never hold policy text."""
    return request.resource_type in SKIPPED


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
