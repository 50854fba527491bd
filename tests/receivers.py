"""A real webhook receiver on 127.0.0.1, for Slack and Apprise alerts (test_alerts, test_daemon)."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Reply = tuple[int, dict[str, str]]  # HTTP status and headers


class Hook(BaseHTTPRequestHandler):
    server: Receiver

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.server.on_post is not None:
            self.server.on_post(self.path, body)
        with self.server.lock:
            status, headers = self.server.replies.pop(0) if self.server.replies else (200, {})
            self.server.posts.append((self.path, dict(self.headers.items()), body, status))
        payload = b"ok" if status == 200 else b"try later"
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class Receiver(ThreadingHTTPServer):
    """A webhook receiver on 127.0.0.1 answering `replies` in order, then 200. `on_post(path,
    body)` runs in the request's thread before the reply: a slow channel, or a look at the
    sender's state while it waits for the answer."""

    daemon_threads = True

    def __init__(self, replies: list[Reply] | None = None,
                 on_post: Callable[[str, bytes], None] | None = None) -> None:
        super().__init__(("127.0.0.1", 0), Hook)
        self.replies = list(replies or [])
        self.on_post = on_post
        self.posts: list[tuple[str, dict[str, str], bytes, int]] = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def delivered(self) -> list[dict]:
        """The JSON bodies of the posts answered 200."""
        with self.lock:
            return [json.loads(body) for _, _, body, status in self.posts if status == 200]

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self.thread.join(timeout=5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        self.messages.append(email.message_from_bytes(envelope.content,
                                                      policy=email.policy.default))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"
