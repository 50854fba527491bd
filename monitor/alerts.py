"""Alerts: plan them with the change they are about, deliver them later, each exactly where due.

Planning (`Alerts.on_change`, `Alerts.on_fetch`) runs inside the transaction that records the
change or the fetch, and only inserts rows into the `alerts` outbox: one row a change (or fetch
trouble episode) and channel, its `key` unique, so nothing is planned twice.

Delivery (`deliver_pending`, after each crawl and in the daemon) claims a row in its own
committed transaction (state `sending`, attempt counted) before it sends, then records the
outcome:

    pending ──claim──► sending ──sent──► sent
       ▲                  │
       └── transient ─────┤ (backoff 1 min doubling to 4 h, or the channel's Retry-After)
                          └── refused, or retried ≥ 8 times and ≥ 24 h ──► failed
    skipped: a change that restores a version seen in the last 30 days (a flapping page)

A change's key names the site, the time of the fetch that recorded the new text, and that text's
hash: `monitor reextract` renumbers versions and rebuilds changes (new rowids), but keeps fetch
times, so a later change never reuses an old key, and the same change always gets the same one.
Its payload carries everything rendering needs; the word diff is read from the versions with
the payload's text hashes, whatever their numbers are by then.

A row left in `sending` by a crash may or may not have gone out. E-mail is sent again (its
Message-ID comes from the key, so mail clients show it once: at-least-once); a webhook or
Apprise row becomes `failed` with that explanation (at-most-once: never a duplicate post).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from monitor.clock import parse_time, stamp
from monitor.config import Config, Site
from monitor.errors import AlertError, ConfigError, StoreError, TransientAlertError
from monitor.store import Store, Version
from monitor.store import now as now_text

log = logging.getLogger(__name__)

KEYS = {"on", "categories", "failures", "email", "slack", "apprise"}
CHANNEL_KEYS = {"email": {"smtp_url", "from", "to"}, "slack": {"webhook_url"},
                "apprise": {"urls"}}
FLAPPING = timedelta(days=30)
MAX_ATTEMPTS = 8
MIN_WINDOW = timedelta(hours=24)
FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=4)
LEASE = timedelta(minutes=15)  # longer than any send's timeouts: a 'sending' row older is stale
MAX_STORED_FINDINGS = 50


# --- configuration ---

@dataclass(frozen=True)
class Policy:
    """Which changes are alerted, and after how many failed fetches."""

    on: str = "major"  # major | any | categories
    categories: tuple[str, ...] = ()
    failures: int = 3

    def wants(self, change: dict[str, Any]) -> bool:
        if self.on == "any":
            return True
        if self.on == "categories":
            return bool(set(change.get("categories") or []) & set(self.categories))
        return change.get("major") is True


def check_config(config: Config) -> None:
    """Check `[alerts]` at load time: a bad key fails with the file and `alerts.x.y`."""
    raw, file = config.alerts, str(config.path)
    for key in raw:
        if key not in KEYS:
            raise ConfigError(f"unknown key (allowed: {', '.join(sorted(KEYS))})", file=file,
                              key=f"alerts.{key}")
    policy_of(raw, file)
    for name in CHANNEL_KEYS:
        if name in raw:
            check_channel(name, raw[name], file)
    configured = {"email", "slack", "apprise"} & set(raw)
    for site in config.sites:
        for name in site.notify or ():
            if name not in configured:
                raise ConfigError(f"channel '{name}' has no [alerts.{name}] table", file=file,
                                  site=site.name, key="notify")


def policy_of(raw: dict[str, Any], file: str = "") -> Policy:
    categories = raw.get("categories", [])
    on = raw.get("on", "categories" if categories else "major")
    if on not in ("major", "any", "categories"):
        raise ConfigError('must be "major", "any" or "categories"', file=file, key="alerts.on")
    if categories or on == "categories":
        check_categories(categories, on, file)
    failures = raw.get("failures", 3)
    if isinstance(failures, bool) or not isinstance(failures, int) or failures < 1:
        raise ConfigError("must be a whole number, 1 or more", file=file, key="alerts.failures")
    return Policy(on=on, categories=tuple(categories), failures=failures)


def check_categories(categories: Any, on: str, file: str) -> None:
    from monitor.classifier import CATEGORIES  # only here: the classifier is slower to import

    if on != "categories" or not isinstance(categories, list) or not categories \
            or any(c not in CATEGORIES for c in categories):
        raise ConfigError(f'with on = "categories", a list of: {", ".join(CATEGORIES)}',
                          file=file, key="alerts.categories")


def check_channel(name: str, table: Any, file: str) -> None:
    prefix = f"alerts.{name}"
    if not isinstance(table, dict):
        raise ConfigError("must be a table", file=file, key=prefix)
    for key in table:
        if key not in CHANNEL_KEYS[name]:
            raise ConfigError(f"unknown key (allowed: {', '.join(sorted(CHANNEL_KEYS[name]))})",
                              file=file, key=f"{prefix}.{key}")
    for key in sorted(CHANNEL_KEYS[name]):
        value = table.get(key)
        many = key in ("to", "urls")
        if isinstance(value, str) and many:
            value = [value]
        if not (isinstance(value, str) and value) and not (
                many and isinstance(value, list) and value
                and all(isinstance(v, str) and v for v in value)):
            wanted = "a string or a list of strings" if many else "a string"
            raise ConfigError(f"missing or not {wanted}", file=file, key=f"{prefix}.{key}")
    schemes = {"smtp_url": ("smtp", "smtps"), "webhook_url": ("http", "https")}
    for key, allowed in schemes.items():
        if key in table:
            check_scheme(table[key], allowed, file=file, key=f"{prefix}.{key}")


def check_scheme(value: str, allowed: tuple[str, ...], *, file: str, key: str) -> None:
    """A URL with one of the `allowed` schemes (a value that is all `${VAR}` is checked later)."""
    if value.startswith("${") and value.endswith("}"):
        return
    parts = urlsplit(value)
    if parts.scheme not in allowed or not parts.netloc:
        # the value itself may hold a secret: name only what is wrong
        raise ConfigError(f"must be a {' or '.join(s + '://' for s in allowed)} URL",
                          file=file, key=key)


# --- planning, inside the transaction that records the change or the fetch ---

class Alerts:
    """The `Alerting` that `track` calls: plans outbox rows, never sends, never commits."""

    def __init__(self, config: Config) -> None:
        from monitor.channels import channel_names

        self.policy = policy_of(config.alerts, str(config.path))
        self.channels = channel_names(config.alerts)

    def channels_for(self, site: Site) -> list[str]:
        if site.notify is None:
            return self.channels
        return [c for c in self.channels if c.split(":")[0] in site.notify]

    def on_change(self, store: Store, site: Site, change_id: int,
                  change: dict[str, Any]) -> None:
        channels = self.channels_for(site)
        if not channels or not self.policy.wants(change):
            return
        payload = change_payload(store, site, change_id, change)
        flapping = flaps(store, site.name, change.get("restores"), payload["to_date"])
        for channel in channels:
            plan(store, change_key(payload, channel), site.name, channel, "change", payload,
                 change_id=change_id, skipped=flapping)

    def on_fetch(self, store: Store, site: Site, ok: bool, error: str | None) -> None:
        channels = self.channels_for(site)
        if not channels:
            return
        if ok:
            plan_recovered(store, site)
            return
        streak = store.failure_streak(site.name)
        if streak < self.policy.failures:
            return
        first = store.conn.execute("select id, at from fetches where site = ? order by id desc "
                                   "limit 1 offset ?", [site.name, streak - 1]).fetchone()
        if first is None:
            return
        payload = {"site": site.name, "url": site.url, "failures": streak, "episode": first["id"],
                   "since": first["at"], "error": error}
        for channel in channels:
            plan(store, f"down:{site.name}:{first['id']}:{channel}", site.name, channel, "down",
                 payload)


def change_key(payload: dict[str, Any], channel: str) -> str:
    """Unique to one change event and stable for it: the time of the fetch that recorded the
    new text and that text's hash (version numbers and rowids are reused after a reextract)."""
    return f"change:{payload['site']}:{payload['at']}:{payload['hash']}:{channel}"


def change_payload(store: Store, site: Site, change_id: int,
                   change: dict[str, Any]) -> dict[str, Any]:
    """What rendering needs, and nothing secret: the message never reads the change row."""
    row = store.conn.execute("select from_version, to_version, at from changes where id = ?",
                             [change_id]).fetchone()
    versions = {r["number"]: r for r in store.query(
        "select number, hash, first_seen from versions where site = ? and number in (?, ?)",
        [site.name, row["from_version"], row["to_version"]])}
    before, after = versions.get(row["from_version"]), versions.get(row["to_version"])
    findings = change.get("findings") or []
    return {"site": site.name, "url": site.url, "change": change_id, "at": row["at"],
            "from_version": row["from_version"], "to_version": row["to_version"],
            "from_date": before["first_seen"] if before else None,
            "to_date": after["first_seen"] if after else None,
            "from_hash": before["hash"] if before else None,
            "to_hash": after["hash"] if after else None,
            "hash": after["hash"][:12] if after else "", "major": change.get("major"),
            "categories": change.get("categories") or [],
            "findings": findings[:MAX_STORED_FINDINGS], "findings_total": len(findings),
            "restores": change.get("restores")}


def flaps(store: Store, site: str, restores: int | None, at: str | None) -> bool:
    """True when the new text is an earlier version's, seen within `FLAPPING` of this change:
    a page that alternates between variants (A/B tests, regional copies), not a new policy."""
    if restores is None:
        return False
    row = store.conn.execute("select last_seen from versions where site = ? and number = ?",
                             [site, restores]).fetchone()
    if row is None or not row["last_seen"]:
        return False
    return parse_time(at or now_text()) - parse_time(row["last_seen"]) <= FLAPPING


def plan_recovered(store: Store, site: Site) -> None:
    """After a 'cannot fetch' alert, one 'recovered' to the same channels."""
    down = store.conn.execute("select payload from alerts where site = ? and kind = 'down' "
                              "order by id desc limit 1", [site.name]).fetchone()
    if down is None:
        return
    episode = json.loads(down["payload"])
    prefix = f"down:{site.name}:{episode['episode']}:"
    rows = store.query("select channel from alerts where kind = 'down' and "
                       "substr(key, 1, ?) = ?", [len(prefix), prefix])
    payload = {**episode, "at": now_text()}
    for row in rows:
        plan(store, f"recovered:{site.name}:{episode['episode']}:{row['channel']}", site.name,
             row["channel"], "recovered", payload)


def plan(store: Store, key: str, site: str | None, channel: str, kind: str,
         payload: dict[str, Any], *, change_id: int | None = None,
         skipped: bool = False) -> int | None:
    """One outbox row, unless its key is there already; its id when it is new."""
    now = now_text()
    cursor = store.conn.execute(
        "insert or ignore into alerts (key, site, change, channel, kind, payload, state, "
        "attempts, created_at, next_try_at, last_error) values (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)",
        [key, site, change_id, channel, kind, json.dumps(payload, ensure_ascii=False),
         "skipped" if skipped else "pending", now, now,
         "restores a version seen in the last 30 days (page flapping)" if skipped else None])
    return cursor.lastrowid if cursor.rowcount == 1 else None


def alerting_for(config: Config) -> Alerts | None:
    """The planner for `config`, or None when no `[alerts.*]` channel is configured."""
    if not any(name in config.alerts for name in CHANNEL_KEYS):
        return None
    return Alerts(config)


def plan_tests(store: Store, config: Config, channel: str | None) -> list[int]:
    """Test rows for `channel` (every channel when None); their ids, for `deliver_pending`."""
    from monitor.channels import channel_names

    names = [n for n in channel_names(config.alerts)
             if channel is None or n == channel or n.split(":")[0] == channel]
    known = ", ".join(channel_names(config.alerts))
    if not known:
        raise AlertError("no alert channel: add [alerts.email], [alerts.slack] or "
                         f"[alerts.apprise] to {config.path}")
    if not names:
        raise AlertError(f"no channel '{channel}' (known: {known})")
    now = now_text()
    with store.transaction():
        ids = [plan(store, f"test:{name}:{now}:{uuid.uuid4().hex[:8]}", None, name, "test",
                    {"channel": name, "at": now}) for name in names]
    return [i for i in ids if i is not None]


# --- delivery ---

@dataclass(frozen=True)
class Delivery:
    """What one delivery attempt of one outbox row came to."""

    id: int
    key: str
    site: str | None
    channel: str
    kind: str
    state: str  # sent | pending (will retry) | failed
    attempts: int
    error: str | None = None


def deliver_pending(store: Store, config: Config, *, now: datetime | None = None,
                    only: Collection[int] | None = None) -> list[Delivery]:
    """Send every due pending alert (or those in `only`); return what each attempt came to.

    `now` (the current time by default) picks the rows that are due; each claim, lease and
    outcome is timed when it happens, `now` plus the time this pass has taken: a pass sending
    many rows must not let another process take a row as stale while it is being sent.
    A channel that fails transiently is not tried again in this run for its other rows."""
    from monitor.channels import secrets

    started = datetime.now(UTC)
    moment = now or started

    def clock() -> datetime:
        return moment + (datetime.now(UTC) - started)

    hidden = secrets(config.alerts)
    reclaim(store, moment)
    results: list[Delivery] = []
    down: set[str] = set()
    for row in due(store, moment, only):
        if row["channel"] in down or not claim(store, row["id"], clock()):
            continue
        result = attempt(store, config, dict(row), clock, hidden)
        if result.state == "pending":
            down.add(row["channel"])
        results.append(result)
    return results


def due(store: Store, now: datetime, only: Collection[int] | None) -> list[Any]:
    rows = store.query("select * from alerts where state = 'pending' and (next_try_at is null "
                       "or next_try_at <= ?) order by id", [stamp(now)])
    return [r for r in rows if only is None or r["id"] in only]


def claim(store: Store, alert_id: int, now: datetime) -> bool:
    """Mark the row as being sent, in its own committed transaction, before sending it."""
    with store.transaction():
        cursor = store.conn.execute(
            "update alerts set state = 'sending', attempts = attempts + 1, next_try_at = ? "
            "where id = ? and state = 'pending'", [stamp(now + LEASE), alert_id])
    return cursor.rowcount == 1


def reclaim(store: Store, now: datetime) -> None:
    """Rows a crashed sender left in 'sending': e-mail again, anything else given up."""
    with store.transaction():
        store.conn.execute(
            "update alerts set state = 'pending', next_try_at = ?, last_error = 'interrupted "
            "while sending; sent again with the same Message-ID' where state = 'sending' and "
            "next_try_at < ? and channel = 'email'", [stamp(now), stamp(now)])
        store.conn.execute(
            "update alerts set state = 'failed', last_error = 'interrupted while sending: it "
            "may or may not have arrived, and is not sent twice' where state = 'sending' and "
            "next_try_at < ?", [stamp(now)])


def attempt(store: Store, config: Config, row: dict[str, Any], clock: Callable[[], datetime],
            hidden: list[str]) -> Delivery:
    """Render and send one claimed row, then record the outcome (timed by `clock`)."""
    from monitor.channels import Throttled, open_channel, redact

    retry_after: float | None = None
    try:
        channel = open_channel(row["channel"], config.alerts)
        channel.send(message_for(store, row))
        error, state = None, "sent"
    except Throttled as e:
        error, state, retry_after = str(e), "pending", e.retry_after
    except TransientAlertError as e:
        error, state = str(e), "pending"
    except AlertError as e:
        error, state = str(e), "failed"
    except Exception as e:  # a bug in rendering must not stop the other alerts
        log.exception("alert %s", row["id"])
        error, state = f"internal error: {e!r}", "pending"
    if error is not None:
        error = redact(error, hidden)[:500]
    now = clock()
    if state == "pending" and gives_up(row, now):
        state = "failed"
    record(store, row["id"], state, error, now, backoff(row["attempts"] + 1, retry_after))
    return Delivery(id=row["id"], key=row["key"], site=row["site"], channel=row["channel"],
                    kind=row["kind"], state=state, attempts=row["attempts"] + 1, error=error)


def message_for(store: Store, row: dict[str, Any]) -> Any:
    """The rendered message. A change's word diff is read from the two stored versions with
    the payload's text hashes, under the numbers they have now (a reextract may renumber
    them); when either is gone, the message is rendered from the payload alone."""
    from monitor.message import changed_places, render

    payload = json.loads(row["payload"])
    places = None
    if row["kind"] == "change":
        before = stored_version(store, payload, "from")
        after = stored_version(store, payload, "to")
        if before is None or after is None:  # the findings still tell the story
            log.warning("alert %s: no word diff, its versions are no longer stored", row["id"])
        else:
            places = changed_places(before.text, after.text)
            payload = {**payload, "from_version": before.number, "to_version": after.number}
    return render(row["key"], row["kind"], payload, places)


def stored_version(store: Store, payload: dict[str, Any], side: str) -> Version | None:
    """The version of `payload`'s change on `side` ('from' or 'to') that holds the same text,
    or None. Payloads planned before text hashes were kept are matched by number, and by
    the 12-character hash of the 'to' side."""
    site, text_hash = payload["site"], payload.get(f"{side}_hash")
    if text_hash:
        number = store.find_text(site, text_hash)
        return None if number is None else store.version(site, number)
    try:
        version = store.version(site, payload[f"{side}_version"])
    except StoreError:
        return None
    if side == "to" and not version.hash.startswith(payload.get("hash") or "-"):
        return None
    return version


def gives_up(row: dict[str, Any], now: datetime) -> bool:
    """Tests are tried once; alerts at least `MAX_ATTEMPTS` times and for `MIN_WINDOW`."""
    if row["kind"] == "test":
        return True
    age = now - parse_time(row["created_at"])
    return row["attempts"] + 1 >= MAX_ATTEMPTS and age >= MIN_WINDOW


def backoff(attempts: int, retry_after: float | None) -> timedelta:
    wait = min(FIRST_BACKOFF * 2 ** (attempts - 1), MAX_BACKOFF)
    return max(wait, timedelta(seconds=retry_after or 0))


def record(store: Store, alert_id: int, state: str, error: str | None, now: datetime,
           wait: timedelta) -> None:
    with store.transaction():
        store.conn.execute(
            "update alerts set state = ?, last_error = ?, sent_at = ?, next_try_at = ? "
            "where id = ?", [state, error, stamp(now) if state == "sent" else None,
                             stamp(now + wait) if state == "pending" else None, alert_id])

