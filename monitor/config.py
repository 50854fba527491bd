"""The site list: `sites.toml`, read and checked once, at load time.

Every problem is a `ConfigError` naming the file, the site and the key, so a user can fix
it without reading code. Nothing is written while the file is wrong.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from monitor.errors import ConfigError
from monitor.records import CATEGORIES

DEFAULT_CONFIG = Path("sites.toml")
DEFAULT_DB = Path("snapshots") / "monitor.db"
# Honest and reachable: the product and where to read about it (the crawler and `monitor
# extract`/`monitor add` send the same; $MONITOR_USER_AGENT replaces it).
USER_AGENT = os.environ.get(
    "MONITOR_USER_AGENT",
    "PolicyMonitor/0.1 (+https://github.com/policy-monitor/policy-monitor; "
    "watches published privacy policies for changes)")

SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")  # whole names only: SLUG.fullmatch
SITE_KEYS = {"name", "url", "select", "remove", "schedule", "notify", "obey_robots", "timeout",
             "render", "pages"}
PAGE_KEYS = {"url", "select", "remove"}
RANGE_KEYS = {"start_before", "start_after", "end_before", "end_after"}
DEFAULT_KEYS = {"schedule", "notify", "obey_robots", "timeout", "render"}
RENDERS = ("http", "browser")
TOP_KEYS = {"sites", "defaults", "alerts", "daemon", "classifier", "serve"}
ALERT_KEYS = {"on", "categories", "failures", "email", "slack", "apprise"}
CHANNEL_KEYS = {"email": {"smtp_url", "from", "to"}, "slack": {"webhook_url"},
                "apprise": {"urls"}}
# Optional channel keys. allow_plaintext_login: log in to an SMTP server that offers no TLS,
# sending the password in clear text (refused unless set: see README, "Security").
OPTIONAL_CHANNEL_KEYS = {"email": {"allow_plaintext_login"}}
CLASSIFIER_KEYS = {"backend"}
SERVE_KEYS = {"base_url"}
# [daemon] key -> (kind, lowest, highest)
DAEMON_LIMITS: dict[str, tuple[type, float, float]] = {
    "tick": (float, 0.1, 60), "deliver_every": (float, 1, 86400),
    "heartbeat_every": (float, 1, 3600), "batch_size": (int, 1, 5000),
    "max_crawls": (int, 1, 64), "crawl_timeout": (float, 1, 86400),
    "crawl_memory_mb": (int, 0, 1 << 20), "stop_grace": (float, 0, 6),
    "fetch_log_days": (int, 0, 36500),
}


@dataclass(frozen=True)
class Range:
    """A part of a page between two elements (Open Terms Archive's range selectors): it starts
    before or after the element `start_*` selects and ends before or after the one `end_*`
    selects."""

    start_before: str | None = None
    start_after: str | None = None
    end_before: str | None = None
    end_after: str | None = None


@dataclass(frozen=True)
class Page:
    """One more page of a site whose document spans several pages, combined in order."""

    url: str
    select: str | None = None
    remove: tuple[str, ...] = ()
    select_ranges: tuple[Range, ...] = ()
    remove_ranges: tuple[Range, ...] = ()


@dataclass(frozen=True)
class Site:
    """One watched policy page (or document spread over `pages`)."""

    name: str
    url: str
    select: str | None = None  # CSS (several selectors joined with ", ")
    remove: tuple[str, ...] = ()
    select_ranges: tuple[Range, ...] = ()
    remove_ranges: tuple[Range, ...] = ()
    pages: tuple[Page, ...] = ()  # more pages, combined after the first into one document
    schedule: str = "daily"
    notify: tuple[str, ...] | None = None  # None: every configured channel
    obey_robots: bool = True
    timeout: float = 30.0
    render: str = "http"  # "browser": rendered in headless Chromium (pages written by scripts)


@dataclass(frozen=True)
class AlertSettings:
    """`[alerts]`: which changes are alerted, after how many failed fetches, and the channel
    tables (`email`, `slack`, `apprise`) as checked, `${VAR}`s still unexpanded."""

    on: str = "major"  # major | any | categories
    categories: tuple[str, ...] = ()
    failures: int = 3
    channels: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def wants(self, major: bool | None, categories: tuple[str, ...]) -> bool:
        """Whether a change with this verdict is alerted."""
        if self.on == "any":
            return True
        if self.on == "categories":
            return bool(set(categories) & set(self.categories))
        return major is True


@dataclass(frozen=True)
class DaemonSettings:
    """`[daemon]`: the cadences and limits of `monitor run`."""

    tick: float = 1.0
    deliver_every: float = 30.0
    heartbeat_every: float = 5.0
    batch_size: int = 500
    max_crawls: int = 2
    crawl_timeout: float = 900.0
    crawl_memory_mb: int = 2048
    stop_grace: float = 5.0
    fetch_log_days: int = 30  # unchanged fetches older than this become daily counts; 0: never


@dataclass(frozen=True)
class ClassifierSettings:
    """`[classifier]`: the backend that judges changes (see monitor.classify)."""

    backend: str | None = None  # None: $MONITOR_CLASSIFIER, else the built-in default


@dataclass(frozen=True)
class ServeSettings:
    """`[serve]`: where `monitor serve` is reached, so alerts can link to a change's page."""

    base_url: str | None = None  # e.g. "https://policies.example.org", no trailing slash

    def change_url(self, site: str, to_version: int) -> str | None:
        """The web page of the change that led to version `to_version` of `site`."""
        return self.base_url + change_path(site, to_version) if self.base_url else None


def change_path(site: str, to_version: int) -> str:
    """The path of a change's page in `monitor serve` (site names are slugs: no escaping)."""
    return f"/sites/{site}/changes/{to_version}"


@dataclass(frozen=True)
class Config:
    """A loaded, checked site list."""

    path: Path
    sites: tuple[Site, ...] = ()
    alerts: AlertSettings = field(default_factory=AlertSettings)
    daemon: DaemonSettings = field(default_factory=DaemonSettings)
    classifier: ClassifierSettings = field(default_factory=ClassifierSettings)
    serve: ServeSettings = field(default_factory=ServeSettings)
    # the decoded file as checked (the daemon hands each crawl a slice of it)
    document: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def by_name(self) -> dict[str, Site]:
        return {s.name: s for s in self.sites}

    def site(self, name: str) -> Site:
        site = self.by_name.get(name)
        if site is None:
            raise ConfigError(f"no site named '{name}' (known: "
                              f"{', '.join(self.names[:20]) or 'none'})", file=str(self.path))
        return site

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
        text = path.read_text(encoding="utf-8")
        # The daemon hands each crawl its batch as JSON (a slice of the TOML it checked):
        # a crawl of 500 sites out of 100,000 reads 500.
        raw = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except FileNotFoundError:
        raise ConfigError("file not found (run `monitor init` to write an example)",
                          file=str(path)) from None
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as e:
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
    sites: dict[str, Site] = {}
    for i, entry in enumerate(entries, 1):
        site = parse_site(entry, defaults, file=file, index=i)
        if site.name in sites:
            raise ConfigError("duplicate name", file=file, site=site.name, key="name")
        sites[site.name] = site
    for key in ("alerts", "daemon", "classifier", "serve"):
        if not isinstance(raw.get(key, {}), dict):
            raise ConfigError("must be a table", file=file, key=key)
    alerts = parse_alerts(raw.get("alerts", {}), file)
    for site in sites.values():
        for name in site.notify or ():
            if name not in alerts.channels:
                raise ConfigError(f"channel '{name}' has no [alerts.{name}] table", file=file,
                                  site=site.name, key="notify")
    return Config(path=path, sites=tuple(sites.values()), alerts=alerts,
                  daemon=parse_daemon(raw.get("daemon", {}), file),
                  classifier=parse_classifier(raw.get("classifier", {}), file),
                  serve=parse_serve(raw.get("serve", {}), file), document=raw)


def parse_site(entry: Any, defaults: dict[str, Any], *, file: str, index: int) -> Site:
    if not isinstance(entry, dict):
        raise ConfigError(f"entry {index} must be a table", file=file, key="sites")
    name = entry.get("name")
    if not isinstance(name, str) or not SLUG.fullmatch(name):
        raise ConfigError("needs a slug: lower-case letters, digits, '-' or '_'",
                          file=file, site=str(name or f"#{index}"), key="name")
    unknown(entry, SITE_KEYS, file=file, site=name)
    merged = {**defaults, **entry}
    select, select_ranges = check_rules(merged.get("select"), file=file, site=name, key="select")
    remove, remove_ranges = check_rules(merged.get("remove"), file=file, site=name, key="remove")
    return Site(
        name=name,
        url=check_url(merged.get("url"), file=file, site=name),
        select=", ".join(select) if select else None, remove=tuple(remove),
        select_ranges=select_ranges, remove_ranges=remove_ranges,
        pages=check_pages(merged.get("pages", []), file=file, site=name),
        schedule=check_schedule(merged.get("schedule", "daily"), file=file, site=name),
        notify=check_strings(merged["notify"], file=file, site=name, key="notify")
        if "notify" in merged else None,
        obey_robots=check_type(merged.get("obey_robots", True), bool, file=file, site=name,
                               key="obey_robots"),
        timeout=check_timeout(merged.get("timeout", 30), file=file, site=name),
        render=check_render(merged.get("render", "http"), file=file, site=name),
    )


def unknown(table: dict[str, Any], allowed: set[str], *, file: str, site: str | None = None,
            prefix: str = "") -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(f"unknown key (allowed: {', '.join(sorted(allowed))})",
                              file=file, site=site, key=prefix + key)


def parse_alerts(raw: dict[str, Any], file: str) -> AlertSettings:
    """Check `[alerts]`: a bad key fails with the file and `alerts.x.y`."""
    unknown(raw, ALERT_KEYS, file=file, prefix="alerts.")
    categories = raw.get("categories", [])
    on = raw.get("on", "categories" if categories else "major")
    if on not in ("major", "any", "categories"):
        raise ConfigError('must be "major", "any" or "categories"', file=file, key="alerts.on")
    if (categories or on == "categories") and (
            on != "categories" or not isinstance(categories, list) or not categories
            or any(c not in CATEGORIES for c in categories)):
        raise ConfigError(f'with on = "categories", a list of: {", ".join(CATEGORIES)}',
                          file=file, key="alerts.categories")
    failures = raw.get("failures", 3)
    if isinstance(failures, bool) or not isinstance(failures, int) or failures < 1:
        raise ConfigError("must be a whole number, 1 or more", file=file, key="alerts.failures")
    channels = {name: check_channel(name, raw[name], file) for name in CHANNEL_KEYS
                if name in raw}
    return AlertSettings(on=on, categories=tuple(categories), failures=failures,
                         channels=channels)


def check_channel(name: str, table: Any, file: str) -> dict[str, Any]:
    prefix = f"alerts.{name}"
    if not isinstance(table, dict):
        raise ConfigError("must be a table", file=file, key=prefix)
    unknown(table, CHANNEL_KEYS[name] | OPTIONAL_CHANNEL_KEYS.get(name, set()), file=file,
            prefix=prefix + ".")
    for key in sorted(CHANNEL_KEYS[name]):
        value = table.get(key)
        many = key in ("to", "urls")
        if isinstance(value, str) and many:
            value = [value]
        if not (isinstance(value, str) and value) and not (
                many and isinstance(value, list) and value
                and all(isinstance(v, str) and v for v in value)):
            wanted = "a string or a list of strings" if many else "a string"
            raise ConfigError(f"missing or not {wanted}", file=file, key=f"{prefix}.{key}")
    if "allow_plaintext_login" in table and not isinstance(table["allow_plaintext_login"], bool):
        raise ConfigError("must be true or false", file=file,
                          key=f"{prefix}.allow_plaintext_login")
    for key, value in table.items():
        for i, text in enumerate(value if isinstance(value, list) else [value]):
            where = f"{prefix}.{key}" + (f"[{i}]" if isinstance(value, list) else "")
            if key in CHANNEL_URLS:
                check_secret_url(text, CHANNEL_URLS[key], file=file, key=where)
            elif key in ("from", "to"):
                check_address(text, file=file, key=where)
    return dict(table)


# Channel key -> the URL schemes it takes (None: any scheme, as Apprise URLs).
CHANNEL_URLS: dict[str, tuple[str, ...] | None] = {
    "smtp_url": ("smtp", "smtps"), "webhook_url": ("http", "https"), "urls": None}
ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expanded(value: str, quote_values: bool = False) -> str | None:
    """`value` with its `${VAR}`s taken from the environment (URL-quoted with `quote_values`),
    or None when one is not set: such a value is checked when it is sent."""
    from urllib.parse import quote

    names = ENV_REFERENCE.findall(value)
    if any(n not in os.environ for n in names):
        return None
    return ENV_REFERENCE.sub(
        lambda m: quote(os.environ[m.group(1)], safe="") if quote_values else os.environ[
            m.group(1)], value)


def check_secret_url(value: str, schemes: tuple[str, ...] | None, *, file: str,
                     key: str) -> None:
    """A channel URL, with the environment's `${VAR}` values in it (one not set yet is checked
    when the alert is sent). The message never repeats the value: it may hold a secret."""
    full = expanded(value, quote_values=key.endswith("smtp_url"))
    problem = url_problem(full, schemes) if full is not None else None
    if problem:
        raise ConfigError(problem, file=file, key=key)


def url_problem(url: str, schemes: tuple[str, ...] | None = ("http", "https")) -> str | None:
    """What is wrong with `url` (scheme, host, port, white space), or None. `schemes`: those
    allowed (None: any, as Apprise URLs have)."""
    kind = "/".join(schemes) if schemes else "scheme://"
    if URL_BAD_CHARACTER.search(url):
        return f"not a valid {kind} URL: it holds a space or a control character"
    plain = PLAIN_URL.fullmatch(url)  # the common case, at the cost of one regex
    if plain and (schemes is None or plain[1].lower() in schemes) and \
            (plain[3] is None or 0 < int(plain[3]) < 65536) and ASCII_HOST.fullmatch(plain[2]):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:  # '[::1', ':99999', ':abc'
        return f"not a valid {kind} URL: {e}"
    if "://" not in url or (schemes and parts.scheme not in schemes):
        return f"not a valid {kind} URL"
    if schemes is None:
        return None  # Apprise's own URL forms (e.g. mailto://, json://) need no host
    if port == 0:
        return f"not a valid {kind} URL: port 0"
    if not parts.hostname:
        return f"not a valid {kind} URL: no host"
    return None if host_ok(parts.hostname) else f"not a {kind} URL: bad host name"


URL_BAD_CHARACTER = re.compile(r"[\s\x00-\x1f\x7f]")
PLAIN_URL = re.compile(r"(https?)://([A-Za-z0-9._-]+)(?::([0-9]{1,5}))?(?:[/?#].*)?", re.S)
HOST_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")
ASCII_HOST = re.compile(r"(?=.{1,253}\Z)(?:(?!-)[a-z0-9_-]{1,63}(?<!-)\.)*"
                        r"(?!-)[a-z0-9_-]{1,63}(?<!-)\.?", re.I)


def host_ok(host: str) -> bool:
    """An IP address or a DNS name (international names in their IDNA form)."""
    import ipaddress

    if ASCII_HOST.fullmatch(host):  # the common case, at the cost of one regex
        return True
    try:
        ipaddress.ip_address(host.split("%")[0])
        return True
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return False
    labels = ascii_host.rstrip(".").split(".")
    return len(ascii_host) <= 253 and all(HOST_LABEL.fullmatch(label) for label in labels)


ADDRESS = re.compile(r"[^@\s<>()\[\],;:\\\"]+@[^@\s<>()\[\],;:\\\"]+")


def check_address(value: str, *, file: str, key: str) -> None:
    """An e-mail address ('a@example.org' or 'Name <a@example.org>'); one `${VAR}` not set yet
    is checked at send time. CR or LF would let a value add mail headers."""
    full = expanded(value)
    if full is not None and address_problem(full):
        raise ConfigError(address_problem(full) or "", file=file, key=key)


def address_problem(value: str) -> str | None:
    """What is wrong with an e-mail address, or None."""
    from email.utils import parseaddr

    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return "not an e-mail address: it holds a line break or a control character"
    name, address = parseaddr(value)
    if not address or not ADDRESS.fullmatch(address) or ("<" not in value and name):
        return "not an e-mail address (user@example.org or Name <user@example.org>)"
    return None


def parse_daemon(raw: dict[str, Any], file: str) -> DaemonSettings:
    """Check `[daemon]`: an unknown key or a value out of range names `daemon.<key>`."""
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in DAEMON_LIMITS:
            raise ConfigError(f"unknown key (allowed: {', '.join(sorted(DAEMON_LIMITS))})",
                              file=file, key=f"daemon.{key}")
        kind, low, high = DAEMON_LIMITS[key]
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or (kind is int and not isinstance(value, int)) or not low <= value <= high:
            raise ConfigError(f"must be {'an integer' if kind is int else 'a number'} from "
                              f"{low:g} to {high:g}", file=file, key=f"daemon.{key}")
        values[key] = kind(value)
    return DaemonSettings(**values)


def parse_classifier(raw: dict[str, Any], file: str) -> ClassifierSettings:
    """Check `[classifier]`; the backend itself is loaded (and checked) when first used."""
    unknown(raw, CLASSIFIER_KEYS, file=file, prefix="classifier.")
    backend = raw.get("backend")
    if backend is not None and (not isinstance(backend, str) or not backend):
        raise ConfigError("must be a backend name or an import path 'package.module:Class'",
                          file=file, key="classifier.backend")
    return ClassifierSettings(backend=backend)


def parse_serve(raw: dict[str, Any], file: str) -> ServeSettings:
    """Check `[serve]`: `base_url` is the http(s) address people open `monitor serve` at."""
    unknown(raw, SERVE_KEYS, file=file, prefix="serve.")
    base_url = raw.get("base_url")
    if base_url is None:
        return ServeSettings()
    parts = urlsplit(base_url) if isinstance(base_url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc \
            or parts.query or parts.fragment:
        raise ConfigError('must be an http(s) URL such as "https://policies.example.org"',
                          file=file, key="serve.base_url")
    return ServeSettings(base_url=base_url.rstrip("/"))


def check_url(url: Any, *, file: str, site: str) -> str:
    """An http(s) URL whose host and port can be fetched (a bad port would otherwise fail
    only at crawl time)."""
    if not isinstance(url, str):
        raise ConfigError("missing or not a string", file=file, site=site, key="url")
    problem = url_problem(url)
    if problem:
        raise ConfigError(f"{url!r}: {problem}", file=file, site=site, key="url")
    return url


def check_rules(value: Any, *, file: str, site: str,
                key: str) -> tuple[list[str], tuple[Range, ...]]:
    """`select` or `remove`: a CSS selector, or a list of CSS selectors and range tables
    ({start_before|start_after = CSS, end_before|end_after = CSS})."""
    if value is None:
        return [], ()
    values = value if isinstance(value, list) else [value]
    tables = [v for v in values if isinstance(v, dict)]
    css = check_selectors([v for v in values if not isinstance(v, dict)], file=file, site=site,
                          key=key) if len(tables) < len(values) else []
    return css, tuple(check_range(t, file=file, site=site, key=key) for t in tables)


def check_range(table: dict[str, Any], *, file: str, site: str, key: str) -> Range:
    unknown(table, RANGE_KEYS, file=file, site=site, prefix=f"{key}.")
    starts = [k for k in ("start_before", "start_after") if k in table]
    ends = [k for k in ("end_before", "end_after") if k in table]
    if len(starts) != 1 or len(ends) != 1:
        raise ConfigError("a range needs one of start_before/start_after and one of "
                          "end_before/end_after", file=file, site=site, key=key)
    for k in (*starts, *ends):
        check_selectors([table[k]], file=file, site=site, key=f"{key}.{k}")
    return Range(**{k: table[k] for k in (*starts, *ends)})


def check_pages(value: Any, *, file: str, site: str) -> tuple[Page, ...]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError("must be an array of tables: [[sites.pages]]", file=file, site=site,
                          key="pages")
    pages = []
    for table in value:
        unknown(table, PAGE_KEYS, file=file, site=site, prefix="pages.")
        select, select_ranges = check_rules(table.get("select"), file=file, site=site,
                                            key="pages.select")
        remove, remove_ranges = check_rules(table.get("remove"), file=file, site=site,
                                            key="pages.remove")
        pages.append(Page(url=check_url(table.get("url"), file=file, site=site),
                          select=", ".join(select) if select else None, remove=tuple(remove),
                          select_ranges=select_ranges, remove_ranges=remove_ranges))
    return tuple(pages)


def check_selectors(values: Any, *, file: str, site: str, key: str) -> list[str]:
    if isinstance(values, str):
        values = [values]
    selectors = check_strings(values, file=file, site=site, key=key)
    for selector in selectors:
        problem = selector_problem(selector)
        if problem:
            raise ConfigError(f"bad CSS selector {selector!r}: {problem}", file=file, site=site,
                              key=key)
    return list(selectors)


def selector_problem(selector: str) -> str | None:
    """What is wrong with a CSS selector, or None."""
    from monitor.extract import check_selector

    return problem(check_selector, selector)


@cache
def problem(check: Callable[[str], object], value: str) -> str | None:
    """What `check` finds wrong with `value` (its ValueError), or None; once per distinct value,
    since many sites share their selectors and schedules."""
    try:
        check(value)
    except ValueError as e:
        return str(e)
    return None


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


def check_render(value: Any, *, file: str, site: str) -> str:
    if value not in RENDERS:
        raise ConfigError('must be "http" (fetch the page) or "browser" (render it in headless '
                          'Chromium, for pages written by scripts)', file=file, site=site,
                          key="render")
    return str(value)


def check_schedule(value: Any, *, file: str, site: str) -> str:
    if not isinstance(value, str):
        raise ConfigError("must be a string", file=file, site=site, key="schedule")
    problem = schedule_problem(value)
    if problem:
        raise ConfigError(problem, file=file, site=site, key="schedule")
    return value


def schedule_problem(value: str) -> str | None:
    """What is wrong with a schedule, or None."""
    from monitor.schedule import parse_schedule

    return problem(parse_schedule, value)


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
# render = "browser"        # only for pages written by scripts: headless Chromium

# [alerts.email]
# smtp_url = "smtp://user:${SMTP_PASSWORD}@smtp.example.org:587"
# from = "policy-monitor@example.org"
# to = ["privacy-team@example.org"]
#
# [alerts.slack]
# webhook_url = "${SLACK_WEBHOOK_URL}"
"""


def site_block(name: str, url: str, select: str | None = None,
               remove: tuple[str, ...] = (), *, select_ranges: tuple[Range, ...] = (),
               remove_ranges: tuple[Range, ...] = (), pages: tuple[Page, ...] = (),
               render: str = "http") -> str:
    """A `[[sites]]` table as TOML text, appended to the file so its comments survive."""
    lines = ["", "[[sites]]", f"name = {toml_string(name)}", f"url = {toml_string(url)}"]
    lines += rule_lines(select, remove, select_ranges, remove_ranges)
    if render != "http":
        lines.append(f"render = {toml_string(render)}")
    for page in pages:
        lines += ["", "[[sites.pages]]", f"url = {toml_string(page.url)}"]
        lines += rule_lines(page.select, page.remove, page.select_ranges, page.remove_ranges)
    return "\n".join(lines) + "\n"


def rule_lines(select: str | None, remove: tuple[str, ...], select_ranges: tuple[Range, ...],
               remove_ranges: tuple[Range, ...]) -> list[str]:
    lines = []
    for key, css, ranges in (("select", [select] if select else [], select_ranges),
                             ("remove", list(remove), remove_ranges)):
        items = [toml_string(c) for c in css] + [range_table(r) for r in ranges]
        if key == "select" and len(items) == 1 and css:
            lines.append(f"select = {items[0]}")
        elif items:
            lines.append(f"{key} = [{', '.join(items)}]")
    return lines


def range_table(r: Range) -> str:
    parts = [f"{k} = {toml_string(v)}" for k, v in r.__dict__.items() if v]
    return "{ " + ", ".join(parts) + " }"


def toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
