"""Real crawls of a real HTTP server on 127.0.0.1, through the real `monitor` command."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from monitor.loopback import Page, bundled_policy
from tests.conftest import FAST, make_pdf

WEMET = bundled_policy("wemet")
BELIEVE = bundled_policy("believe")


def fetches(db, site):
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    return [dict(r) for r in conn.execute("select * from fetches where site = ? order by id",
                                          [site])]


def versions(db, site):
    conn = sqlite3.connect(db)
    return conn.execute("select count(*) from versions where site = ?", [site]).fetchone()[0]


def test_first_crawl_then_unchanged_recrawl_in_changing_chrome(server, monitor):
    server.site["/a/privacy"] = Page(text=WEMET)
    server.site["/b/privacy"] = Page(text=BELIEVE)
    monitor.sites(("wemet", f"{server.url}/a/privacy"), ("believe", f"{server.url}/b/privacy"))
    first = monitor.crawl()
    assert "crawled 2 of 2 sites: 2 new" in first.stdout
    assert [e["version"] for e in monitor.history("wemet")] == [1]
    second = monitor.crawl()
    assert "2 same" in second.stdout
    assert [e["version"] for e in monitor.history("believe")] == [1]
    outcomes = [f["outcome"] for f in fetches(monitor.db, "wemet")]
    assert outcomes == ["new", "same"]
    # the raw pages differed (chrome), the text did not: one version, and the recrawl's bytes
    # are known by their hash only
    first_hash, second_hash = [f["snapshot"] for f in fetches(monitor.db, "wemet")]
    assert first_hash != second_hash
    conn = sqlite3.connect(monitor.db)
    assert conn.execute("select count(*) from snapshots").fetchone()[0] == 2
    shown = monitor("show", "wemet").stdout
    assert "Cookie" not in shown.split("\n")[0] and "Accept all" not in shown
    assert "Server time" not in shown and "Subscribe" not in shown


def test_edit_records_a_classified_version_and_change(server, monitor):
    server.site["/p"] = Page(text=WEMET)
    monitor.sites(("wemet", f"{server.url}/p"))
    monitor.crawl()
    edited = WEMET.replace(
        "\n", "\nWe also share your precise location with data brokers for advertising.\n", 1)
    server.site["/p"] = Page(text=edited)
    assert "new version 2 (MAJOR" in monitor.crawl().stderr
    entries = monitor.history("wemet")
    assert [e["version"] for e in entries] == [1, 2]
    assert entries[1]["major"] is True
    assert "recipients" in entries[1]["categories"]
    table = monitor("history", "wemet").stdout
    assert "MAJOR: " in table and "first version" in table
    diff = monitor("diff", "wemet", "--no-color").stdout
    assert "data brokers" in diff
    assert "version 1" in diff and "version 2" in diff


def test_conditional_requests_use_the_servers_validators(server, monitor):
    server.site["/p"] = Page(body=WEMET.encode(), content_type="text/plain; charset=utf-8",
                             validators=True)
    monitor.sites(("wemet", f"{server.url}/p"))
    monitor.crawl()
    assert "1 not modified" in monitor.crawl().stdout
    page_requests = [h for p, h in server.site.requests if p == "/p"]
    assert "If-None-Match" not in page_requests[0]  # nothing to validate on the first request
    assert page_requests[1]["If-None-Match"].startswith('"')
    # an edit in the same second is still seen: the ETag, not a clock, decides
    server.site["/p"] = Page(body=(WEMET + "\nWe now sell your data to advertisers.\n").encode(),
                             content_type="text/plain; charset=utf-8", validators=True)
    assert "1 new" in monitor.crawl().stdout
    assert [f["outcome"] for f in fetches(monitor.db, "wemet")] == ["new", "not_modified", "new"]


def test_robots_txt_is_obeyed_unless_the_site_opts_out(server, monitor):
    server.site.robots = "User-agent: *\nDisallow: /private/\n"
    server.site["/private/policy"] = Page(text=WEMET)
    url = f"{server.url}/private/policy"
    monitor.sites(("wemet", url))
    out = monitor.crawl(check=3)
    assert "forbidden by robots.txt" in out.stderr
    assert server.site.hits.get("/private/policy") is None
    assert versions(monitor.db, "wemet") == 0
    monitor.config.write_text(f'[[sites]]\nname = "wemet"\nurl = "{url}"\nobey_robots = false\n')
    monitor.crawl()
    assert versions(monitor.db, "wemet") == 1


def test_pages_that_are_not_the_policy_never_become_versions(server, monitor):
    """404, 500, a timeout, a redirect home, an error page served 200, an emptied page."""
    names = ["missing", "broken", "slow", "home", "soft404", "emptied"]
    for name in names:
        server.site[f"/{name}"] = Page(text=WEMET)
    server.site["/"] = Page(text="Welcome to Example. Sign up today. Pricing. Blog.")
    monitor.config.write_text("".join(
        f'[[sites]]\nname = "{n}"\nurl = "{server.url}/{n}"\ntimeout = 1\n\n' for n in names))
    monitor.crawl()
    assert all(versions(monitor.db, n) == 1 for n in names)
    del server.site.pages["/missing"]
    server.site["/broken"] = Page(status=500, body=b"<h1>Internal Server Error</h1>")
    server.site["/slow"] = Page(text=WEMET, delay=3)
    server.site["/home"] = Page(redirect="/")
    server.site["/soft404"] = Page(body=b"<html><body><h1>Page not found</h1><p>Sorry, the page"
                                        b" you are looking for does not exist.</p></body></html>")
    server.site["/emptied"] = Page(body=b"<html><body><div id='root'></div><script src='/app.js'>"
                                        b"</script></body></html>")
    out = monitor.crawl(check=3)
    assert "0 new" not in out.stdout and " new" not in out.stdout, out.stdout
    for name in names:
        assert versions(monitor.db, name) == 1, name
        last = fetches(monitor.db, name)[-1]
        assert last["outcome"] in ("failed", "blocked", "suspect"), (name, last)
        assert last["error"], name
    assert fetches(monitor.db, "missing")[-1]["status"] == 404
    assert fetches(monitor.db, "broken")[-1]["status"] == 500
    assert server.site.hits["/broken"] == 1 + 3  # first crawl; then 500, retried twice
    sites = monitor("sites").stdout
    assert "HTTP 404" in sites


def test_config_errors_name_the_file_site_and_key_and_write_nothing(monitor):
    cases = {
        '[[sites]]\nname = "a"\nurl = "https://x.org/p"\nselct = "main"\n': ("site 'a'", "selct"),
        '[[sites]]\nname = "a"\nurl = "https://x.org/p"\n[[sites]]\nname = "a"\n'
        'url = "https://y.org/p"\n': ("site 'a'", "name"),
        '[[sites]]\nname = "a"\nurl = "ftp:/nowhere"\n': ("site 'a'", "url"),
        '[[sites]]\nname = "a"\nurl = "https://x.org/p"\nselect = "main[["\n': ("site 'a'",
                                                                                "select"),
        '[[sites]]\nname = "a"\nurl = "https://x.org/p"\nschedule = "sometimes"\n':
            ("site 'a'", "schedule"),
        '[[sites]\nname = "a"\n': ("not valid TOML", ""),
    }
    for text, (site, key) in cases.items():
        monitor.config.write_text(text)
        proc = monitor("crawl", check=2)
        assert str(monitor.config) in proc.stderr
        assert site in proc.stderr and f"'{key}'" in proc.stderr if key else site in proc.stderr
        assert "Traceback" not in proc.stderr
        assert not monitor.db.exists()


def test_add_validates_before_writing(monitor):
    monitor("init")
    before = monitor.config.read_text()
    proc = monitor("add", "bad", "not-a-url", check=2)
    assert "key 'url'" in proc.stderr
    assert monitor.config.read_text() == before
    monitor("add", "wemet", "https://example.org/privacy", "--select", "main article", "--force")
    assert 'select = "main article"' in monitor.config.read_text()
    assert "wemet" in monitor("sites").stdout


def test_plain_text_and_pdf_policies_become_versions(server, monitor):
    server.site["/policy.pdf"] = Page(body=make_pdf(WEMET), content_type="application/pdf")
    server.site["/policy.txt"] = Page(body=WEMET.encode(), content_type="text/plain")
    monitor.sites(("pdf", f"{server.url}/policy.pdf"), ("txt", f"{server.url}/policy.txt"))
    monitor.crawl()
    shown = monitor("show", "pdf").stdout
    assert "Wemet" in shown and "el.zohair@gmail.com" in shown
    # the same policy edited, as a PDF: a new version, classified
    server.site["/policy.pdf"] = Page(body=make_pdf(WEMET.replace("el.zohair@gmail.com",
                                                                  "dpo@wemet.example")),
                                      content_type="application/pdf")
    monitor.crawl("pdf")
    assert "contact" in monitor.history("pdf")[1]["categories"]
    assert "Wemet" in monitor("show", "txt").stdout


def test_the_spider_runs_the_scrapy_way_from_the_repo_root(server, monitor):
    server.site["/p"] = Page(text=WEMET)
    monitor.sites(("wemet", f"{server.url}/p"))
    root = Path(__file__).parent.parent
    proc = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "policy", "-a", "sites=wemet",
                           "-s", "AUTOTHROTTLE_START_DELAY=0", "-s", "LOG_LEVEL=WARNING"],
                          cwd=root, env=monitor.env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert [e["version"] for e in monitor.history("wemet")] == [1]


def test_reextract_rebuilds_versions_from_snapshots_without_fetching(server, monitor):
    server.site["/p"] = Page(text=WEMET)
    monitor.sites(("wemet", f"{server.url}/p"))
    monitor.crawl()
    monitor.crawl()
    server.site["/p"] = Page(text=WEMET + "\nWe share your contacts with data brokers.\n")
    monitor.crawl()
    before = monitor.history("wemet")
    hits = dict(server.site.hits)
    out = monitor("reextract", "wemet").stdout
    assert "wemet: 2 versions -> 2 versions" in out
    assert server.site.hits == hits  # nothing fetched
    after = monitor.history("wemet")
    keys = ("version", "hash", "categories", "first_seen", "last_seen", "restores")
    assert [[e.get(k) for k in keys] for e in after] == [[e.get(k) for k in keys] for e in before]
    # rules that no longer match the stored pages would lose history: refused, nothing changed
    monitor.config.write_text(monitor.config.read_text() + 'select = "div.nothing-here"\n')
    refused = monitor("reextract", "wemet", check=1)
    assert "would be lost" in refused.stderr and "--force" in refused.stderr
    assert monitor.history("wemet") == after


def test_crawl_no_deliver_plans_alerts_for_the_daemon(server, monitor):
    server.site["/p"] = Page(text=WEMET)
    slack = f'[alerts.slack]\nwebhook_url = "{server.url}/hooks/slack"\n\n'
    monitor.sites(("wemet", f"{server.url}/p"), extra=slack)
    monitor.crawl()
    server.site["/p"] = Page(text=WEMET + "\nWe sell your contacts to data brokers.\n")
    monitor("crawl", *FAST, "--no-deliver")
    assert server.site.posts == []
    assert [a["state"] for a in json.loads(monitor("alerts", "--json").stdout)] == ["pending"]
    monitor("alerts", "send")
    assert len(server.site.posts) == 1


def test_a_bad_daemon_key_fails_every_command_that_reads_the_config(monitor):
    monitor.config.write_text('[daemon]\ntik = 1\n\n[[sites]]\nname = "a"\nurl = "https://x.org/p"\n')
    for command in (["crawl"], ["sites"]):
        proc = monitor(*command, check=2)
        assert "daemon.tik" in proc.stderr and str(monitor.config) in proc.stderr


def test_scrapy_lines_and_the_monitor_stats_show_at_the_asked_log_level(server, monitor):
    server.site["/privacy"] = Page(text=WEMET)
    monitor.sites(("wemet", f"{server.url}/privacy"))
    quiet = monitor.crawl()
    assert "Dumping Scrapy stats" not in quiet.stderr
    loud = monitor("crawl", *FAST, env={"MONITOR_SCRAPY_LOG_LEVEL": "INFO"})
    assert "Dumping Scrapy stats" in loud.stderr
    assert "'monitor/same': 1" in loud.stderr and "'monitor/new'" not in loud.stderr
