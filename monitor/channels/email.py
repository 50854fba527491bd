"""E-mail through SMTP: smtp:// upgrades with STARTTLS when the server offers it, smtps:// is
TLS from the first byte; login when the URL has a user, and only over TLS: a password is never
sent in clear text unless `allow_plaintext_login = true` says so.

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
from monitor.config import address_problem, url_problem
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
    allow_plaintext_login: bool = False  # log in without TLS (the password in clear text)

    @classmethod
    def from_settings(cls, table: dict[str, Any]) -> EmailChannel:
        """The channel of an `[alerts.email]` table, its `${VAR}`s expanded now: a value that
        is not a URL or an address then is refused for good (AlertError), never retried."""
        url = expand(table["smtp_url"], escape=lambda v: quote(v, safe=""))
        problem = url_problem(url, ("smtp", "smtps"))
        if problem:  # the URL itself may hold the password: never repeat it
            raise AlertError(f"smtp_url: {problem}")
        addresses = [expand(table["from"]), *(expand(t) for t in urls(table["to"]))]
        for address in addresses:
            if address_problem(address):
                raise AlertError(f"from/to: {address_problem(address)}")
        parts = urlsplit(url)
        tls = parts.scheme == "smtps"
        return cls(host=parts.hostname or "localhost", port=parts.port or (465 if tls else 25),
                   tls=tls, user=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None,
                   sender=addresses[0], recipients=tuple(addresses[1:]),
                   allow_plaintext_login=table.get("allow_plaintext_login", False))

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
            elif self.user and not self.allow_plaintext_login:
                # transient: a network that strips STARTTLS may let it through later
                raise TransientAlertError(
                    f"SMTP {self.host}:{self.port} offers no STARTTLS: the password is not sent "
                    "in clear text (use smtps://, or set allow_plaintext_login = true)")
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

