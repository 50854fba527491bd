"""Slack: the alert's Block Kit JSON POSTed to an incoming webhook (any URL, for testing)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from monitor.channels import Throttled
from monitor.errors import AlertError, TransientAlertError
from monitor.message import Message

TIMEOUT_S = 30.0


@dataclass(frozen=True)
class SlackChannel:
    webhook_url: str = field(repr=False)
    name: str = "slack"

    def send(self, message: Message) -> None:
        request = urllib.request.Request(
            self.webhook_url, data=json.dumps(message.slack).encode("utf-8"), method="POST",
            headers={"Content-Type": "application/json; charset=utf-8",
                     "User-Agent": "policy-monitor"})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                response.read()
        except urllib.error.HTTPError as e:
            raise http_error(e) from None
        except (urllib.error.URLError, OSError) as e:  # refused, DNS, timeout
            reason = getattr(e, "reason", e)
            raise TransientAlertError(f"webhook unreachable: {reason}") from None


def http_error(e: urllib.error.HTTPError) -> AlertError:
    """429 and 5xx: later (honouring Retry-After); any other status: never."""
    body = e.read(200).decode("utf-8", "replace").strip()
    detail = f"webhook answered HTTP {e.code}" + (f": {body}" if body else "")
    if e.code == 429:
        return Throttled(detail, retry_after(e.headers.get("Retry-After")))
    if e.code >= 500:
        return TransientAlertError(detail)
    return AlertError(detail)


def retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (Slack sends seconds; an HTTP date counts as unknown)."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
