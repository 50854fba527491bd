"""The web view (`monitor serve`): real datasette on 127.0.0.1 over a real SQLite file filled by
the real `track`; pages read as a person would (and in headless Chromium), Atom feeds parsed by
feedparser, nothing written, nothing secret shown."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest

from monitor import config as siteconfig
from monitor.alerts import alerting_for
from monitor.errors import ConfigError
from monitor.loopback import bundled_policy, chrome, policy_html
from monitor.store import Store
from monitor.track import Fetched, track

pytestmark = pytest.mark.timeout(60)

WEMET = bundled_policy("wemet")
BELIEVE = bundled_policy("believe")
SHARE = ("We share your personal information with advertising partners and data brokers "
         "<script>alert(1)</script>.")
SECRET = "hunter2-never-shown"
CHROMIUM = os.environ.get("MONITOR_CHROMIUM", "/usr/bin/chromium")


def edited(text: str, sentence: str) -> str:
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if "share" in line.lower())
    return "\n".join([*lines[:at + 1], sentence, *lines[at + 1:]]) + "\n"


def new_contact(text: str) -> str:
    emails = sorted(set(re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", text)))
    for old in emails:
        text = text.replace(old, "privacy-requests@wemet-group.example")
    return text


SITES = f"""
[alerts.slack]
webhook_url = "http://127.0.0.1:9/hooks/{SECRET}"

[serve]
base_url = "https://policies.example.org/"

[[sites]]
name = "wemet"
url = "https://wemet.example/privacy"

[[sites]]
name = "believe"
url = "https://believe.example/privacy"
"""


def fetch(store: Store, config: siteconfig.Config, site: str, text: str | None, at: str,
          error: str | None = None):
    body = chrome(policy_html(text)).encode() if text else b""
    fetched = Fetched(site=site, url=config.site(site).url, at=at,
                      status=None if error else 200, body=body,
                      content_type="text/html; charset=utf-8", error=error)
    return track(store, config.site(site), fetched, alerting_for(config))


def history(folder: Path) -> tuple[Path, siteconfig.Config]:
    """A database with history, made by the real `track`: wemet gets versions 1 (Jan 1), a
    failed fetch (Jan 5), version 2 (Jan 8: data brokers, with markup in the sentence) and
    version 3 (Jan 15: a new contact e-mail); believe has version 1."""
    (folder / "sites.toml").write_text(SITES)
    config = siteconfig.load(folder / "sites.toml")
    db = folder / "monitor.db"
    store = Store(db)
    store.sync_sites([(s.name, s.url) for s in config.sites])
    second = edited(WEMET, SHARE)
    fetch(store, config, "wemet", WEMET, "2026-01-01T10:00:00.000Z")
    fetch(store, config, "believe", BELIEVE, "2026-01-02T10:00:00.000Z")
    fetch(store, config, "wemet", None, "2026-01-05T10:00:00.000Z",
          error="connection refused by wemet.example")
    assert fetch(store, config, "wemet", second, "2026-01-08T10:00:00.000Z").change.major
    assert fetch(store, config, "wemet", new_contact(second),
                 "2026-01-15T10:00:00.000Z").change.major
    store.close()
    return db, config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """`make_app` under uvicorn in a thread on 127.0.0.1, stopped by the test."""

    def __init__(self, db: Path, base_url: str | None = None) -> None:
        import uvicorn

        from monitor.web import make_app

        app = make_app(db, base_url=base_url)
        asyncio.run(app.invoke_startup())
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app.app(), host="127.0.0.1", port=self.port,
                                                    log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def get(self, path: str, status: int = 200) -> str:
        try:
            with urllib.request.urlopen(self.url + path, timeout=10) as response:
                assert response.status == status, path
                return response.read().decode("utf-8")
        except urllib.error.HTTPError as e:
            assert e.code == status, f"{path}: {e.code}"
            return e.read().decode("utf-8")


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, siteconfig.Config]:
    return history(tmp_path_factory.mktemp("web"))


@pytest.fixture(scope="module")
def web(made) -> Iterator[Served]:
    with Served(made[0]) as served:
        yield served


def feed_link(page: str) -> str:
    match = re.search(r'<link rel="alternate" type="application/atom\+xml"[^>]*href="([^"]+)"',
                      page)
    assert match, "no Atom feed advertised"
    return match.group(1)


def text_of(page: str) -> str:
    """What the page says, tags dropped."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


# --- pages ---

def test_home_lists_every_site_newest_change_first_with_its_verdict_in_words(web):
    page = web.get("/")
    seen = text_of(page)
    assert seen.index("wemet") < seen.index("believe")  # the newest change first
    assert "Contact channels" in seen and "major" in seen.lower()
    assert "2026-01-15 10:00" in seen and "version 2 → 3" in seen
    assert "none yet" in seen  # believe has no change
    assert feed_link(page) == "/feeds/major.atom"


def test_home_filters_by_category_and_advertises_that_categorys_feed(web):
    page = web.get("/?category=recipients")
    seen = text_of(page)
    assert "wemet" in seen and "believe" not in seen.split("Versions", 1)[1]
    assert "version 1 → 2" in seen  # the newest change in that category
    assert feed_link(page) == "/feeds/categories/recipients.atom"
    assert "No sites with a change" in text_of(web.get("/?category=children"))
    web.get("/?category=gossip", status=404)


def test_the_site_page_shows_versions_changes_and_failures_as_such(web):
    page = web.get("/sites/wemet")
    seen = text_of(page)
    for line in ("Version 3", "Version 2", "Version 1", "first version"):
        assert line in seen
    assert "failed" in seen and "connection refused by wemet.example" in seen
    assert seen.index("Version 2") < seen.index("connection refused") < seen.index("Version 1")
    assert feed_link(page) == "/feeds/sites/wemet.atom"
    assert 'href="/sites/wemet/changes/3"' in page
    web.get("/sites/nobody", status=404)


def test_the_change_page_shows_findings_first_then_the_word_diff_escaped(web):
    page = web.get("/sites/wemet/changes/2")
    seen = text_of(page)
    assert seen.index("Findings") < seen.index("Word by word") < seen.index("Both versions")
    assert "Data recipients" in seen and "added" in seen
    assert "<script>alert(1)</script>" not in page  # text from the page is escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<ins>" in page  # the added words are marked in the diff
    assert 'href="/sites/wemet/versions/1"' in page and 'href="/sites/wemet/versions/2"' in page
    assert feed_link(page) == "/feeds/sites/wemet.atom"
    contact = web.get("/sites/wemet/changes/3")
    assert "Contact channels" in text_of(contact)
    assert re.search(r"<ins>[^<]*privacy-requests@wemet-group\.example", contact)
    assert re.search(r"<del>[^<]*@", contact)  # the old address, marked in the sentence before
    web.get("/sites/wemet/changes/9", status=404)


def test_any_two_versions_are_comparable(web):
    page = web.get("/sites/wemet/compare?from=1&to=3")
    seen = text_of(page)
    assert "version 1 → 3" in seen and "on the spot" in seen
    assert "Data recipients" in seen and "Contact channels" in seen
    backwards = text_of(web.get("/sites/wemet/compare?from=3&to=1"))
    assert "Data recipients" in backwards and "removed" in backwards
    web.get("/sites/wemet/compare?from=1&to=7", status=404)


def test_a_version_page_and_its_markdown_are_the_stored_text(web, made):
    store = Store(made[0])
    try:
        stored = store.version("wemet", 2).text
    finally:
        store.close()
    assert web.get("/sites/wemet/versions/2.md") == stored
    page = web.get("/sites/wemet/versions/2")
    assert "&lt;script&gt;" in page and "<script>alert" not in page
    assert feed_link(page) == "/feeds/sites/wemet.atom"


def test_search_finds_findings_and_policy_text(web):
    seen = text_of(web.get("/search?q=data+brokers"))
    assert "In findings (1)" in seen and "wemet: version 1 → 2" in seen
    assert "wemet: version 3" in seen and "2 versions match" in seen
    believe = BELIEVE.split()[12].strip(".,;:()")
    assert "believe: version 1" in text_of(web.get(f"/search?q={believe}"))
    for hostile in ('%22OR(', "NEAR%28", "*", "a+OR", "%22"):  # words, never FTS syntax
        assert "In policy text" in text_of(web.get(f"/search?q={hostile}"))
    echoed = web.get("/search?q=%3Cscript%3Ex")
    assert 'value="&lt;script&gt;x"' in echoed and "<script>x" not in echoed
    assert feed_link(web.get("/search")) == "/feeds/major.atom"


def test_version_text_is_readable_in_datasettes_own_views(web):
    table = text_of(web.get("/monitor/versions"))
    assert WEMET.split()[3] in table and "whole version" in table
    rows = json.loads(web.get("/monitor.json?sql=select+policy_text(text)+as+t+from+versions"
                              "+where+site+%3D+%27wemet%27+order+by+number&_shape=array"))
    assert "data brokers" in rows[1]["t"]
    found = json.loads(web.get("/monitor/versions.json?_search=brokers&_shape=array"))
    assert sorted(r["number"] for r in found) == [2, 3]


# --- feeds ---

def test_atom_feeds_are_valid_and_carry_findings_and_links(web):
    for path, titles in [
            ("/feeds/major.atom", ["wemet: major change (Contact channels)",
                                   "wemet: major change (Data recipients)"]),
            ("/feeds/sites/wemet.atom", ["wemet: major change (Contact channels)",
                                         "wemet: major change (Data recipients)"]),
            ("/feeds/categories/recipients.atom", ["wemet: major change (Data recipients)"]),
            ("/feeds/categories/children.atom", [])]:
        feed = feedparser.parse(web.get(path))
        assert not feed.bozo, (path, feed.get("bozo_exception"))
        assert [e.title for e in feed.entries] == titles, path
        assert feed.feed.links[0].href == web.url + path
    entry = feedparser.parse(web.get("/feeds/categories/recipients.atom")).entries[0]
    assert entry.link == web.url + "/sites/wemet/changes/2"
    assert "Data recipients" in entry.content[0].value and "data brokers" in entry.content[0].value
    assert "<script>" not in entry.content[0].value  # the policy's markup stays text
    assert [t.term for t in entry.tags] == ["recipients"]
    web.get("/feeds/sites/nobody.atom", status=404)
    web.get("/feeds/categories/gossip.atom", status=404)


def test_entry_ids_stay_the_same_and_base_url_makes_links_absolute(made):
    with Served(made[0], base_url="https://policies.example.org") as served:
        feed = feedparser.parse(served.get("/feeds/major.atom"))
        again = feedparser.parse(served.get("/feeds/major.atom"))
    assert [e.id for e in feed.entries] == [e.id for e in again.entries]
    assert feed.entries[0].link == "https://policies.example.org/sites/wemet/changes/3"


# --- read-only, never secret ---

def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_server_never_writes_and_never_shows_secrets(web, made):
    db = made[0]
    before = digest(db)
    pages = ["/", "/sites/wemet", "/sites/wemet/changes/3", "/search?q=share",
             "/feeds/major.atom", "/monitor", "/monitor/alerts", "/monitor/alerts.json",
             "/monitor/sites.json", "/-/metadata.json", "/-/settings.json", "/-/plugins.json",
             "/-/databases.json"]
    for path in pages:
        assert SECRET not in web.get(path), path
    refused = web.get("/monitor.json?sql=delete+from+versions", status=400)
    assert "Statement must be a SELECT" in refused or "read" in refused.lower()
    assert digest(db) == before


def test_monitor_serve_binds_loopback_and_refuses_a_missing_database(made, tmp_path):
    env = {**os.environ, "MONITOR_CONFIG": str(tmp_path / "none.toml")}
    missing = tmp_path / "nothing.db"
    gone = subprocess.run([sys.executable, "-m", "monitor.cli", "--db", str(missing), "serve"],
                          capture_output=True, text=True, timeout=30, env=env)
    assert gone.returncode != 0 and "no database" in gone.stderr and not missing.exists()
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "monitor.cli", "--db", str(made[0]), "serve",
                             "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert f"http://127.0.0.1:{port}/" in line and "read-only" in line
        deadline = time.monotonic() + 15
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    assert "wemet" in r.read().decode()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# --- [serve] base_url and the alerts ---

def test_alerts_link_to_the_change_page_when_base_url_is_set(made):
    from monitor.message import render
    from monitor.records import ChangeNotice

    db, config = made
    assert config.serve.base_url == "https://policies.example.org"
    store = Store(db)
    try:
        payload = store.outbox.last_payload("wemet", "change")
    finally:
        store.close()
    assert payload and payload["link"] == "https://policies.example.org/sites/wemet/changes/3"
    message = render("k", "change", payload)
    assert payload["link"] in message.text
    assert f'href="{payload["link"]}"' in message.html
    assert payload["link"] in json.dumps(message.slack)
    plain = render("k", "change", {**payload, "link": None})
    assert "policies.example.org" not in plain.text + plain.html + json.dumps(plain.slack)
    assert ChangeNotice.from_json(payload).link == payload["link"]


@pytest.mark.parametrize("value", ['"ftp://x.example"', '"policies.example.org"', "3",
                                   '"https://x.example/?a=b"'])
def test_a_bad_base_url_is_refused_naming_the_key(tmp_path, value):
    path = tmp_path / "sites.toml"
    path.write_text(f"[serve]\nbase_url = {value}\n")
    with pytest.raises(ConfigError, match="serve.base_url"):
        siteconfig.load(path)
    path.write_text("[serve]\nport = 1\n")
    with pytest.raises(ConfigError, match="serve.port"):
        siteconfig.load(path)


# --- as a person sees it, in Chromium ---

def chromium_or_skip() -> str:
    if Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
        return CHROMIUM
    message = (f"Chromium not found at {CHROMIUM}: install Debian's `chromium` "
               "(apt-get install chromium) or set $MONITOR_CHROMIUM")
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def test_a_person_browses_from_the_site_list_to_a_change_and_its_feed(web):
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page()
            page.goto(web.url + "/")
            rows = page.locator("table.pm-sites tbody tr")
            assert rows.count() == 2
            assert rows.nth(0).inner_text().startswith("wemet")
            assert "MAJOR" in rows.nth(0).inner_text() and "Contact channels" in \
                rows.nth(0).inner_text()
            page.get_by_role("link", name="wemet", exact=True).click()
            page.wait_for_url("**/sites/wemet")
            assert "connection refused" in page.locator(".pm-timeline").inner_text()
            page.locator('a[href="/sites/wemet/changes/2"]').first.click()
            page.wait_for_url("**/sites/wemet/changes/2")
            finding = page.locator(".pm-finding").first
            assert finding.is_visible()
            assert "Data recipients" in finding.inner_text()
            assert "<script>alert(1)</script>" in finding.inner_text()  # shown as text
            added = page.locator(".pm-diff ins").first
            assert added.is_visible() and added.evaluate(
                "e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"
            href = page.locator('link[rel="alternate"][type="application/atom+xml"]') \
                .get_attribute("href")
            assert href == "/feeds/sites/wemet.atom"
            feed = page.request.get(web.url + href)
            assert feed.ok and "application/atom+xml" in feed.headers["content-type"]
            parsed = feedparser.parse(feed.text())
            assert not parsed.bozo and parsed.entries[-1].link.endswith("/sites/wemet/changes/2")
        finally:
            browser.close()


# --- the search index follows the versions ---

def test_the_search_index_follows_versions_rebuilt_or_removed(tmp_path):
    db, _ = history(tmp_path)
    store = Store(db)
    try:
        assert [v["site"] for v in store.browse.search_versions("brokers")] == ["wemet"]
        with store.transaction():  # what `monitor reextract` does: forget, then rebuild
            store.forget_versions("wemet")
            store.add_version("wemet", WEMET, at="2026-02-01T00:00:00.000Z", snapshot=None,
                              fetch_id=None)
        assert store.browse.search_versions("brokers") == []
        assert store.browse.search_findings("brokers") == []
        found = store.browse.search_versions("privacy")
        assert {(v["site"], v["number"]) for v in found} == {("wemet", 1), ("believe", 1)}
        assert store.browse.search_versions('"xyzzy" OR (') == []  # words, never syntax
    finally:
        store.close()
