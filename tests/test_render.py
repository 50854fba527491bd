"""Pages written by scripts: `render = "browser"` renders them in the system's headless Chromium.

Chromium comes from Debian's `chromium` package (`.ci/run` installs it); without it, these tests
are skipped on a developer's machine and fail in CI.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from monitor.loopback import Page, bundled_policy, policy_html
from tests.conftest import FAST

if not (os.environ.get("MONITOR_CHROMIUM") or shutil.which("chromium")) and not os.environ.get(
        "CI"):
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)

WEMET = bundled_policy("wemet")


def scripted(text: str) -> bytes:
    """A page whose body is empty until its script writes the policy in (as a JS app does)."""
    html = policy_html(text)
    return ("<!doctype html><html><head><title>Privacy</title></head><body>"
            "<div id=app>Loading…</div><script>setTimeout(function () {"
            f"document.getElementById('app').innerHTML = {json.dumps(html)};"
            "}, 50);</script></body></html>").encode()


def test_a_page_written_by_a_script_becomes_a_version_only_when_rendered(server, monitor):
    server.site["/js"] = Page(body=scripted(WEMET))
    monitor.sites(("plain", f"{server.url}/js"))
    fetched = monitor.crawl(check=3)  # fetched as is: a script and "Loading…", no policy
    assert "suspect" in fetched.stdout
    assert monitor.history("plain") == []

    monitor.sites(("plain", f"{server.url}/js"), ("app", f"{server.url}/js"))
    monitor.config.write_text(monitor.config.read_text().replace(
        'name = "app"', 'name = "app"\nrender = "browser"\ntimeout = 20'))
    monitor.crawl("app")
    shown = monitor("show", "app").stdout
    assert "Wemet" in shown and "Loading" not in shown and len(shown) > 5000

    edited = WEMET + "\nWe may share your location with data brokers for advertising.\n"
    server.site["/js"] = Page(body=scripted(edited))
    changed = monitor.crawl("app")
    said = changed.stdout + changed.stderr
    assert "MAJOR" in said and "Data recipients" in said
    assert [e["version"] for e in monitor.history("app")] == [1, 2]


def test_render_is_checked_at_load(monitor):
    monitor.sites(("app", "https://example.org/privacy"))
    monitor.config.write_text(monitor.config.read_text() + 'render = "chrome"\n')
    bad = monitor("sites", check=2)
    assert "site 'app'" in bad.stderr and "key 'render'" in bad.stderr


def test_crawls_without_a_rendered_site_never_start_a_browser(server, monitor):
    server.site["/p"] = Page(text=WEMET)
    monitor.sites(("wemet", f"{server.url}/p"))
    out = monitor("crawl", *FAST, env={"MONITOR_CHROMIUM": "/nonexistent/chromium"})
    assert "1 new" in out.stdout
