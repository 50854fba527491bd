"""Throughput machinery on real parts: crawl processes sharing sites, the writer thread and its
batches, the compact store, and the fetch log's roll-up."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
import zlib

from monitor.config import Site
from monitor.crawl import shards
from monitor.loopback import Page, bundled_policy, chrome, policy_html
from monitor.store import Store
from monitor.store.codec import pack_bytes, unpack, unpack_bytes
from monitor.track import Fetched, track, track_many
from tests.conftest import FAST, SITE

WEMET = bundled_policy("wemet")
BELIEVE = bundled_policy("believe")
SHARED = ("We share your e-mail address and browsing history with Acme Analytics Inc., an "
          "advertising partner, which uses them to show you targeted ads.")


def fetched(site: Site, text: str, at: str = "2026-01-01T00:00:00.000Z") -> Fetched:
    return Fetched(site=site.name, url=site.url, at=at, final_url=site.url, status=200,
                   body=chrome(policy_html(text)).encode(), content_type="text/html")


def sites_on(hosts: dict[str, int]) -> list[Site]:
    return [Site(name=f"{host.split('.')[0]}{i}", url=f"https://{host}/p{i}")
            for host, count in hosts.items() for i in range(count)]


def test_shards_keep_each_hosts_sites_in_one_process_and_balance_them():
    sites = sites_on({"a.org": 5, "b.org": 3, "c.org": 2})
    groups = shards(sites, 2)
    assert sorted(len(g) for g in groups) == [5, 5]
    for group in groups:  # one process per host: its politeness holds across processes
        hosts = {s.url.split("/")[2] for s in group}
        assert all(s.url.split("/")[2] in hosts for s in group)
        assert not any(s.url.split("/")[2] in hosts for g in groups if g is not group for s in g)
    assert sorted(s.name for g in groups for s in g) == sorted(s.name for s in sites)
    assert len(shards(sites_on({"a.org": 10}), 2)) == 1  # one host: one process
    assert sorted(len(g) for g in shards(sites_on({"a.org": 10}), 2, split_hosts=True)) == [5, 5]


def test_a_crawl_shared_by_two_processes_records_every_site_and_each_change(monitor, server):
    names = [f"s{i}" for i in range(6)]
    texts = [WEMET, BELIEVE] * 3
    for name, text in zip(names, texts, strict=True):
        server.site[f"/{name}"] = Page(text=f"{text}\n\nThis policy is for {name}.")
    monitor.sites(*[(n, f"{server.url}/{n}") for n in names])
    # the per-host limit lifted: the six sites of this one host are shared site by site
    lifted = ["-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4", "--workers", "2"]
    out = monitor("crawl", *FAST, *lifted).stdout
    assert "crawled 6 of 6 sites: 6 new" in out
    assert server.site.hits["/robots.txt"] == 2  # each process asked for robots.txt once
    server.site["/s3"] = Page(text=f"{texts[3]}\n\nThis policy is for s3.\n\n{SHARED}")
    out = monitor("crawl", *FAST, *lifted).stdout
    assert "crawled 6 of 6 sites: 1 new, 5 same" in out
    entry = monitor.history("s3")[-1]
    assert entry["version"] == 2 and entry["major"] is True
    assert all(len(monitor.history(n)) == 1 for n in names if n != "s3")


def test_a_locked_database_does_not_stop_the_downloads(monitor, server):
    """The writer waits for the lock; the reactor goes on fetching meanwhile."""
    names = [f"s{i}" for i in range(5)]
    for name in names:
        server.site[f"/{name}"] = Page(text=f"{WEMET}\n\nThis policy is for {name}.")
    monitor.sites(*[(n, f"{server.url}/{n}") for n in names])
    Store(monitor.db).close()  # made and migrated
    blocker = sqlite3.connect(monitor.db, isolation_level=None)
    blocker.execute("begin immediate")  # another process writing, for a long while
    crawl = subprocess.Popen([sys.executable, "-m", "monitor.cli", "crawl", *FAST,
                              "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8"], cwd=monitor.folder,
                             env=monitor.env(), stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all(
                server.site.hits.get(f"/{n}") for n in names):
            time.sleep(0.05)
        fetched_while_locked = {n: server.site.hits.get(f"/{n}", 0) for n in names}
        assert crawl.poll() is None  # still waiting to write
    finally:
        blocker.execute("rollback")
        blocker.close()
    out, _ = crawl.communicate(timeout=120)
    assert fetched_while_locked == dict.fromkeys(names, 1)
    assert "crawled 5 of 5 sites: 5 new" in out


def test_a_batch_gives_what_one_fetch_at_a_time_gives(tmp_path):
    sites = [Site(name=f"s{i}", url=f"https://s{i}.example/privacy") for i in range(4)]
    first = [fetched(s, f"{WEMET}\n\nFor {s.name}.") for s in sites]
    second = [fetched(s, f"{WEMET}\n\nFor {s.name}." + (" We now sell your data to brokers."
                                                       if s.name == "s2" else ""),
                      at="2026-01-02T00:00:00.000Z") for s in sites]
    results = []
    for how in ("one by one", "batched"):
        store = Store(tmp_path / f"{how}.db")
        store.sync_sites([(s.name, s.url) for s in sites])
        rounds = []
        for fetches in (first, second):
            pairs = list(zip(sites, fetches, strict=True))
            outcomes = [track(store, s, f) for s, f in pairs] if how == "one by one" \
                else track_many(store, pairs)
            rounds.append([(o.site, o.outcome, o.version, o.change and o.change.major)
                           for o in outcomes])
        results.append((rounds, [(s.name, store.latest(s.name).text) for s in sites]))
        store.close()
    assert results[0] == results[1]
    assert results[1][0][1][2] == ("s2", "new", 2, True)


def test_two_fetches_of_one_site_in_one_batch_are_judged_one_after_the_other(store):
    edited = f"{WEMET}\n\n{SHARED}"
    outcomes = track_many(store, [(SITE, fetched(SITE, WEMET)),
                                  (SITE, fetched(SITE, edited, at="2026-01-02T00:00:00.000Z"))])
    assert [(o.outcome, o.version) for o in outcomes] == [("new", 1), ("new", 2)]
    assert outcomes[1].change is not None and outcomes[1].change.from_version == 1


def test_a_versions_page_is_stored_against_its_text_and_read_back_whole(store):
    page = fetched(SITE, WEMET)
    track(store, SITE, page)
    version = store.latest(SITE.name)
    body, kind = store.snapshot(version.snapshot)
    assert body == page.body and kind == "text/html"
    stored = store.conn.execute("select length(body), basis from snapshots").fetchone()
    assert stored[1] == version.hash
    assert stored[0] < len(zlib.compress(page.body, 9)) / 2  # the text is not paid twice
    text_bytes = store.conn.execute("select length(text) from versions").fetchone()[0]
    assert text_bytes < len(zlib.compress(version.text.encode(), 9))  # the dictionary helps
    store.forget_versions(SITE.name)  # reextract: the text goes, the page stays readable
    assert store.snapshot(version.snapshot)[0] == page.body


def test_blobs_of_an_older_store_are_still_read():
    assert unpack(zlib.compress(b"Privacy Policy", 1)) == "Privacy Policy"
    assert unpack_bytes(zlib.compress(b"<html>", 1)) == b"<html>"
    assert unpack_bytes(pack_bytes(b"<p>text</p>", b"text"), b"text") == b"<p>text</p>"


def test_the_fetch_log_rolls_up_unchanged_fetches_and_keeps_what_matters(store):
    track(store, SITE, fetched(SITE, WEMET, at="2026-01-01T00:00:00.000Z"))
    for day in range(2, 7):
        track(store, SITE, fetched(SITE, WEMET, at=f"2026-01-0{day}T00:00:00.000Z"))
    failed = Fetched(site=SITE.name, url=SITE.url, at="2026-01-07T00:00:00.000Z",
                     error="TimeoutError")
    track(store, SITE, failed)
    track(store, SITE, fetched(SITE, WEMET, at="2026-01-08T00:00:00.000Z"))
    before = store.version_span(SITE.name, 1)
    assert store.roll_up_fetches("2026-01-09T00:00:00.000Z") == 5  # days 2-6
    kept = [(r["outcome"], r["at"][:10]) for r in store.recent_fetches(SITE.name, 10)]
    assert kept == [("same", "2026-01-08"), ("failed", "2026-01-07"), ("new", "2026-01-01")]
    days = store.conn.execute("select day, fetches from fetch_days order by day").fetchall()
    assert [tuple(d) for d in days] == [(f"2026-01-0{d}", 1) for d in range(2, 7)]
    assert store.version_span(SITE.name, 1) == before  # the returns rule sees the same
    assert store.roll_up_fetches("2026-01-09T00:00:00.000Z") == 0
    assert store.validators(SITE.name, SITE.url) == (None, None)  # none were sent
    assert store.last_good_fetch(SITE.name)["at"].startswith("2026-01-08")
