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
    skipped: a return to an earlier text that is page flapping, not a revert (see `returns`)

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

from monitor.clock import parse_time, stamp
from monitor.config import Config, Site
from monitor.errors import AlertError, StoreError, TransientAlertError
from monitor.records import Change, ChangeNotice
from monitor.store import Store, Version
from monitor.store import now as now_text

log = logging.getLogger(__name__)

# A return to an earlier text is a revert, alerted, only when the text it leaves was stable:
# seen on at least STABLE_FETCHES fetches spanning at least STABLE_HOURS. And a text is alerted
# as the destination of a change at most once within ALERTED_WINDOW (variants that alternate).
STABLE_FETCHES = 3
STABLE_HOURS = 24.0
ALERTED_WINDOW = timedelta(days=30)
MAX_ATTEMPTS = 8
MIN_WINDOW = timedelta(hours=24)
FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=4)
LEASE = timedelta(minutes=15)  # longer than any send's timeouts: a 'sending' row older is stale
MAX_STORED_FINDINGS = 50


# --- planning, inside the transaction that records the change or the fetch ---

class Alerts:
    """The `Alerting` that `track` calls: plans outbox rows, never sends, never commits."""

    def __init__(self, config: Config) -> None:
        from monitor.channels import channel_names

        self.settings = config.alerts
        self.serve = config.serve
        self.channels = channel_names(config.alerts.channels)

    def channels_for(self, site: Site) -> list[str]:
        if site.notify is None:
            return self.channels
        return [c for c in self.channels if c.split(":")[0] in site.notify]

    def on_change(self, store: Store, site: Site, change: Change) -> None:
        channels = self.channels_for(site)
        if not channels or not self.settings.wants(change.major, change.categories):
            return
        payload = change_payload(store, site, change,
                                 link=self.serve.change_url(site.name, change.to_version))
        quiet = returns(store, change, payload["to_hash"])
        for channel in channels:
            plan(store, change_key(payload, channel), site.name, channel, "change", payload,
                 change_id=change.id, skipped_because=quiet)

    def on_fetch(self, store: Store, site: Site, ok: bool, error: str | None) -> None:
        channels = self.channels_for(site)
        if not channels:
            return
        if ok:
            plan_recovered(store, site)
            return
        streak = store.failure_streak(site.name)
        if streak < self.settings.failures:
            return
        first = store.failure_start(site.name, streak)
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


def change_payload(store: Store, site: Site, change: Change,
                   link: str | None = None) -> dict[str, Any]:
    """What rendering needs, and nothing secret: the message never reads the change row.
    `link`: the change's page in `monitor serve` (`[serve] base_url`), when configured."""
    before = store.version_row(site.name, change.from_version)
    after = store.version_row(site.name, change.to_version)
    c = change.classification
    return ChangeNotice(
        site=site.name, url=site.url, at=change.at, change=change.id,
        from_version=change.from_version, to_version=change.to_version,
        from_date=before["first_seen"] if before else None,
        to_date=after["first_seen"] if after else None,
        from_hash=before["hash"] if before else None, to_hash=after["hash"] if after else None,
        major=change.major, categories=change.categories,
        findings=change.findings[:MAX_STORED_FINDINGS], findings_total=len(change.findings),
        restores=change.restores, classifier=c.classifier if c else None,
        classifier_version=c.classifier_version if c else None,
        incomplete=c.incomplete if c else False, link=link).to_json()


def returns(store: Store, change: Change, to_hash: str | None) -> str | None:
    """Why a change back to an earlier text is not alerted, or None when it is.

    Pages that alternate between variants (A/B tests, regional copies) return to earlier texts
    all the time; a real revert (data brokers added, then removed a week later) must still be
    told. So a return is alerted once the text it leaves was stable (seen on STABLE_FETCHES
    fetches over STABLE_HOURS), and a text is alerted as the outcome of a change at most once
    within ALERTED_WINDOW: a page flipping between two variants alerts at most once per text."""
    if change.restores is None or not to_hash:
        return None
    fetches, hours = store.version_span(change.site, change.from_version)
    if fetches < STABLE_FETCHES or hours < STABLE_HOURS:
        return (f"back to the text of version {change.restores} after {fetches} fetch(es) over "
                f"{hours:.0f} h of the other: page variants flapping, not a revert")
    since = stamp(parse_time(change.at) - ALERTED_WINDOW)
    if store.outbox.alerted_text(change.site, to_hash, since):
        return (f"back to the text of version {change.restores}, already alerted in the last "
                f"{ALERTED_WINDOW.days} days")
    return None


def plan_recovered(store: Store, site: Site) -> None:
    """After a 'cannot fetch' alert, one 'recovered' to the same channels."""
    episode = store.outbox.last_payload(site.name, "down")
    if episode is None:
        return
    prefix = f"down:{site.name}:{episode['episode']}:"
    payload = {**episode, "at": now_text()}
    for channel in store.outbox.channels_with_prefix("down", prefix):
        plan(store, f"recovered:{site.name}:{episode['episode']}:{channel}", site.name,
             channel, "recovered", payload)


def plan(store: Store, key: str, site: str | None, channel: str, kind: str,
         payload: dict[str, Any], *, change_id: int | None = None,
         skipped_because: str | None = None) -> int | None:
    """One outbox row, unless its key is there already; its id when it is new."""
    return store.outbox.plan(key, site, channel, kind, payload, at=now_text(),
                             change_id=change_id, skipped_because=skipped_because)


def alerting_for(config: Config) -> Alerts | None:
    """The planner for `config`, or None when no `[alerts.*]` channel is configured."""
    if not config.alerts.channels:
        return None
    return Alerts(config)


def plan_tests(store: Store, config: Config, channel: str | None) -> list[int]:
    """Test rows for `channel` (every channel when None); their ids, for `deliver_pending`."""
    from monitor.channels import channel_names

    names = [n for n in channel_names(config.alerts.channels)
             if channel is None or n == channel or n.split(":")[0] == channel]
    known = ", ".join(channel_names(config.alerts.channels))
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
    Channels are sent to side by side, each its rows in order: a webhook that hangs holds up
    its own rows only. A channel that fails transiently is not tried again in this run for its
    other rows."""
    from monitor.channels import secrets

    started = datetime.now(UTC)
    moment = now or started

    def clock() -> datetime:
        return moment + (datetime.now(UTC) - started)

    hidden = secrets(config.alerts.channels)
    given_up = reclaim(store, moment)
    if given_up:
        log.warning("%d alert(s) interrupted while sending marked failed: they may or may not "
                    "have arrived, and are not sent twice (see `monitor alerts`)", given_up)
    queues: dict[str, list[dict[str, Any]]] = {}
    for row in due(store, moment, only):
        queues.setdefault(row["channel"], []).append(dict(row))
    return sorted(send_side_by_side(store, config, queues, clock, hidden), key=lambda d: d.id)


def send_side_by_side(store: Store, config: Config, queues: dict[str, list[dict[str, Any]]],
                      clock: Callable[[], datetime], hidden: list[str]) -> list[Delivery]:
    """Send each channel's queue of rows in order, the channels in threads of their own. Only
    this thread touches the store (claims, rendering, outcomes); the others only send."""
    from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

    results: list[Delivery] = []
    running: dict[Future[None], dict[str, Any]] = {}

    def conclude(row: dict[str, Any], error: BaseException | None) -> None:
        result = outcome(store, row, error, clock, hidden)
        results.append(result)
        if result.state == "pending":
            queues[row["channel"]].clear()  # down: its other rows wait for the next run

    def start_next(pool: ThreadPoolExecutor, name: str) -> None:
        while queues[name]:
            row = queues[name].pop(0)
            if not claim(store, row["id"], clock()):
                continue
            try:
                channel = open_channel_for(config, row)
                message = message_for(store, row)
            except Exception as e:
                conclude(row, e)
                continue
            running[pool.submit(channel.send, message)] = row
            return

    with ThreadPoolExecutor(max_workers=max(1, len(queues)),
                            thread_name_prefix="alert") as pool:
        for name in queues:
            start_next(pool, name)
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                row = running.pop(future)
                conclude(row, future.exception())
                start_next(pool, row["channel"])
    return results


def due(store: Store, now: datetime, only: Collection[int] | None) -> list[Any]:
    return [r for r in store.outbox.due(stamp(now)) if only is None or r["id"] in only]


def claim(store: Store, alert_id: int, now: datetime) -> bool:
    """Mark the row as being sent, in its own committed transaction, before sending it."""
    return store.outbox.claim(alert_id, stamp(now + LEASE))


def reclaim(store: Store, now: datetime) -> int:
    """Rows a crashed sender left in 'sending': e-mail again, anything else given up."""
    return store.outbox.reclaim(stamp(now))


def open_channel_for(config: Config, row: dict[str, Any]) -> Any:
    from monitor.channels import open_channel

    return open_channel(row["channel"], config.alerts.channels)


def outcome(store: Store, row: dict[str, Any], failure: BaseException | None,
            clock: Callable[[], datetime], hidden: list[str]) -> Delivery:
    """Record what sending one claimed row came to (`failure`: what it raised, if anything),
    timed by `clock`."""
    from monitor.channels import Throttled, redact

    retry_after: float | None = None
    error: str | None = None
    state = "sent"
    if isinstance(failure, Throttled):
        error, state, retry_after = str(failure), "pending", failure.retry_after
    elif isinstance(failure, TransientAlertError):
        error, state = str(failure), "pending"
    elif isinstance(failure, AlertError):
        error, state = str(failure), "failed"
    elif failure is not None:  # a bug in rendering must not stop the other alerts
        log.error("alert %s", row["id"], exc_info=failure)
        error, state = f"internal error: {failure!r}", "pending"
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
    store.outbox.record(alert_id, state, error, sent_at=stamp(now) if state == "sent" else None,
                        next_try_at=stamp(now + wait) if state == "pending" else None)
