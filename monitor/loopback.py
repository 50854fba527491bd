"""A small policy web site on 127.0.0.1, for the demo, the tests and the benchmarks.

It serves policy texts inside page chrome that changes on every request (a clock, a session
token, a rotating promo, a cookie banner), as real sites do, and can play the pages that must
never become versions: errors, slow pages, redirects home, soft 404s, emptied pages. It also
takes webhook POSTs (any path), for the demo's Slack alert.
"""

from __future__ import annotations

import functools
import hashlib
import html
import random
import re
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources

PROMOS = ["Try Premium free for 30 days!", "New: dark mode is here.",
          "Refer a friend and get a month free.", "Download our app today."]
HEADING = re.compile(
    r"^(#+\s|\d+(\.\d+)*[.、)]?\s|\([IVXivx]+\)\s|[IVX]+\.\s|[A-Z][A-Za-z ,&-]{2,60}$)")


def bundled_policy(name: str) -> str:
    """One of the sample policies bundled with the package (wemet, believe, ...)."""
    return (resources.files("monitor") / "data" / "policies" / f"{name}.txt").read_text("utf-8")


def bundled_policies() -> list[str]:
    folder = resources.files("monitor") / "data" / "policies"
    return sorted(p.name.removesuffix(".txt") for p in folder.iterdir() if p.name.endswith(".txt"))


def policy_html(text: str) -> str:
    """A plain-text policy as HTML: headings, paragraphs and lists, as a CMS would render it."""
    out: list[str] = []
    in_list = False
    for line in (ln.strip() for ln in text.splitlines()):
        if not line:
            continue
        item = line.startswith(("- ", "• ", "* "))
        if in_list and not item:
            out.append("</ul>")
            in_list = False
        if item:
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{html.escape(line[2:].strip())}</li>")
        elif len(line) < 90 and HEADING.match(line) and not line.endswith((".", ";", ",")):
            out.append(f"<h2>{html.escape(line.lstrip('# '))}</h2>")
        else:
            out.append(f"<p>{html.escape(line)}</p>")
    if in_list:
        out.append("</ul>")
    return "\n".join(out)


@functools.lru_cache(maxsize=4096)
def cached_policy_html(text: str) -> str:
    return policy_html(text)


def chrome(body_html: str, title: str = "Privacy Policy") -> str:
    """Wrap policy HTML in page chrome that differs on every call."""
    token = hashlib.sha1(str(random.random()).encode()).hexdigest()
    clock = time.strftime("%H:%M:%S")
    promo = random.choice(PROMOS)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | Example {token[:6]}</title>
<script nonce="{token}">window.__SESSION__ = "{token}"; window.__T__ = {time.time()};</script>
<style>.x{{color:red}}</style></head>
<body>
<div id="cookie-banner" class="cookie-consent">We use cookies to improve your experience.
<button>Accept all</button> <a href="/cookies?sid={token}">Settings</a></div>
<header><nav><a href="/">Home</a> <a href="/pricing">Pricing</a> <a href="/blog">Blog</a>
<span class="clock">Server time {clock}</span></nav></header>
<aside class="promo">{promo}</aside>
<main><article>
<h1>{title}</h1>
{body_html}
</article></main>
<footer><p>© 2026 Example Inc. All rights reserved. Session {token}.</p>
<form action="/newsletter"><input name="email"><button>Subscribe</button></form></footer>
</body></html>"""


@dataclass
class Page:
    """What one path serves. `text` is a policy in plain text, wrapped in changing chrome."""

    text: str | None = None
    body: bytes | None = None
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    redirect: str | None = None
    delay: float = 0.0
    validators: bool = False  # send ETag/Last-Modified and answer conditional requests with 304

    def render(self) -> bytes:
        if self.body is not None:
            return self.body
        return chrome(cached_policy_html(self.text or "")).encode("utf-8")


class Site:
    """The pages of the loopback site, by path; change them while the server runs."""

    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.robots = "User-agent: *\nAllow: /\n"
        self.hits: dict[str, int] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.posts: list[tuple[str, bytes]] = []  # what webhooks POSTed here (path, body)
        self.lock = threading.Lock()

    def __setitem__(self, path: str, page: Page) -> None:
        self.pages[path] = page

    def __getitem__(self, path: str) -> Page:
        return self.pages[path]


class Handler(BaseHTTPRequestHandler):
    server: LoopbackServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        site = self.server.site
        path = self.path.split("?")[0]
        with site.lock:
            site.hits[path] = site.hits.get(path, 0) + 1
            site.requests.append((path, dict(self.headers.items())))
        if path == "/robots.txt":
            return self.reply(200, site.robots.encode(), "text/plain")
        page = site.pages.get(path)
        if page is None:
            return self.reply(404, b"<html><body><h1>Not found</h1></body></html>", "text/html")
        if page.delay:
            time.sleep(page.delay)
        if page.redirect:
            return self.reply(page.status if 300 <= page.status < 400 else 302, b"",
                              "text/html", {"Location": page.redirect})
        body = page.render()
        headers = dict(page.headers)
        if page.validators:
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            headers.update(ETag=etag, **{"Last-Modified": formatdate(usegmt=True)})
            if self.headers.get("If-None-Match") == etag:
                return self.reply(304, b"", page.content_type, {"ETag": etag})
        self.reply(page.status, body, page.content_type, headers)

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        """A webhook receiver, for the demo's Slack alert."""
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with self.server.site.lock:
            self.server.site.posts.append((self.path, body))
        self.reply(200, b"ok", "text/plain")

    def reply(self, status: int, body: bytes, content_type: str,
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if body:
            self.wfile.write(body)


class LoopbackServer(ThreadingHTTPServer):
    """`with LoopbackServer() as server:` serves `server.site` on 127.0.0.1 in a thread."""

    daemon_threads = True
    request_queue_size = 256

    def __init__(self, site: Site | None = None) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.site = site or Site()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hung up (a crawl timing out on a slow page) is not our error."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> LoopbackServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
        self.thread.join(timeout=5)
