"""E-mail alerts over TLS, end to end: the real `monitor alerts test email` in a subprocess
against a real aiosmtpd server on 127.0.0.1 with a self-signed certificate made here. The
client trusts it only through SSL_CERT_FILE, which Python's default SSL context honours."""

from __future__ import annotations

import ipaddress
import sqlite3
import ssl
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.receivers import Inbox, free_port

pytestmark = [pytest.mark.timeout(60),
              pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")]

PASSWORD = "s3cret-tls-only"  # noqa: S105 (a test password)


def make_cert(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for IP 127.0.0.1 and DNS localhost, valid now: (cert, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"policy-monitor {name}")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / f"{name}.pem", folder / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    folder = tmp_path_factory.mktemp("pki")
    return {name: make_cert(folder, name) for name in ("server", "stranger")}


class TLSInbox(Inbox):
    """Keeps each message, and whether the connection it came over was TLS."""

    def __init__(self) -> None:
        super().__init__()
        self.tls: list[str | None] = []  # the TLS version of each delivery, None when plain
        self.logins: list[tuple[bytes, bool]] = []  # (user, was the connection TLS then)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        ssl_object = server.transport.get_extra_info("ssl_object")
        self.tls.append(ssl_object.version() if ssl_object else None)
        return await super().handle_DATA(server, session, envelope)

    def check(self, server, session, envelope, mechanism, data) -> AuthResult:
        self.logins.append((data.login, server.transport.get_extra_info("ssl_object") is not None))
        return AuthResult(success=data.login == b"alerts" and data.password == PASSWORD.encode())


def serve(mode: str, cert: tuple[Path, Path]) -> tuple[Controller, TLSInbox]:
    """An unstarted server: "starttls" offers and requires STARTTLS (and AUTH after it),
    "smtps" is TLS from the first byte (aiosmtpd counts only STARTTLS as TLS for AUTH, hence
    auth_require_tls=False there; TLSInbox.check records that the login did come over TLS)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*cert)
    inbox = TLSInbox()
    tls = ({"tls_context": context, "require_starttls": True, "auth_require_tls": True}
           if mode == "starttls" else {"ssl_context": context, "auth_require_tls": False})
    return Controller(inbox, hostname="127.0.0.1", port=free_port(), ready_timeout=5,
                      authenticator=inbox.check, auth_required=True,
                      timeout=10, **tls), inbox


def alerts_test(monitor, port: int, mode: str, trusted: Path) -> subprocess.CompletedProcess:
    """`monitor alerts test email` with `trusted` as the only CA file the client knows."""
    scheme = "smtps" if mode == "smtps" else "smtp"
    monitor.config.write_text(
        '[[sites]]\nname = "wemet"\nurl = "https://wemet.example/privacy"\n\n'
        f'[alerts.email]\nsmtp_url = "{scheme}://alerts:${{SMTP_PASSWORD}}@127.0.0.1:{port}"\n'
        'from = "policy-monitor@example.org"\nto = ["privacy-team@example.org"]\n')
    env = {**monitor.env(), "SSL_CERT_FILE": str(trusted), "SMTP_PASSWORD": PASSWORD}
    env.pop("SSL_CERT_DIR", None)
    return subprocess.run([sys.executable, "-m", "monitor.cli", "--config", str(monitor.config),
                           "--db", str(monitor.db), "alerts", "test", "email"],
                          cwd=monitor.folder, env=env, capture_output=True, text=True, timeout=30)


def send_test(monitor, certs, mode: str, trusted: str):
    """Serve TLS SMTP with the server's certificate; send a test mail trusting `trusted`."""
    controller, inbox = serve(mode, certs["server"])
    controller.start()
    try:
        return alerts_test(monitor, controller.port, mode, trusted=certs[trusted][0]), inbox
    finally:
        controller.stop()


@pytest.mark.parametrize("mode", ["starttls", "smtps"])
def test_email_is_delivered_over_tls_with_login_only_after_tls(monitor, certs, mode):
    proc, inbox = send_test(monitor, certs, mode, trusted="server")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "email: test sent" in proc.stdout
    [mail] = inbox.messages
    assert mail["Subject"] == "[policy monitor] test message"
    assert inbox.envelopes == [("policy-monitor@example.org", ["privacy-team@example.org"])]
    assert inbox.tls and inbox.tls[0] in ("TLSv1.2", "TLSv1.3")
    assert inbox.logins == [(b"alerts", True)]  # the password went over TLS, once


@pytest.mark.parametrize("mode", ["starttls", "smtps"])
def test_untrusted_certificate_is_refused_and_nothing_is_sent(monitor, certs, mode):
    proc, inbox = send_test(monitor, certs, mode, trusted="stranger")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "email: test failed" in proc.stderr  # test messages are tried once
    assert "CERTIFICATE_VERIFY_FAILED" in proc.stderr and "self-signed" in proc.stderr
    assert inbox.messages == [] and inbox.logins == []
    assert PASSWORD not in proc.stdout + proc.stderr
    with sqlite3.connect(monitor.db) as conn:
        [(state, error)] = conn.execute("select state, last_error from alerts").fetchall()
    assert state == "failed" and "CERTIFICATE_VERIFY_FAILED" in error and PASSWORD not in error


def test_a_password_with_url_characters_stays_one_password(monkeypatch):
    from monitor.channels.email import EmailChannel

    monkeypatch.setenv("SMTP_PASSWORD", "p@ss/word#1?x")
    channel = EmailChannel.from_settings({"smtp_url": "smtp://alerts:${SMTP_PASSWORD}@mail.example"
                                                      ".org:587", "from": "a@x.org",
                                          "to": ["b@x.org"]})
    assert (channel.host, channel.port, channel.user, channel.password) == \
        ("mail.example.org", 587, "alerts", "p@ss/word#1?x")
