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
import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from monitor.errors import AlertError, TransientAlertError
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

        return SlackChannel(expand(alerts["slack"]["webhook_url"]))
    for url in urls(alerts.get("apprise", {}).get("urls", [])):
        if apprise_channel(url) == name:
            from monitor.channels.apprise import AppriseChannel

            return AppriseChannel(name, expand(url))
    raise AlertError(f"channel '{name}' is no longer configured")


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
