"""A static web server of generated policy pages on loopback addresses, for the throughput benches.

    python bench/static_site.py DIR --hosts 1 [--no-validators] [--seconds 900]

Serves DIR's files (`/s<i>/privacy.html`, written by `write_pages`) on 127.0.0.1 and, with
`--hosts N`, on 127.0.0.2 ... 127.0.0.N as well (all loopback; each its own socket), one port for
all. Like nginx serving files: `ETag` and `Last-Modified` from the file, 304 to a conditional
request that matches (`--no-validators`: neither, as a dynamic page would). It prints its port on
its first line, runs in its own process (so its CPU is not the client's) and stops by itself after
`--seconds`. `/__stats` tells the most requests any one host answered at once, and the most
hosts busy at once (for the politeness bench); `--latency` makes each answer wait.
"""

from __future__ import annotations

import argparse
import html
import os
import random
import sys
import threading
import time
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def page(i: int, texts: list[str]) -> str:
    """Policy page number `i`: about 46 KB of HTML around about 30 KB of distinct policy text,
    inside static chrome (navigation, a cookie banner, inline styles and scripts, a footer)."""
    from monitor.loopback import policy_html

    rng = random.Random(i)
    base = texts[i % len(texts)]
    text = f"Privacy Policy of Service {i}\n\nThis policy applies to service number {i}.\n\n" + base
    while len(text) < 28_000:
        text += "\n\n" + texts[(i + 1 + len(text)) % len(texts)][:6000]
    menu = "".join(f'<li><a href="/p/{rng.randrange(10**6)}">Menu entry {k}</a></li>'
                   for k in range(120))
    style = "".join(f".c{k}{{margin:{k % 7}px;color:#{rng.randrange(16**6):06x}}}"
                    for k in range(160))
    script = "var cfg = {" + ",".join(f'"k{k}": {rng.random()}' for k in range(160)) + "};"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Privacy Policy | Service {i}</title>
<style>{style}</style><script>{script}</script></head>
<body><div id="cookie-banner" class="cookie-consent">We use cookies.
<button>Accept all</button></div>
<header><nav><ul>{menu}</ul></nav></header>
<main><article><h1>Privacy Policy</h1>
{policy_html(text)}
</article></main>
<footer><p>{html.escape(f"© 2026 Service {i} Inc.")} All rights reserved.</p></footer>
</body></html>"""


def write_pages(folder: Path, count: int) -> int:
    """Write `count` pages under `folder`; return their mean size in bytes."""
    from monitor.loopback import bundled_policies, bundled_policy

    texts = [bundled_policy(n) for n in bundled_policies()]
    total = 0
    for i in range(count):
        path = folder / f"s{i}" / "privacy.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        data = page(i, texts).encode("utf-8")
        path.write_bytes(data)
        total += len(data)
    (folder / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    return total // max(count, 1)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    folder: Path
    validators = True
    latency = 0.0
    cache: dict[str, tuple[bytes, str, str, float]] = {}
    lock = threading.Lock()
    in_flight: dict[str, int] = {}  # host address -> requests being answered now
    most: dict[str, int] = {}  # host address -> most requests it answered at once
    hosts_busy = 0
    most_hosts_busy = 0
    served = 0

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/__stats":
            import json

            with self.lock:
                stats = {"most_at_once_per_host": max(self.most.values(), default=0),
                         "hosts": len(self.most), "most_hosts_at_once": self.most_hosts_busy,
                         "requests": Handler.served}
            return self.reply(200, json.dumps(stats).encode(), "application/json", {})
        host = self.server.server_address[0]
        with self.lock:
            count = self.in_flight[host] = self.in_flight.get(host, 0) + 1
            self.most[host] = max(self.most.get(host, 0), count)
            if count == 1:
                Handler.hosts_busy += 1
                Handler.most_hosts_busy = max(Handler.most_hosts_busy, Handler.hosts_busy)
            Handler.served += 1
        try:
            if self.latency:
                time.sleep(self.latency)
            self.answer()
        finally:
            with self.lock:
                self.in_flight[host] -= 1
                if not self.in_flight[host]:
                    Handler.hosts_busy -= 1

    def answer(self) -> None:
        path = self.path.split("?")[0]
        entry = self.cache.get(path)
        if entry is None and self.generate:
            entry = self.generated(path)
            if entry is None:
                return self.reply(404, b"not found", "text/plain", {})
        if entry is None:
            file = (self.folder / path.lstrip("/")).resolve()
            if not file.is_relative_to(self.folder) or not file.is_file():
                return self.reply(404, b"not found", "text/plain", {})
            stat = file.stat()
            entry = (file.read_bytes(), f'"{int(stat.st_mtime):x}-{stat.st_size:x}"',
                     formatdate(stat.st_mtime, usegmt=True), stat.st_mtime)
            self.cache[path] = entry
        body, etag, modified, mtime = entry
        kind = "text/plain" if path.endswith(".txt") else "text/html; charset=utf-8"
        if not self.validators:
            return self.reply(200, body, kind, {})
        headers = {"ETag": etag, "Last-Modified": modified}
        if self.headers.get("If-None-Match") == etag or not_modified_since(
                self.headers.get("If-Modified-Since"), mtime):
            return self.reply(304, b"", kind, headers)
        self.reply(200, body, kind, headers)

    generate = 0  # serve /s<i>/privacy.html for i < generate, made on request, not from files
    texts: list[str] = []
    born = time.time()

    def generated(self, path: str) -> tuple[bytes, str, str, float] | None:
        if path == "/robots.txt":
            return (b"User-agent: *\nAllow: /\n", '"robots"', formatdate(self.born, usegmt=True),
                    self.born)
        parts = path.strip("/").split("/")
        if len(parts) != 2 or not parts[0][1:].isdigit() or int(parts[0][1:]) >= self.generate:
            return None
        i = int(parts[0][1:])
        return (page(i, self.texts).encode("utf-8"), f'"g{i:x}"',
                formatdate(self.born, usegmt=True), self.born)

    def reply(self, status: int, body: bytes, kind: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if body:
            self.wfile.write(body)


def not_modified_since(header: str | None, mtime: float) -> bool:
    if not header:
        return False
    try:
        return int(mtime) <= parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError):
        return False


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def handle_error(self, request: object, client_address: object) -> None:
        pass


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("folder", type=Path)
    ap.add_argument("--hosts", type=int, default=1)
    ap.add_argument("--no-validators", action="store_true")
    ap.add_argument("--seconds", type=float, default=900)
    ap.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    ap.add_argument("--generate", type=int, default=0,
                    help="make pages /s0 ... /s<N-1> on request instead of reading files")
    a = ap.parse_args()
    if a.generate:
        from monitor.loopback import bundled_policies, bundled_policy

        Handler.generate = a.generate
        Handler.texts = [bundled_policy(n) for n in bundled_policies()]
    Handler.folder = a.folder.resolve()
    Handler.validators = not a.no_validators
    Handler.latency = a.latency
    first = Server(("127.0.0.1", 0), Handler)
    port = first.server_address[1]
    servers = [first] + [Server((f"127.0.0.{n}", port), Handler) for n in range(2, a.hosts + 1)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print(port, flush=True)
    deadline = time.monotonic() + a.seconds
    while time.monotonic() < deadline and os.getppid() != 1:  # gone with the bench, at worst
        time.sleep(0.5)


if __name__ == "__main__":
    main()
