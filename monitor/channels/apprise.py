"""Every other service (Discord, Teams, Telegram, ntfy, ...) through one Apprise URL.

Apprise is imported here only, when such an alert is sent: it is slow to import. Apprise does
not say why a notification failed, only that it did, so every failure counts as transient
(retried with backoff); the reason it logged is kept as the error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor.errors import AlertError, TransientAlertError
from monitor.message import Message


@dataclass(frozen=True)
class AppriseChannel:
    name: str
    url: str = field(repr=False)

    def send(self, message: Message) -> None:
        import apprise

        client = apprise.Apprise()
        if not client.add(self.url):
            raise AlertError(f"{self.name}: not a URL Apprise knows")
        with apprise.LogCapture(level=apprise.logging.WARNING) as log:
            ok = client.notify(title=message.subject, body=message.text,
                               body_format=apprise.NotifyFormat.TEXT)
            reason = log.getvalue().strip().splitlines()
        if not ok:
            raise TransientAlertError(f"{self.name}: " + (reason[-1] if reason else
                                                          "the service did not accept it"))
