"""The site list: `sites.toml`, read and checked once, at load time.

Every problem is a `ConfigError` naming the file, the site and the key, so a user can fix
it without reading code. Nothing is written while the file is wrong.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from monitor.errors import ConfigError

DEFAULT_CONFIG = Path("sites.toml")
DEFAULT_DB = Path("snapshots") / "monitor.db"

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
SITE_KEYS = {"name", "url", "select", "remove", "schedule", "notify", "obey_robots", "timeout"}
DEFAULT_KEYS = {"schedule", "notify", "obey_robots", "timeout"}
TOP_KEYS = {"sites", "defaults", "alerts", "daemon"}


@dataclass(frozen=True)
class Site:
    """One watched policy page."""

    name: str
    url: str
    select: str | None = None
    remove: tuple[str, ...] = ()
    schedule: str = "daily"
    notify: tuple[str, ...] | None = None  # None: every configured channel
    obey_robots: bool = True
    timeout: float = 30.0


@dataclass(frozen=True)
class Config:
    """A loaded, checked site list."""

    path: Path
    sites: tuple[Site, ...] = ()
    alerts: dict[str, Any] = field(default_factory=dict)
    daemon: dict[str, Any] = field(default_factory=dict)

    def site(self, name: str) -> Site:
        for site in self.sites:
            if site.name == name:
                return site
        raise ConfigError(f"no site named '{name}' (known: {', '.join(self.names) or 'none'})",
                          file=str(self.path))

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.sites]

    def select(self, names: list[str] | tuple[str, ...]) -> list[Site]:
        """The sites named, in the order given, or all of them when none is named."""
        return [self.site(n) for n in names] if names else list(self.sites)


def config_path(path: str | Path | None = None) -> Path:
    return Path(path or os.environ.get("MONITOR_CONFIG") or DEFAULT_CONFIG)


def db_path(path: str | Path | None = None) -> Path:
    return Path(path or os.environ.get("MONITOR_DB") or DEFAULT_DB)


def load(path: str | Path | None = None) -> Config:
    """Read and check `path` (or $MONITOR_CONFIG, or ./sites.toml)."""
    path = config_path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("file not found (run `monitor init` to write an example)",
                          file=str(path)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"not valid TOML: {e}", file=str(path)) from None
    return parse(raw, path)


def parse(raw: dict[str, Any], path: Path) -> Config:
    """Check a decoded TOML document and turn it into a `Config`."""
    file = str(path)
    unknown(raw, TOP_KEYS, file=file)
    defaults = raw.get("defaults", {})
    if not isinstance(defaults, dict):
        raise ConfigError("must be a table", file=file, key="defaults")
    unknown(defaults, DEFAULT_KEYS, file=file, prefix="defaults.")
    entries = raw.get("sites", [])
    if not isinstance(entries, list):
        raise ConfigError("must be an array of tables: [[sites]]", file=file, key="sites")
    sites: list[Site] = []
    for i, entry in enumerate(entries, 1):
        site = parse_site(entry, defaults, file=file, index=i)
        if any(s.name == site.name for s in sites):
            raise ConfigError("duplicate name", file=file, site=site.name, key="name")
        sites.append(site)
    alerts = raw.get("alerts", {})
    daemon = raw.get("daemon", {})
    for key, value in (("alerts", alerts), ("daemon", daemon)):
        if not isinstance(value, dict):
            raise ConfigError("must be a table", file=file, key=key)
    config = Config(path=path, sites=tuple(sites), alerts=alerts, daemon=daemon)
    from monitor.alerts import check_config
    from monitor.scheduler import check_daemon

    check_config(config)  # [alerts] and each site's `notify`
    check_daemon(config)  # [daemon]
    return config


def parse_site(entry: Any, defaults: dict[str, Any], *, file: str, index: int) -> Site:
    if not isinstance(entry, dict):
        raise ConfigError(f"entry {index} must be a table", file=file, key="sites")
    name = entry.get("name")
    if not isinstance(name, str) or not SLUG.match(name):
        raise ConfigError("needs a slug: lower-case letters, digits, '-' or '_'",
                          file=file, site=str(name or f"#{index}"), key="name")
    unknown(entry, SITE_KEYS, file=file, site=name)
    merged = {**defaults, **entry}
    return Site(
        name=name,
        url=check_url(merged.get("url"), file=file, site=name),
        select=check_selectors([merged["select"]], file=file, site=name, key="select")[0]
        if "select" in merged else None,
        remove=tuple(check_selectors(merged.get("remove", []), file=file, site=name,
                                     key="remove")),
        schedule=check_schedule(merged.get("schedule", "daily"), file=file, site=name),
        notify=check_strings(merged["notify"], file=file, site=name, key="notify")
        if "notify" in merged else None,
        obey_robots=check_type(merged.get("obey_robots", True), bool, file=file, site=name,
                               key="obey_robots"),
        timeout=check_timeout(merged.get("timeout", 30), file=file, site=name),
    )


def unknown(table: dict[str, Any], allowed: set[str], *, file: str, site: str | None = None,
            prefix: str = "") -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(f"unknown key (allowed: {', '.join(sorted(allowed))})",
                              file=file, site=site, key=prefix + key)


def check_url(url: Any, *, file: str, site: str) -> str:
    if not isinstance(url, str):
        raise ConfigError("missing or not a string", file=file, site=site, key="url")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"not an http(s) URL: {url!r}", file=file, site=site, key="url")
    return url


def check_selectors(values: Any, *, file: str, site: str, key: str) -> list[str]:
    from monitor.extract import check_selector

    if isinstance(values, str):
        values = [values]
    selectors = check_strings(values, file=file, site=site, key=key)
    for selector in selectors:
        try:
            check_selector(selector)
        except ValueError as e:
            raise ConfigError(f"bad CSS selector {selector!r}: {e}", file=file, site=site,
                              key=key) from None
    return list(selectors)


def check_strings(values: Any, *, file: str, site: str, key: str) -> tuple[str, ...]:
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        raise ConfigError("must be a string or a list of strings", file=file, site=site, key=key)
    return tuple(values)


def check_type(value: Any, kind: type, *, file: str, site: str, key: str) -> Any:
    if not isinstance(value, kind):
        raise ConfigError(f"must be a {kind.__name__}", file=file, site=site, key=key)
    return value


def check_timeout(value: Any, *, file: str, site: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 600:
        raise ConfigError("must be a number of seconds between 0 and 600", file=file, site=site,
                          key="timeout")
    return float(value)


def check_schedule(value: Any, *, file: str, site: str) -> str:
    from monitor.schedule import parse_schedule

    if not isinstance(value, str):
        raise ConfigError("must be a string", file=file, site=site, key="schedule")
    try:
        parse_schedule(value)
    except ValueError as e:
        raise ConfigError(str(e), file=file, site=site, key="schedule") from None
    return value


EXAMPLE = """\
# Policy Monitor: the sites to watch. See README.md, "Configuration".

[defaults]
schedule = "daily"          # "daily", "every 6h", "every 30s", or a cron expression "0 3 * * *"

# One [[sites]] table a policy page; `monitor add NAME URL` appends one.
# [[sites]]
# name = "example"
# url = "https://example.org/privacy"
# select = "main article"   # CSS selector of the policy's content (default: found automatically)
# remove = [".cookie-banner", "nav"]
# notify = ["email"]        # only these channels for this site
# obey_robots = true
# timeout = 30              # seconds

# [alerts.email]
# smtp_url = "smtp://user:${SMTP_PASSWORD}@smtp.example.org:587"
# from = "policy-monitor@example.org"
# to = ["privacy-team@example.org"]
#
# [alerts.slack]
# webhook_url = "${SLACK_WEBHOOK_URL}"
"""


def site_block(name: str, url: str, select: str | None = None,
               remove: tuple[str, ...] = ()) -> str:
    """A `[[sites]]` table as TOML text, appended to the file so its comments survive."""
    lines = ["", "[[sites]]", f"name = {toml_string(name)}", f"url = {toml_string(url)}"]
    if select:
        lines.append(f"select = {toml_string(select)}")
    if remove:
        lines.append(f"remove = [{', '.join(toml_string(r) for r in remove)}]")
    return "\n".join(lines) + "\n"


def toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
