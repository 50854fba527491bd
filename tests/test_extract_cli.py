"""`monitor extract` and the check `monitor add` runs, against real pages on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from monitor.extract_cli import USER_AGENT
from monitor.loopback import LoopbackServer, Page, bundled_policy
from tests.test_extract import amplified_pdf

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests/data/extract"
WEMET = bundled_policy("wemet")
SHELL = (b"<!doctype html><html><head><title>Privacy</title></head><body><div id='root'></div>"
         b"<noscript>You need to enable JavaScript to run this app.</noscript>"
         b"<script src='/static/js/main.js'></script></body></html>")


def test_extract_a_file_prints_what_would_be_stored(monitor):
    page = CASES / "wordpress_sticky/input.html"
    proc = monitor("extract", str(page))
    assert proc.stdout == (CASES / "wordpress_sticky/expected.md").read_text()
    assert proc.stderr == ""


def test_extract_json_says_what_was_dropped_and_why(monitor):
    out = json.loads(monitor("extract", str(CASES / "nextjs_copies/input.html"), "--json").stdout)
    assert out["kind"] == "html" and out["plausible"] and out["problem"] is None
    assert out["text"].startswith("# Privacy Policy\n\nLast updated February 12, 2025")
    assert out["words"] == len(out["text"].split())
    reasons = {d["reason"] for d in out["dropped"]}
    assert "consent manager (didomi)" in reasons
    assert "table of contents (links to this page)" in reasons
    assert "repeated copy of div.prose.prose-slate.max-w-none" in reasons
    copy = next(d for d in out["dropped"] if d["reason"].startswith("repeated copy"))
    assert copy["words"] > 50 and copy["text"].startswith("Privacy Policy Last updated")


def test_extract_with_select_and_remove(monitor):
    page = str(CASES / "drupal_annex/input.html")
    text = monitor("extract", page, "--select", ".field--name-body", "--remove", "h2").stdout
    assert text.startswith("Verantwortlich für die Verarbeitung") and "##" not in text
    assert "Vertreter in der Schweiz" not in text
    proc = monitor("extract", page, "--select", "#policy", check=1)
    assert "selector '#policy' matches nothing" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_extract_warns_when_the_text_would_not_become_a_version(monitor, tmp_path):
    (tmp_path / "shell.html").write_bytes(SHELL)
    proc = monitor("extract", str(tmp_path / "shell.html"), check=1)
    assert "no text" in proc.stderr and 'render = "browser"' in proc.stderr
    (tmp_path / "login.html").write_text("<main><h1>Sign in</h1><p>Forgot your password? "
                                         "Log in with your e-mail and password.</p></main>")
    proc = monitor("extract", str(tmp_path / "login.html"))
    assert proc.stdout.startswith("# Sign in")
    assert "warning: this would not be stored as a version (login page): the page asks to sign" \
           " in" in proc.stderr


def test_extract_a_url_fetches_it_once_politely(monitor, server):
    server.site["/privacy"] = Page(text=WEMET)
    proc = monitor("extract", f"{server.url}/privacy")
    assert proc.stdout.startswith("# Privacy Policy\n\n") and "el.zohair@gmail.com" in proc.stdout
    assert "Accept all" not in proc.stdout and "Server time" not in proc.stdout
    assert server.site.hits == {"/robots.txt": 1, "/privacy": 1}
    assert all(headers["User-Agent"] == USER_AGENT for _, headers in server.site.requests)
    assert USER_AGENT.startswith("PolicyMonitor/")


def test_extract_a_url_obeys_robots_txt(monitor, server):
    server.site["/privacy"] = Page(text=WEMET)
    server.site.robots = "User-agent: PolicyMonitor\nDisallow: /privacy\n"
    proc = monitor("extract", f"{server.url}/privacy", check=1)
    assert "robots.txt of 127.0.0.1" in proc.stderr and "disallows" in proc.stderr
    assert "/privacy" not in server.site.hits
    monitor("extract", f"{server.url}/privacy", "--ignore-robots")
    assert server.site.hits["/privacy"] == 1


def test_extract_a_url_says_why_a_fetch_failed(monitor, server):
    server.site["/gone"] = Page(status=404, body=b"<h1>Not found</h1>")
    server.site["/slow"] = Page(text=WEMET, delay=3)
    proc = monitor("extract", f"{server.url}/gone", check=1)
    assert f"{server.url}/gone answered 404" in proc.stderr
    proc = monitor("extract", f"{server.url}/slow", "--timeout", "0.5", check=1)
    assert "could not fetch" in proc.stderr and "Traceback" not in proc.stderr
    proc = monitor("extract", "no-such-file.html", check=1)
    assert "no such file, and not an http(s) URL" in proc.stderr


def test_a_redirect_into_another_local_host_is_refused(monitor, server):
    """The page's own host may be local (an intranet); a redirect to another one is not
    followed: the second server must see nothing."""
    with LoopbackServer() as internal:
        internal.site["/admin"] = Page(text=WEMET)
        port = internal.server_address[1]
        server.site["/privacy"] = Page(redirect=f"http://localhost:{port}/admin")
        proc = monitor("extract", f"{server.url}/privacy", check=1)
        assert "refused: localhost is a private or local address" in proc.stderr
        assert internal.site.hits == {}
        server.site["/moved"] = Page(redirect=f"{server.url}/privacy-v2")
        server.site["/privacy-v2"] = Page(text=WEMET)
        assert "el.zohair@gmail.com" in monitor("extract", f"{server.url}/moved").stdout


def test_extract_never_imports_scrapy(monitor):
    """`-X importtime` lists every module imported: the command must start without Scrapy."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "monitor.cli", "extract",
                           str(CASES / "structure/input.html")], capture_output=True, text=True,
                          cwd=monitor.folder, env=monitor.env(), check=True)
    imported = {line.split("|")[-1].strip().split(".")[0] for line in proc.stderr.splitlines()}
    assert "monitor" in imported
    assert not imported & {"scrapy", "twisted", "pypdf"}


# ------------------------------------------------------------------ monitor add

def test_add_fetches_the_page_once_and_adds_a_policy(monitor, server):
    server.site["/privacy"] = Page(text=WEMET)
    monitor("init")
    proc = monitor("add", "wemet", f"{server.url}/privacy")
    assert proc.stdout.startswith(f"added wemet: {server.url}/privacy (")
    assert "words: looks like a privacy policy)" in proc.stdout
    assert server.site.hits["/privacy"] == 1
    assert f'url = "{server.url}/privacy"' in monitor.config.read_text()


def test_add_refuses_a_javascript_shell_unless_forced(monitor, server):
    server.site["/privacy"] = Page(body=SHELL)
    monitor("init")
    before = monitor.config.read_text()
    proc = monitor("add", "app", f"{server.url}/privacy", check=1)
    assert monitor.config.read_text() == before
    assert f"no text at {server.url}/privacy (html)" in proc.stderr
    assert f"try `monitor extract {server.url}/privacy`" in proc.stderr
    assert "Nothing was written; add it anyway with --force." in proc.stderr
    proc = monitor("add", "app", f"{server.url}/privacy", "--force")
    assert "warning: no text" in proc.stderr and "added app:" in proc.stdout
    assert 'name = "app"' in monitor.config.read_text()


def test_add_refuses_a_selector_that_matches_nothing_or_too_little(monitor, server):
    server.site["/privacy"] = Page(text=WEMET)
    monitor("init")
    before = monitor.config.read_text()
    proc = monitor("add", "wemet", f"{server.url}/privacy", "--select", "#policy", check=1)
    assert "the selector '#policy' matches nothing" in proc.stderr
    assert f"try `monitor extract {server.url}/privacy --select '#policy'`" in proc.stderr
    proc = monitor("add", "wemet", f"{server.url}/privacy", "--select", "h1", check=1)
    assert "the text shrank from" in proc.stderr and "to 2 words (" in proc.stderr
    assert monitor.config.read_text() == before


def test_add_refuses_a_page_that_cannot_be_fetched(monitor, server):
    server.site["/error"] = Page(status=500, body=b"oops")
    monitor("init")
    before = monitor.config.read_text()
    proc = monitor("add", "down", f"{server.url}/error", check=1)
    assert f"{server.url}/error answered 500" in proc.stderr
    assert monitor.config.read_text() == before


# ------------------------------------------------------------------ a crawl records it as suspect

def test_a_pdf_bomb_is_recorded_as_suspect_with_a_reason(monitor, server):
    server.site["/policy.pdf"] = Page(body=amplified_pdf(1500), content_type="application/pdf")
    monitor.sites(("bomb", f"{server.url}/policy.pdf"))
    proc = monitor.crawl(check=3)
    assert "bomb: suspect: PDF text too long" in proc.stderr
    assert "1 suspect" in proc.stdout


def test_every_refusal_comes_with_advice():
    from monitor.plausibility import advice

    url = "https://example.org/privacy"
    assert advice("javascript shell", url) == (
        'the page may need JavaScript (render = "browser") or a selector; '
        "try `monitor extract https://example.org/privacy`")
    assert "--select 'main'`" in advice("too little text: 12 words", url, "main")
    assert "check the URL in a browser" in advice("error page", url)
    assert "sign in" in advice("login page", url)
    assert "does not read like a privacy policy" in advice("no privacy-policy vocabulary", url)
