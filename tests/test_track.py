"""`track` on a real SQLite file: the rules that decide what a fetch becomes."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest

from monitor.loopback import bundled_policy, chrome, policy_html
from monitor.plausibility import assess
from monitor.reextract import reextract
from monitor.store import Store
from monitor.track import Fetched, extract_text, fingerprint, moved_away, track
from tests.conftest import SITE

WEMET = bundled_policy("wemet")


def page(text: str, at: str = "2026-01-01T00:00:00.000Z", **kw) -> Fetched:
    return Fetched(site="wemet", url=SITE.url, at=at, final_url=SITE.url, status=200,
                   body=chrome(policy_html(text)).encode(), content_type="text/html", **kw)


@pytest.mark.parametrize("url, final", [
    ("https://x.org/privacy", "https://x.org/privacy/index.html"),
    ("https://x.org/privacy", "https://x.org/en/home/privacy"),
    ("https://x.org/privacy", "https://x.org/account/privacy-policy"),
    ("http://privacy.x.org", "https://privacy.x.org/"),
    ("https://x.org/legal/privacy", "https://x.org/legal/privacy-policy"),
    ("https://x.org/privacy", "https://x.org/auth/privacy"),
    ("https://x.org/privacy", "https://x.org/privacy/index.html"),
    ("https://x.org/privacy", "https://www.x.org/privacy"),
    ("https://policies.x.co.uk/privacy", "https://www.x.co.uk/legal/privacy"),
])
def test_a_policy_that_moves_is_followed(url, final):
    assert moved_away(url, final) is None


@pytest.mark.parametrize("url, final", [
    ("https://x.org/privacy", "https://x.org/"),
    ("https://x.org/privacy", "https://x.org/login?next=/privacy"),
    ("https://x.org/privacy", "https://accounts.x.org/signin"),
    ("https://x.org/privacy", "https://x.org/home"),
    ("https://x.org/privacy", "https://x.org/index.html"),
    ("https://x.org/privacy", "https://x.org/en/"),
    ("https://x.org/privacy", "https://x.org/users/sign_in"),
    ("https://x.org/privacy", "https://x.org/session/new"),
    ("https://x.org/legal/privacy", "https://x.org/legal/"),
    ("https://x.org/privacy", "https://other.example/privacy"),
    ("https://x.co.uk/privacy", "https://y.co.uk/privacy"),
])
def test_a_redirect_home_or_to_a_login_is_not_the_policy(url, final):
    assert moved_away(url, final)


@pytest.mark.parametrize("sentence", [
    "Our office is at 500 Market Street, San Francisco.",
    "We use reCAPTCHA to protect our forms from abuse; Google's privacy policy applies.",
    "We rate limit requests to protect the service.",
    "When you sign in, your password is stored only as a salted hash.",
])
def test_short_real_policies_with_error_words_are_policies(sentence):
    short = " ".join(WEMET.split()[:300]) + "\n\n" + sentence
    assert assess(short) is None
    assert assess("Sorry. " + sentence) is not None  # the same words alone are not a policy


def test_a_policy_that_really_shrank_is_recorded_once_it_persists(store):
    track(store, SITE, page(WEMET))
    shrunk = WEMET[: len(WEMET) // 4]
    hours = ["2026-01-02T00:00:00.000Z", "2026-01-02T03:00:00.000Z", "2026-01-02T06:00:00.000Z"]
    outcomes = [track(store, SITE, page(shrunk, at=at)).outcome for at in hours]
    assert outcomes == ["suspect", "suspect", "new"]
    assert [h["version"] for h in store.history("wemet")] == [1, 2]
    assert store.history("wemet")[1]["major"] is True
    assert reextract(store, SITE) == (2, 2)  # the rebuild keeps the confirmed shrink


def test_a_short_outage_is_not_taken_for_a_shrunk_policy(store):
    track(store, SITE, page(WEMET))
    shrunk = WEMET[: len(WEMET) // 4]
    minutes = [f"2026-01-02T00:0{m}:00.000Z" for m in range(5)]
    assert {track(store, SITE, page(shrunk, at=at)).outcome for at in minutes} == {"suspect"}


def test_a_broken_page_that_alternates_never_becomes_a_version(store):
    track(store, SITE, page(WEMET))
    for i in range(4):
        track(store, SITE, page(WEMET[: 1000 + i * 500]))
    assert [h["version"] for h in store.history("wemet")] == [1]


def test_new_extraction_rules_make_a_technical_change_not_a_policy_change(store):
    track(store, SITE, page(WEMET))
    narrower = dataclasses.replace(SITE, remove=("h2",))
    outcome = track(store, narrower, page(WEMET))
    assert outcome.outcome == "new" and outcome.change.technical is True
    assert store.history("wemet")[1]["technical"] is True
    # and the site's last change is the policy's, not ours
    assert store.conn.execute("select last_change_at from sites").fetchone()[0] is None


def test_new_rules_that_give_the_same_text_keep_conditional_requests(store):
    validated = dataclasses.replace(page(WEMET), etag='"v1"')
    track(store, SITE, validated)
    tidier = dataclasses.replace(SITE, remove=("script",))  # changes nothing in the text
    assert store.validators("wemet", SITE.url, fingerprint(tidier)) == (None, None)
    assert track(store, tidier, validated).outcome == "same"
    assert store.validators("wemet", SITE.url, fingerprint(tidier))[0] == '"v1"'


class Planned:
    """Records what `track` asks the alerting to plan (the real planner is tested elsewhere)."""

    def __init__(self) -> None:
        self.changes: list = []

    def on_change(self, store, site, change) -> None:
        self.changes.append(change)

    def on_fetch(self, store, site, ok, error) -> None:
        pass


def test_a_policy_edit_under_new_rules_is_still_alerted(store):
    planned = Planned()
    track(store, SITE, page(WEMET), planned)
    narrower = dataclasses.replace(SITE, remove=("h2",))
    edited = WEMET + "\nWe sell your contacts and precise location to data brokers.\n"
    outcome = track(store, narrower, page(edited), planned)
    assert outcome.change.technical is False and outcome.change.major is True
    assert "recipients" in outcome.change.categories
    assert len(planned.changes) == 1  # the edit is alerted; the rule change alone is not
    track(store, dataclasses.replace(SITE, remove=("h2", "ul")), page(edited), planned)
    assert len(planned.changes) == 1


def test_a_version_from_before_rule_fingerprints_is_not_compared_blindly(tmp_path):
    store = Store(tmp_path / "m.db")
    store.sync_sites([(SITE.name, SITE.url)])
    track(store, SITE, page(WEMET))
    store.conn.execute("update versions set rules = null")  # as a database from before m002
    assert store.validators("wemet", SITE.url, fingerprint(SITE)) == (None, None)
    narrower = dataclasses.replace(SITE, remove=("h2",))
    outcome = track(store, narrower, page(WEMET), Planned())
    assert outcome.outcome == "new" and outcome.change.technical is True


def test_a_304_without_any_version_is_not_taken_as_unchanged(store):
    fetched = Fetched(site="wemet", url=SITE.url, at="t", final_url=SITE.url, status=304)
    assert track(store, SITE, fetched).outcome == "suspect"


def test_a_crawl_that_lost_a_race_compares_with_the_newest_version(tmp_path):
    """Two crawls of one site at once (the daemon and a hand-run crawl): one version."""
    other = Store(tmp_path / "m.db")
    other.sync_sites([(SITE.name, SITE.url)])
    track(other, SITE, page(WEMET))
    edited = WEMET + "\nWe share your contacts with data brokers.\n"
    results: list = []

    def crawl() -> None:  # a second crawl, in its own thread with its own connection
        results.append(track(Store(tmp_path / "m.db"), SITE, page(edited)))

    other.conn.execute("begin immediate")  # `other` is writing: the crawl must wait for it
    racing = threading.Thread(target=crawl)
    racing.start()
    time.sleep(1.0)  # the crawl has read version 1, classified against it, and now waits
    other.add_version("wemet", extract_text(SITE, page(edited)), at="2026-01-01T00:00:01.000Z",
                      snapshot=None, fetch_id=None, rules=fingerprint(SITE))
    other.conn.execute("commit")
    racing.join(timeout=30)
    assert [r.outcome for r in results] == ["same"]
    assert [h["version"] for h in other.history("wemet")] == [1, 2]
