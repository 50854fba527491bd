"""The errors Policy Monitor raises, as one small tree.

    MonitorError                 every error of ours: the CLI prints one line, exits non-zero
    ├── ConfigError              sites.toml is wrong: file, site and key named (exit 2)
    ├── ExtractError             no policy text in the bytes (empty, binary, select matched nothing)
    ├── StoreError               the database is missing, read-only for a writer, or from a
    │                            newer Policy Monitor
    └── AlertError               a channel refused a delivery, or its URL or address is
        │                        malformed: given up
        └── TransientAlertError  the channel may take it later (SMTP down, 5xx, 429, no
                                 STARTTLS for a login): retried

Fetch trouble is data, not an exception: the spider turns every error into a fetch whose
outcome is `failed` (transient: DNS, refused, timeout, 429, 5xx, a robots.txt that cannot be
read; tried again next run) or `blocked` (robots.txt, a redirect into an internal address,
other 4xx: needs a person), and one site's trouble never stops a crawl. Inside the crawler, a
request we will not send is refused with `crawler.middlewares.FetchRefused` (a Scrapy
IgnoreRequest) that carries the reason and whether it is transient.
"""

from __future__ import annotations


class MonitorError(Exception):
    """Base of every error Policy Monitor raises on purpose."""

    exit_code = 1


class ConfigError(MonitorError):
    """A configuration problem, located as precisely as we can."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, site: str | None = None,
                 key: str | None = None) -> None:
        self.file, self.site, self.key = file, site, key
        where = []
        if file:
            where.append(str(file))
        if site:
            where.append(f"site '{site}'")
        if key:
            where.append(f"key '{key}'")
        super().__init__(f"{': '.join(where)}: {message}" if where else message)


class ExtractError(MonitorError):
    """Bytes that hold no plausible policy text."""


class StoreError(MonitorError):
    """The database cannot be used."""


class AlertError(MonitorError):
    """A channel failed to deliver an alert."""


class TransientAlertError(AlertError):
    """A channel that may accept the alert later."""
