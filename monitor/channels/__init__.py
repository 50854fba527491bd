"""Alert channels: where a rendered alert goes. Each `send`s one `Message` or raises.

    email      smtplib + EmailMessage: STARTTLS when offered (smtp://), TLS (smtps://)
    slack      Block Kit JSON POSTed to an incoming webhook
    apprise    every other service, one Apprise URL a channel (apprise is imported when used)

A channel raises `TransientAlertError` when a later try may work (refused, timeout, SMTP 4xx,
HTTP 5xx, `Throttled` for 429) and `AlertError` when it will not. Settings hold `${VAR}`
references, expanded here at send time, so secrets live in the environment only; `redact`
takes them back out of any error text before it is stored or printed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote, urlsplit

from monitor.errors import AlertError, TransientAlertError

if TYPE_CHECKING:
    from monitor.message import Message

ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


class Throttled(TransientAlertError):
    """The channel asked us to come back later (HTTP 429 with Retry-After)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Channel(Protocol):
    @property
    def name(self) -> str: ...

    def send(self, message: Message) -> None: ...


def expand(value: str, escape: Callable[[str], str] | None = None) -> str:
    """`value` with every `${VAR}` replaced by the environment's value (passed through
    `escape` first: inside a URL, a password holding '@' or '/' must stay one password)."""
    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            # transient: the daemon's or the next cron run's environment may have it
            raise TransientAlertError(f"environment variable {name} is not set")
        return escape(os.environ[name]) if escape else os.environ[name]

    return ENV.sub(lookup, value)


def apprise_channel(url: str) -> str:
    """A stable name for one Apprise URL: its scheme and a short hash (never its secrets)."""
    scheme = url.split("://", 1)[0] if "://" in url else "url"
    return f"apprise:{scheme}:{hashlib.sha256(url.encode()).hexdigest()[:8]}"


def channel_names(alerts: Mapping[str, Any]) -> list[str]:
    """Every channel the `[alerts]` table configures, in a fixed order."""
    names: list[str] = [n for n in ("email", "slack") if n in alerts]
    names += [apprise_channel(u) for u in urls(alerts.get("apprise", {}).get("urls", []))]
    return names


def urls(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def open_channel(name: str, alerts: Mapping[str, Any]) -> Channel:
    """The channel called `name` in the (already checked) `[alerts]` table."""
    if name == "email" and "email" in alerts:
        from monitor.channels.email import EmailChannel

        return EmailChannel.from_settings(alerts["email"])
    if name == "slack" and "slack" in alerts:
        from monitor.channels.slack import SlackChannel

        return SlackChannel(checked(expand(alerts["slack"]["webhook_url"]), ("http", "https")))
    for url in urls(alerts.get("apprise", {}).get("urls", [])):
        if apprise_channel(url) == name:
            from monitor.channels.apprise import AppriseChannel

            return AppriseChannel(name, checked(expand(url), None))
    raise AlertError(f"channel '{name}' is no longer configured")


def checked(url: str, schemes: tuple[str, ...] | None) -> str:
    """`url`, once expanded, when it is one; else refused for good (the configuration must
    change: retrying for a day would not help). The message never repeats the URL."""
    from monitor.config import url_problem

    problem = url_problem(url, schemes)
    if problem:
        raise AlertError(problem)
    return url


def secrets(alerts: Mapping[str, Any]) -> list[str]:
    """Everything in the alert settings that must never be shown: env values, credentials,
    webhook URLs and their paths."""
    found: list[str] = []
    for value in strings(alerts):
        for name in ENV.findall(value):
            found.append(os.environ.get(name, ""))
        try:
            full = expand(value)
        except TransientAlertError:
            continue
        if "://" not in full:
            continue
        parts = urlsplit(full)
        found += [full, full.split("://", 1)[1], parts.path, parts.password or "",
                  unquote(parts.password or "")]
    return sorted({s for s in found if len(s) >= 4}, key=len, reverse=True)


def strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def redact(text: str, hidden: Iterable[str]) -> str:
    """`text` with every secret, and the user:password part of any URL, replaced by ***."""
    for secret in hidden:
        text = text.replace(secret, "***")
    return USERINFO.sub("***@", text)


# --- logs: no secret in any line, tracebacks included ---

def config_secrets(config_path: str | Path) -> list[str]:
    """The secrets of the `[alerts]` table of the site list at `config_path`, as written there
    (read raw, unchecked: a broken file still has its secrets hidden), and their JSON-escaped
    forms (a JSON log line escapes quotes and backslashes)."""
    import tomllib

    try:
        raw = tomllib.loads(Path(config_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    alerts = raw.get("alerts")
    found = secrets(alerts) if isinstance(alerts, dict) else []
    escaped = {json.dumps(s)[1:-1] for s in found} | {json.dumps(s, ensure_ascii=False)[1:-1]
                                                       for s in found}
    return sorted(set(found) | escaped, key=len, reverse=True)


class SecretFilter(logging.Filter):
    """Takes every configured secret (SMTP password, webhook and Apprise URLs, the values of
    their `${VAR}`s) out of a log record: its message and arguments, its traceback, and the
    `fields` of a daemon event. The secrets are read from the site list when the first line is
    logged, and again when the file changed (a SIGHUP reload)."""

    def __init__(self, config_path: str | Path) -> None:
        super().__init__()
        self.config_path = Path(config_path)
        self.seen: tuple[float, int] | None = None
        self.hidden: list[str] = []

    def secrets(self) -> list[str]:
        try:
            stat = self.config_path.stat()
            version: tuple[float, int] | None = (stat.st_mtime, stat.st_size)
        except OSError:
            version = None
        if version != self.seen:
            self.seen, self.hidden = version, config_secrets(self.config_path)
        return self.hidden

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            self.redact(record)
        except Exception:  # a record that cannot be formatted: logging reports it, not us
            pass
        return True

    def redact(self, record: logging.LogRecord) -> None:
        hidden = self.secrets()
        if record.args or hidden:
            record.msg, record.args = redact(record.getMessage(), hidden), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text, record.exc_info = redact(record.exc_text, hidden), None
        if record.stack_info:
            record.stack_info = redact(record.stack_info, hidden)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            record.fields = {k: redact(v, hidden) if isinstance(v, str) else v
                             for k, v in fields.items()}


def hide_secrets_in_logs(config_path: str | Path) -> SecretFilter:
    """Redact every line logged from now on in this process, whichever handler prints it
    (ours, Scrapy's root handler installed later, or logging's last resort): the filter runs
    as each record is made. Installed by the CLI and the daemon."""
    secret_filter = SecretFilter(config_path)
    make = logging.getLogRecordFactory()
    if getattr(make, "secret_filter", None) is not None:  # installed before: point it here
        make.secret_filter = secret_filter  # type: ignore[attr-defined]
        return secret_filter

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        factory.secret_filter.filter(record)  # type: ignore[attr-defined]
        return record

    factory.secret_filter = secret_filter  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
    return secret_filter
