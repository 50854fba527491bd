"""E-mail through SMTP: smtp:// upgrades with STARTTLS when the server offers it, smtps:// is
TLS from the first byte; login when the URL has a user.

Each message carries a Message-ID derived from the alert's key, so should a crash between
sending and recording make us send it again, mail clients show it once.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from monitor.channels import expand, urls
from monitor.errors import AlertError, TransientAlertError
from monitor.message import Message

TIMEOUT_S = 30.0


@dataclass(frozen=True)
class EmailChannel:
    host: str
    port: int
    tls: bool  # smtps://: TLS from the start
    user: str | None
    password: str | None
    sender: str
    recipients: tuple[str, ...]
    name: str = "email"

    @classmethod
    def from_settings(cls, table: dict[str, Any]) -> EmailChannel:
        parts = urlsplit(expand(table["smtp_url"], escape=lambda v: quote(v, safe="")))
        tls = parts.scheme == "smtps"
        return cls(host=parts.hostname or "localhost", port=parts.port or (465 if tls else 25),
                   tls=tls, user=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None,
                   sender=expand(table["from"]),
                   recipients=tuple(expand(t) for t in urls(table["to"])))

    def send(self, message: Message) -> None:
        mail = self.compose(message)
        try:
            with self.connect() as smtp:
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(mail)
        except smtplib.SMTPResponseException as e:
            raise refused(e.smtp_code, e.smtp_error) from None
        except smtplib.SMTPRecipientsRefused as e:
            code, text = next(iter(e.recipients.values()))
            raise refused(code, text) from None
        except (OSError, smtplib.SMTPException) as e:  # refused, timeout, disconnected, TLS
            raise TransientAlertError(f"SMTP {self.host}:{self.port}: {e or type(e).__name__}"
                                      ) from None

    def connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.tls:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=TIMEOUT_S, context=context)
        smtp = smtplib.SMTP(self.host, self.port, timeout=TIMEOUT_S)
        try:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
        except BaseException:
            smtp.close()
            raise
        return smtp

    def compose(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["Subject"] = message.subject
        mail["From"] = self.sender
        mail["To"] = ", ".join(self.recipients)
        mail["Date"] = formatdate(localtime=False, usegmt=True)
        mail["Message-ID"] = message_id(message.key, self.sender)
        mail.set_content(message.text)
        mail.add_alternative(message.html, subtype="html")
        return mail


def message_id(key: str, sender: str) -> str:
    """The same alert always gets the same Message-ID."""
    domain = sender.rpartition("@")[2].strip(" >") or "policy-monitor.invalid"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}.alert@{domain}>"


def refused(code: int, text: bytes | str) -> AlertError:
    """SMTP 4xx: try again later; 5xx: the server will not take it."""
    detail = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    kind = TransientAlertError if 400 <= code < 500 else AlertError
    return kind(f"SMTP {code}: {detail}")

