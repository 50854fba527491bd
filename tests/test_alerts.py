"""Alerts through real parts on 127.0.0.1: an aiosmtpd server, an HTTP webhook receiver, Apprise,
a real SQLite store fed by `track`, and the real `monitor` command."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from monitor import alerts
from monitor import config as siteconfig
from monitor.alerts import alerting_for, claim, deliver_pending, reclaim
from monitor.errors import ConfigError
from monitor.loopback import Page, bundled_policy, chrome, policy_html
from monitor.store import Store
from monitor.track import Fetched, track
from tests.receivers import Inbox, Receiver, free_port

pytestmark = [pytest.mark.timeout(60),
              pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")]

WEMET = bundled_policy("wemet")
SHARE = "We share your personal information with advertising partners and data brokers."
HOSTILE = ("We share your personal information with advertising partners "
           "<script>alert(1)</script> and data brokers <!channel> "
           "(see <http://evil.example|our partners> & co).")
SECRET = "hunter2-not-in-the-db"


def edited(sentence: str) -> str:
    lines = WEMET.splitlines()
    at = next(i for i, line in enumerate(lines) if "share" in line.lower())
    return "\n".join([*lines[:at + 1], sentence, *lines[at + 1:]]) + "\n"


class SMTP:
    """A real SMTP server on 127.0.0.1:`port`, started and stopped by the test."""

    def __init__(self, port: int | None = None, password: str | None = None) -> None:
        self.port = port or free_port()
        self.inbox = Inbox()
        auth = {}
        if password:
            def check(server, session, envelope, mechanism, data) -> AuthResult:
                return AuthResult(success=data.login == b"alerts" and
                                  data.password == password.encode())
            auth = {"authenticator": check, "auth_required": True, "auth_require_tls": False}
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **auth)

    def __enter__(self) -> SMTP:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


@pytest.fixture
def smtp() -> Iterator[SMTP]:
    with SMTP() as server:
        yield server


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


# --- a store fed by the real `track` ---

def load(tmp_path: Path, alerts: str, notify: str = "") -> siteconfig.Config:
    path = tmp_path / "sites.toml"
    path.write_text(f'[[sites]]\nname = "wemet"\nurl = "https://wemet.example/privacy"\n'
                    f"{notify}\n{alerts}")
    return siteconfig.load(path)


def email_table(port: int, user: str = "") -> str:
    # the test server offers no STARTTLS: a login over it must be allowed in so many words
    plaintext = "allow_plaintext_login = true\n" if user else ""
    return (f'[alerts.email]\nsmtp_url = "smtp://{user}127.0.0.1:{port}"\n{plaintext}'
            f'from = "policy-monitor@example.org"\nto = ["privacy-team@example.org"]\n')


def fetch(store: Store, config: siteconfig.Config, text: str | None, at: str,
          error: str | None = None):
    body = chrome(policy_html(text)).encode() if text else b""
    fetched = Fetched(site="wemet", url=config.sites[0].url, at=at, status=None if error else 200,
                      body=body, content_type="text/html; charset=utf-8", error=error)
    return track(store, config.sites[0], fetched, alerting_for(config))


def open_store(tmp_path: Path, config: siteconfig.Config) -> Store:
    store = Store(tmp_path / "monitor.db")
    store.sync_sites([(s.name, s.url) for s in config.sites])  # as the pipeline does
    return store


def changed(tmp_path: Path, config: siteconfig.Config, sentence: str = SHARE) -> Store:
    store = open_store(tmp_path, config)
    fetch(store, config, WEMET, "2026-01-01T10:00:00.000Z")
    outcome = fetch(store, config, edited(sentence), "2026-01-08T10:00:00.000Z")
    assert outcome.change and outcome.change.major, outcome
    return store


def rows(store: Store) -> list[dict]:
    return [dict(r) for r in store.conn.execute("select * from alerts order by id").fetchall()]


def later(minutes: float = 5) -> datetime:
    """A moment past the first retry's backoff (1 min): the next run, without waiting."""
    return datetime.now(UTC) + timedelta(minutes=minutes)


# --- configuration ---

@pytest.mark.parametrize(("alerts", "key"), [
    ('[alerts.email]\nsmtp_url = "http://x:SECRETPW@h"\nfrom = "a@b.c"\nto = "d@e.f"',
     "alerts.email.smtp_url"),
    ('[alerts.email]\nsmtp_url = "smtp://h"\nto = "d@e.f"', "alerts.email.from"),
    ('[alerts.slack]\nwebhook_url = "${HOOK}"\nchannel = "#x"', "alerts.slack.channel"),
    ('[alerts.apprise]\nurls = []', "alerts.apprise.urls"),
    ('[alerts]\non = "sometimes"\n[alerts.slack]\nwebhook_url = "${HOOK}"', "alerts.on"),
    ('[alerts]\ncategories = ["gossip"]\n[alerts.slack]\nwebhook_url = "${H}"',
     "alerts.categories"),
    ('[alerts]\nfailures = 0\n[alerts.slack]\nwebhook_url = "${HOOK}"', "alerts.failures"),
    ('[alerts]\nemails = 1', "alerts.emails"),
])
def test_bad_alert_config_fails_at_load_naming_file_and_key(tmp_path, alerts, key):
    with pytest.raises(ConfigError) as info:
        load(tmp_path, alerts)
    assert f"key '{key}'" in str(info.value) and "sites.toml" in str(info.value)
    assert "SECRETPW" not in str(info.value)


def test_notify_must_name_a_configured_channel(tmp_path):
    with pytest.raises(ConfigError, match="site 'wemet': key 'notify'"):
        load(tmp_path, '[alerts.slack]\nwebhook_url = "${HOOK}"', notify='notify = ["email"]')


def test_no_alerts_table_means_no_alerting(tmp_path):
    assert alerting_for(load(tmp_path, "")) is None


# --- e-mail ---

def test_email_arrives_with_headers_both_parts_findings_and_escaped_page_text(tmp_path, smtp):
    config = load(tmp_path, email_table(smtp.port))
    store = changed(tmp_path, config, HOSTILE)
    [result] = deliver_pending(store, config)
    assert result.state == "sent", result
    [mail] = smtp.inbox.messages
    assert mail["Subject"] == "[policy change] wemet: Data recipients"
    assert mail["From"] == "policy-monitor@example.org"
    assert mail["To"] == "privacy-team@example.org"
    assert mail["Message-ID"].endswith("@example.org>")
    text = mail.get_body(("plain",)).get_content()
    page = mail.get_body(("html",)).get_content()
    for body in (text, page):
        assert "recipients" in body and "wemet.example/privacy" in body
        assert "version 1 (2026-01-01 10:00)" in body and "version 2 (2026-01-08 10:00)" in body
        assert "monitor diff wemet --from 1 --to 2" in body
    assert "<script>alert(1)</script>" in text  # plain text is plain
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<!channel>" not in page and "&lt;!channel&gt;" in page
    assert "<ins" in page  # the word-level diff
    assert rows(store)[0]["state"] == "sent" and deliver_pending(store, config) == []


def test_email_logs_in_with_the_password_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SMTP_PASSWORD", SECRET)
    with SMTP(password=SECRET) as server:
        config = load(tmp_path, email_table(server.port, "alerts:${SMTP_PASSWORD}@"))
        store = changed(tmp_path, config)
        assert [r.state for r in deliver_pending(store, config)] == ["sent"]
        assert len(server.inbox.messages) == 1
    assert SECRET.encode() not in (tmp_path / "monitor.db").read_bytes()


def test_smtp_down_then_up_is_delivered_exactly_once(tmp_path, monkeypatch):
    monkeypatch.setenv("SMTP_PASSWORD", SECRET)
    port = free_port()
    config = load(tmp_path, email_table(port, "alerts:${SMTP_PASSWORD}@"))
    store = changed(tmp_path, config)
    [down] = deliver_pending(store, config)
    assert down.state == "pending" and "refused" in down.error.lower()
    row = rows(store)[0]
    assert row["attempts"] == 1 and row["next_try_at"] > row["created_at"]
    assert deliver_pending(store, config) == []  # not due yet: backoff
    with SMTP(port=port, password=SECRET) as server:
        [up] = deliver_pending(store, config, now=later())
        assert up.state == "sent"
        assert deliver_pending(store, config, now=later(65)) == []
        assert len(server.inbox.messages) == 1
    assert SECRET not in json.dumps(rows(store))


def test_a_crash_while_sending_resends_mail_with_the_same_message_id(tmp_path, smtp):
    config = load(tmp_path, email_table(smtp.port))
    store = changed(tmp_path, config)
    [first] = deliver_pending(store, config)
    store.conn.execute("update alerts set state = 'pending', sent_at = null")  # as if never
    alert_id = rows(store)[0]["id"]
    assert claim(store, alert_id, datetime.now(UTC))  # ... then the process died
    assert not claim(store, alert_id, datetime.now(UTC))  # nobody else may take it meanwhile
    assert deliver_pending(store, config) == []  # still within its lease: left alone
    [again] = deliver_pending(store, config, now=later(35))
    assert again.state == "sent"
    ids = [m["Message-ID"] for m in smtp.inbox.messages]
    assert len(ids) == 2 and ids[0] == ids[1]


# --- Slack ---

def slack_config(tmp_path: Path, hook: Receiver, extra: str = "") -> siteconfig.Config:
    return load(tmp_path, f'{extra}\n[alerts.slack]\nwebhook_url = "{hook.url}/services/T0/B0"')


def test_slack_gets_block_kit_with_escaped_page_text_within_limits(tmp_path, hook):
    config = slack_config(tmp_path, hook)
    store = changed(tmp_path, config, HOSTILE)
    assert [r.state for r in deliver_pending(store, config)] == ["sent"]
    [(path, headers, body, _)] = hook.posts
    assert path == "/services/T0/B0" and headers["Content-Type"].startswith("application/json")
    message = json.loads(body)
    blocks = message["blocks"]
    assert blocks[0]["type"] == "header" and "wemet" in blocks[0]["text"]["text"]
    assert len(blocks) <= 50
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert all(len(t) <= 3000 for t in texts)
    assert "<https://wemet.example/privacy|wemet>" in texts[0]
    everything = json.dumps(message)
    assert "<!channel>" not in everything and "&lt;!channel&gt;" in everything
    assert "<http://evil.example|" not in everything and "<script>" not in everything
    assert "&amp; co" in everything and "*Data recipients - added" in everything


def test_a_big_change_stays_within_slack_limits_and_counts_the_rest(tmp_path, hook):
    config = slack_config(tmp_path, hook)
    many = " ".join(f"We share your personal information with partner number {i} and data "
                    f"brokers in region {i}.\n" for i in range(15))
    store = changed(tmp_path, config, many + "x" * 5000 + " data brokers.")
    deliver_pending(store, config)
    [message] = hook.delivered()
    assert len(message["blocks"]) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in message["blocks"] if "text" in b)
    assert "more findings" in json.dumps(message)


def test_webhook_500_then_200_is_delivered_once(tmp_path):
    with Receiver(replies=[(500, {})]) as hook:
        config = slack_config(tmp_path, hook)
        store = changed(tmp_path, config)
        [first] = deliver_pending(store, config)
        assert first.state == "pending" and "HTTP 500" in first.error
        assert "/services/T0/B0" not in first.error
        [second] = deliver_pending(store, config, now=later())
        assert second.state == "sent"
        assert deliver_pending(store, config, now=later(305)) == []
        assert [status for *_, status in hook.posts] == [500, 200]


def test_webhook_429_honours_retry_after(tmp_path):
    with Receiver(replies=[(429, {"Retry-After": "3600"})]) as hook:
        config = slack_config(tmp_path, hook)
        store = changed(tmp_path, config)
        assert deliver_pending(store, config)[0].state == "pending"
        assert deliver_pending(store, config, now=later()) == []  # 5 min: Retry-After says wait
        assert deliver_pending(store, config, now=later(65))[0].state == "sent"
        assert len(hook.delivered()) == 1


def test_a_refused_webhook_fails_and_a_stale_one_is_not_posted_twice(tmp_path):
    with Receiver(replies=[(404, {})]) as hook:
        config = slack_config(tmp_path, hook)
        store = changed(tmp_path, config)
        assert deliver_pending(store, config)[0].state == "failed"  # 404: no retry
        store.conn.execute("update alerts set state = 'pending'")
        claim(store, rows(store)[0]["id"], datetime.now(UTC))  # crash after the claim
        assert deliver_pending(store, config, now=later(65)) == []
        row = rows(store)[0]
        assert row["state"] == "failed" and "not sent twice" in row["last_error"]
        assert len(hook.posts) == 1


def test_attempts_are_bounded_then_failed(tmp_path):
    with Receiver(replies=[(503, {})] * 20) as hook:
        config = slack_config(tmp_path, hook)
        store = changed(tmp_path, config)
        moment, states = datetime.now(UTC), []
        for _ in range(12):
            states += [r.state for r in deliver_pending(store, config, now=moment)]
            moment += timedelta(hours=4)
        assert states == ["pending"] * 7 + ["failed"]



def test_a_long_delivery_pass_leases_each_row_from_its_own_claim(tmp_path, monkeypatch):
    monkeypatch.setattr(alerts, "LEASE", timedelta(seconds=1))  # 15 minutes, in a test's time
    states = []

    def on_post(path: str, body: bytes) -> None:
        if not states:
            states.append("slow")
            time.sleep(1.5)  # the first post outlasts the lease
            return
        other = Store(tmp_path / "monitor.db")  # another process's pass, starting now
        reclaim(other, datetime.now(UTC))
        newest = other.conn.execute("select state from alerts order by id desc").fetchone()
        states.append(newest["state"])
        other.close()

    with Receiver(on_post=on_post) as hook:
        config = slack_config(tmp_path, hook, extra='[alerts]\non = "any"')
        store = changed(tmp_path, config)
        fetch(store, config, edited(SHARE + " Also with our insurers."), "2026-01-15T10:00:00.000Z")
        assert [r.state for r in deliver_pending(store, config)] == ["sent", "sent"]
    assert states == ["slow", "sending"]  # not taken as stale while it was being sent


# --- after `monitor reextract` (versions renumbered, changes rebuilt) ---

def reextracted(store: Store, sql: list[str]) -> None:
    """What a reextract can leave: versions dropped or renumbered, changes deleted and rebuilt
    (their rowids reused). Done by hand here, the way `monitor.reextract` writes it."""
    with store.transaction():
        store.conn.execute("delete from changes where site = 'wemet'")
        for statement in sql:
            store.conn.execute(statement)


def test_a_change_that_reuses_a_version_number_after_a_reextract_is_alerted(tmp_path, hook):
    config = slack_config(tmp_path, hook)
    store = changed(tmp_path, config)
    assert [r.state for r in deliver_pending(store, config)] == ["sent"]
    reextracted(store, ["delete from versions where site = 'wemet' and number = 2"])
    # months later the page says it again: version 2 once more, with the same text
    outcome = fetch(store, config, edited(SHARE), "2026-06-01T10:00:00.000Z")
    assert outcome.version == 2 and outcome.change and outcome.change.restores is None
    assert [r.state for r in deliver_pending(store, config)] == ["sent"]
    assert len(hook.delivered()) == 2
    # and the same event is never planned twice: its key is the fetch time and text hash
    keys = [r["key"] for r in rows(store)]
    assert keys[1].startswith("change:wemet:2026-06-01T10:00:00.000Z:") and len(set(keys)) == 2


def test_a_pending_alert_diffs_its_own_texts_under_their_new_numbers(tmp_path, smtp):
    config = load(tmp_path, email_table(smtp.port))
    store = changed(tmp_path, config)  # pending: version 1 -> 2
    reextracted(store, ["update versions set number = number + 10 where site = 'wemet'"])
    assert [r.state for r in deliver_pending(store, config)] == ["sent"]
    text = smtp.inbox.messages[0].get_body(("plain",)).get_content()
    assert "word by word" in text and "{+" in text and "data brokers" in text
    assert "monitor diff wemet --from 11 --to 12" in text


def test_a_pending_alert_whose_versions_are_gone_is_sent_from_its_payload(tmp_path, smtp):
    config = load(tmp_path, email_table(smtp.port))
    store = changed(tmp_path, config)  # pending: version 1 -> 2
    # version 1 is gone, 2 became 1, and another text is now 2
    reextracted(store, ["delete from versions where site = 'wemet' and number = 1",
                        "update versions set number = 1 where site = 'wemet'"])
    with store.transaction():
        store.add_version("wemet", edited("We keep your data for ten years."),
                          at="2026-01-09T10:00:00.000Z", snapshot=None, fetch_id=None)
    assert [r.state for r in deliver_pending(store, config)] == ["sent"]
    text = smtp.inbox.messages[0].get_body(("plain",)).get_content()
    assert "recipients" in text and "version 1 (2026-01-01 10:00)" in text  # from the payload
    assert "word by word" not in text and "ten years" not in text  # no diff, not a wrong one


# --- Apprise ---

def test_apprise_delivers_through_a_real_json_endpoint(tmp_path, hook):
    config = load(tmp_path, f'[alerts.apprise]\nurls = ["json://127.0.0.1:'
                            f'{hook.server_address[1]}/notify"]')
    store = changed(tmp_path, config)
    [result] = deliver_pending(store, config)
    assert result.state == "sent" and result.channel.startswith("apprise:json:")
    [message] = hook.delivered()
    assert message["title"] == "[policy change] wemet: Data recipients"
    assert "data brokers" in message["message"]


# --- policy ---

def test_categories_policy_and_per_site_channels(tmp_path, hook, smtp):
    config = load(tmp_path, '[alerts]\non = "categories"\ncategories = ["contact"]\n' + email_table(
        smtp.port) + f'[alerts.slack]\nwebhook_url = "{hook.url}"',
                  notify='notify = ["slack"]')
    store = changed(tmp_path, config)  # a recipients change: not in the categories asked
    assert rows(store) == []
    config = load(tmp_path, "[alerts]\n" + email_table(smtp.port)
                  + f'[alerts.slack]\nwebhook_url = "{hook.url}"', notify='notify = ["slack"]')
    store.close()
    (tmp_path / "monitor.db").unlink()
    store = changed(tmp_path, config)
    assert [r["channel"] for r in rows(store)] == ["slack"]


def test_a_page_flipping_between_variants_alerts_once(tmp_path, hook):
    config = slack_config(tmp_path, hook)
    store = changed(tmp_path, config)  # WEMET, then the variant with a new recipient
    variant = edited(SHARE)
    for hour, text in enumerate([WEMET, variant, WEMET, variant, WEMET], 11):
        outcome = fetch(store, config, text, f"2026-01-08T{hour}:00:00.000Z")
        assert outcome.change and outcome.change.restores is not None
    assert [r["state"] for r in rows(store)] == ["pending"] + ["skipped"] * 5
    assert "flapping" in rows(store)[1]["last_error"]
    assert len(deliver_pending(store, config)) == 1


def test_a_real_revert_after_the_newer_text_was_stable_alerts_once(tmp_path, hook):
    config = slack_config(tmp_path, hook)
    store = changed(tmp_path, config)  # data brokers added on Jan 8
    for day in ("09", "10"):  # the new text stands for two days
        assert fetch(store, config, edited(SHARE), f"2026-01-{day}T10:00:00.000Z").outcome == \
            "same"
    back = fetch(store, config, WEMET, "2026-01-11T10:00:00.000Z")  # removed again
    assert back.change and back.change.restores == 1 and back.change.major
    assert [r["state"] for r in rows(store)] == ["pending", "pending"]
    deliver_pending(store, config)
    assert len(hook.delivered()) == 2
    # and flipping on from there stays quiet: each text was alerted once already
    fetch(store, config, edited(SHARE), "2026-01-11T11:00:00.000Z")
    fetch(store, config, WEMET, "2026-01-11T12:00:00.000Z")
    assert [r["state"] for r in rows(store)] == ["sent", "sent", "skipped", "skipped"]


def test_fetch_trouble_alerts_once_then_recovery_once(tmp_path, hook):
    config = slack_config(tmp_path, hook)
    store = open_store(tmp_path, config)
    fetch(store, config, WEMET, "2026-01-01T10:00:00.000Z")
    for day in range(2, 7):
        fetch(store, config, None, f"2026-01-0{day}T10:00:00.000Z", error="Connection refused")
        assert len(rows(store)) == (1 if day >= 4 else 0)
    store.close()
    store = Store(tmp_path / "monitor.db")  # a restart: state comes from the database
    fetch(store, config, WEMET, "2026-01-07T10:00:00.000Z")
    fetch(store, config, WEMET, "2026-01-08T10:00:00.000Z")
    assert [r["kind"] for r in rows(store)] == ["down", "recovered"]
    deliver_pending(store, config)
    titles = [m["blocks"][0]["text"]["text"] for m in hook.delivered()]
    assert titles == ["wemet: cannot fetch the policy", "wemet: fetching works again"]
    assert "3 times in a row" in json.dumps(hook.delivered())


# --- the real command ---

def alert_config(server_url: str, smtp_port: int, hook: Receiver) -> str:
    return (f'[[sites]]\nname = "wemet"\nurl = "{server_url}/privacy"\n\n' + email_table(smtp_port)
            + f'[alerts.slack]\nwebhook_url = "{hook.url}/services/T0/B0"\n')


def test_a_crawl_that_finds_a_new_recipient_sends_one_mail_and_one_post(server, monitor, smtp,
                                                                         hook):
    server.site["/privacy"] = Page(text=WEMET)
    monitor.config.write_text(alert_config(server.url, smtp.port, hook))
    monitor.crawl()
    assert smtp.inbox.messages == [] and hook.posts == []
    server.site["/privacy"] = Page(text=edited(SHARE))
    monitor.crawl()
    monitor.crawl()
    [mail] = smtp.inbox.messages
    assert "recipients" in mail["Subject"]
    [post] = hook.delivered()
    assert "recipients" in json.dumps(post)
    listed = json.loads(monitor("alerts", "--json").stdout)
    assert [(a["channel"], a["state"]) for a in listed] == [("slack", "sent"), ("email", "sent")]
    assert "sent" in monitor("alerts").stdout


def test_three_failed_crawls_alert_once_and_recovery_once(server, monitor, hook):
    server.site["/privacy"] = Page(text=WEMET)
    monitor.config.write_text(f'[[sites]]\nname = "wemet"\nurl = "{server.url}/privacy"\n\n'
                              f'[alerts.slack]\nwebhook_url = "{hook.url}/hook"\n')
    monitor.crawl()
    server.site["/privacy"] = Page(status=404, text="gone")
    for _ in range(3):
        monitor.crawl(check=3)
    server.site["/privacy"] = Page(text=WEMET)
    monitor.crawl()
    kinds = [m["blocks"][0]["text"]["text"] for m in hook.delivered()]
    assert kinds == ["wemet: cannot fetch the policy", "wemet: fetching works again"]


def test_alerts_test_reports_each_channel_and_exits_non_zero_on_failure(monitor, smtp,
                                                                        monkeypatch):
    with Receiver(replies=[(500, {})]) as hook:
        monkeypatch.setenv("HOOK_TOKEN", SECRET)
        monitor.config.write_text(
            '[[sites]]\nname = "wemet"\nurl = "https://wemet.example/privacy"\n\n'
            + email_table(smtp.port)
            + f'[alerts.slack]\nwebhook_url = "{hook.url}/services/${{HOOK_TOKEN}}"\n')
        ok = monitor("alerts", "test", "email")
        assert "email: test sent" in ok.stdout and len(smtp.inbox.messages) == 1
        assert smtp.inbox.messages[0]["Subject"] == "[policy monitor] test message"
        bad = monitor("alerts", "test", "slack", check=1)
        assert "HTTP 500" in bad.stderr and SECRET not in bad.stderr + bad.stdout
        assert hook.posts[0][0] == f"/services/{SECRET}"
        listed = monitor("alerts").stdout
        assert "failed" in listed and SECRET not in listed
        conn = sqlite3.connect(monitor.db)
        assert SECRET not in json.dumps(conn.execute("select * from alerts").fetchall())
