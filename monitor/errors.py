"""The errors Policy Monitor raises, as one small tree.

    MonitorError                   every error of ours; the CLI prints it and exits non-zero
    ├── ConfigError                sites.toml is wrong: names the file, the site and the key (exit 2)
    ├── FetchError                 a page could not be fetched
    │   ├── TransientFetchError    DNS, refused, timeout, 5xx, 429: try again later
    │   └── BlockedFetchError      robots.txt, 4xx, redirect elsewhere: needs a person
    ├── ExtractError               the bytes hold no plausible policy text (empty, error page, JS shell)
    ├── StoreError                 the database is missing, locked or from a newer version
    └── AlertError                 a channel refused or failed a delivery
        └── TransientAlertError    the channel may take it later (SMTP down, 5xx, 429)
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


class FetchError(MonitorError):
    """A fetch that did not give us a page."""


class TransientFetchError(FetchError):
    """A fetch that may work next time (network, timeout, 5xx, 429)."""


class BlockedFetchError(FetchError):
    """A fetch that will not work without a person (robots.txt, 4xx, moved page)."""


class ExtractError(MonitorError):
    """Bytes that hold no plausible policy text."""


class StoreError(MonitorError):
    """The database cannot be used."""


class AlertError(MonitorError):
    """A channel failed to deliver an alert."""


class TransientAlertError(AlertError):
    """A channel that may accept the alert later."""
