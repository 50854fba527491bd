"""The whole flow for one fetched page, in one screen: `track`.

fetched page -> snapshot -> extract -> plausible? -> new version? -> classify -> change + alerts

The crawler hands over a `Fetched`; everything it becomes (a failed fetch, a suspect page, an
unchanged page, or a new version with its classified change and its alerts) is recorded here,
each in one transaction, so a crash leaves either all of it or none of it. The work is in two
steps: `prepare` reads, extracts and classifies without the write lock (it may take a while);
`commit` writes under it, in a short transaction. `track_many` prepares a batch and commits it
in one transaction (the crawl's writer thread, crawler/pipelines.py).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from monitor.config import Site
from monitor.errors import ExtractError, StoreError
from monitor.records import Change, Classification, Fetched, Outcome
from monitor.store import FetchRecord, Store, Version, digest

__all__ = ["Alerting", "Fetched", "Outcome", "track", "track_many", "record"]

log = logging.getLogger(__name__)


class Alerting(Protocol):
    """Plans alerts inside the transaction that records what they are about (see alerts.py)."""

    def on_change(self, store: Store, site: Site, change: Change) -> None: ...

    def on_fetch(self, store: Store, site: Site, ok: bool, error: str | None) -> None: ...


def track(store: Store, site: Site, fetched: Fetched, alerting: Alerting | None = None,
          classifier: str | None = None) -> Outcome:
    """Record one fetch of `site` and whatever it changed (judged by the `classifier`
    backend, default the configured one)."""
    for _ in range(RETRIES):
        step = prepare(store, site, fetched, classifier)
        with store.transaction():
            outcome = commit(store, step, alerting)
        if outcome is not None:
            return outcome
    raise StoreError(f"{site.name}: the newest version kept changing under this crawl")


def track_many(store: Store, fetches: list[tuple[Site, Fetched]],
               alerting: Alerting | None = None, classifier: str | None = None,
               failed: Callable[[Site, Fetched, Exception], Outcome] | None = None,
               ) -> list[Outcome]:
    """`track` for a batch of fetches (of different sites): each is read, extracted and judged
    without the write lock, then all are written in one short transaction, each in its own
    savepoint. One that fails is handed to `failed` (default: raised); one whose site got a
    newer version meanwhile (another crawl) is tracked again on its own."""
    steps: list[Step | Exception] = []
    for site, fetched in fetches:
        try:
            steps.append(prepare(store, site, fetched, classifier))
        except Exception as e:  # noqa: BLE001 (handed to `failed`, per site)
            steps.append(e)
    outcomes: list[Outcome | Exception | None] = []
    with store.transaction():
        for step in steps:
            if isinstance(step, Exception):
                outcomes.append(step)
                continue
            try:
                with store.transaction():  # a savepoint: one site's bug undoes its own writes
                    outcomes.append(commit(store, step, alerting))
            except Exception as e:  # noqa: BLE001
                outcomes.append(e)
    done: list[Outcome] = []
    for (site, fetched), outcome in zip(fetches, outcomes, strict=True):
        try:
            if isinstance(outcome, Exception):
                raise outcome
            done.append(outcome or track(store, site, fetched, alerting, classifier))
        except Exception as e:
            if failed is None:
                raise
            done.append(failed(site, fetched, e))
    return done


@dataclass
class Step:
    """What one fetch is to become, worked out without the write lock (reads, extraction,
    judging) and written under it by `commit`: a fetch log entry (`outcome` other than "new")
    or a new version (`text`, judged against the version whose hash is `base`)."""

    site: Site
    fetched: Fetched
    outcome: str
    detail: str | None = None
    number: int | None = None
    text_hash: str | None = None
    text: str | None = None
    rules: str | None = None
    base: str | None = None
    base_number: int | None = None
    verdict: tuple[Classification, bool] | None = None
    adopt: str | None = None  # new extraction rules the unchanged version stands under now


def prepare(store: Store, site: Site, fetched: Fetched, classifier: str | None) -> Step:
    """Read what the store knows of `site`, extract and judge `fetched`; write nothing."""
    newest = store.newest_number(site.name)  # no text read for a fetch that got no page
    trouble = fetch_trouble(fetched, has_version=newest is not None)
    if trouble:
        outcome, detail = trouble
        return Step(site, fetched, outcome, detail,
                    number=newest if outcome == "not_modified" else None)
    latest = store.latest(site.name)
    rules = fingerprint(site)
    last = store.last_good_fetch(site.name)
    same_rules = latest is not None and latest.rules == rules  # unknown (None) is not the same
    if latest and same_rules and last and last["snapshot"] == digest(fetched.body):
        return Step(site, fetched, "same", number=latest.number)
    try:
        text = extract_text(site, fetched)
    except ExtractError as e:
        return Step(site, fetched, "suspect", acting(str(e), site))
    text_hash = digest(text.encode("utf-8"))
    reason = implausible(store, fetched, text, text_hash, latest)
    if reason:
        return Step(site, fetched, "suspect", acting(reason, site), text_hash=text_hash)
    if latest and text_hash == latest.hash:
        return Step(site, fetched, "same", number=latest.number,
                    adopt=rules if latest.rules != rules else None)
    verdict = judge(store, site, latest, text, rules, classifier) if latest else None
    return Step(site, fetched, "new", text=text, rules=rules, text_hash=text_hash,
                base=latest.hash if latest else None,
                base_number=latest.number if latest else None, verdict=verdict)


def commit(store: Store, step: Step, alerting: Alerting | None) -> Outcome | None:
    """Inside a transaction: write what `step` says; None when the site got a newer version
    since `step` was prepared (another crawl recorded one: judge again against it)."""
    site, fetched = step.site, step.fetched
    if step.outcome != "new":
        if step.adopt:  # new rules, same text: the version stands under them too
            assert step.number is not None
            store.adopt_rules(site.name, step.number, step.adopt)
        return record(store, site, fetched, step.outcome, step.detail, alerting,
                      number=step.number, text_hash=step.text_hash)
    now = store.latest(site.name)
    if (now and now.hash) != step.base:
        return None
    assert step.text is not None and step.rules is not None
    number = write_version(store, site, fetched, step.text, step.rules)
    change = None
    if step.base_number is not None and step.verdict:
        classification, technical = step.verdict
        change = store.add_change(Change(
            site.name, step.base_number, number, at=fetched.at,
            classification=classification, technical=technical,
            restores=store.find_text(site.name, step.text_hash or "", before=number)))
        if alerting and not technical:
            alerting.on_change(store, site, change)
    if alerting:
        alerting.on_fetch(store, site, True, None)
    return Outcome(site.name, "new", version=number, change=change)


RETRIES = 5  # times a crawl judges again when another crawl of the site recorded a version


def fingerprint(site: Site) -> str:
    """The extraction rules a text was made with: a change of them is no change of the policy."""
    from monitor.extract import VERSION

    extra = [repr(site.select_ranges), repr(site.remove_ranges), repr(site.pages)] \
        if site.select_ranges or site.remove_ranges or site.pages else []
    rules = json.dumps([VERSION, site.select, sorted(site.remove)]
                       + ([site.render] if site.render != "http" else []) + extra)
    return digest(rules.encode())[:12]


# A shorter text seen this many times in a row, over at least this long, without a redirect,
# is the policy now, not a broken page.
SHRINK_CONFIRMATIONS = 3
SHRINK_HOURS = 6.0


def implausible(store: Store, fetched: Fetched, text: str, text_hash: str,
                latest: Version | None) -> str | None:
    """Why `text` is not taken as the policy, or None. A policy that really shrank looks like
    a broken page at first; once the same text came back, at the policy's own URL, on
    SHRINK_CONFIRMATIONS fetches over at least SHRINK_HOURS, it is recorded (and classified),
    never silently ignored."""
    from monitor.plausibility import assess

    reason = assess(text, latest.text if latest else None)
    if reason is None or not reason.startswith("policy text vanished"):
        return reason
    if fetched.final_url not in (None, fetched.url):
        return reason
    before = store.recent_fetches(fetched.site, SHRINK_CONFIRMATIONS - 1)
    confirmed = len(before) == SHRINK_CONFIRMATIONS - 1 and all(
        f["outcome"] == "suspect" and f["text_hash"] == text_hash and
        f["final_url"] in (None, f["url"]) for f in before)
    if confirmed and hours_between(before[-1]["at"], fetched.at) >= SHRINK_HOURS:
        return None
    return reason


def acting(reason: str, site: Site) -> str:
    """Why a page was not taken, and what the user can try (the reason stays first)."""
    from monitor.plausibility import advice

    return f"{reason}: {advice(reason, site.url, site.select)}"


def hours_between(first: str, last: str) -> float:
    from monitor.clock import parse_time

    return (parse_time(last) - parse_time(first)).total_seconds() / 3600


def fetch_trouble(fetched: Fetched, has_version: bool = True) -> tuple[str, str] | None:
    """(outcome, detail) when the response is no page to read at all."""
    if fetched.error:
        return ("blocked" if fetched.blocked else "failed"), fetched.error
    if fetched.status == 304:
        return ("not_modified", "") if has_version else ("suspect", "304 with no version yet")
    if fetched.status is not None and fetched.status >= 400:
        outcome = "failed" if fetched.status >= 500 or fetched.status == 429 else "blocked"
        return outcome, f"HTTP {fetched.status}"
    moved = moved_away(fetched.url, fetched.final_url)
    return ("suspect", moved) if moved else None


LOGIN = re.compile(r"^(log[-_]?in|sign[-_]?in|sign[-_]?on|sign[-_]?up|sso|auth|oauth2?|"
                   r"sessions?|register|account|accounts)$", re.I)
HOME = re.compile(r"^(home|index|default|welcome|start)(\.\w+)?$", re.I)
LOCALE = re.compile(r"^[a-z]{2}([-_][a-z]{2,4})?$", re.I)
WORDS = re.compile(r"[a-z]{3,}")


def moved_away(url: str, final_url: str | None) -> str | None:
    """A redirect to the site's home page, a parent page or a login page is not the policy
    moving: /privacy -> /en/privacy, /privacy-policy, /auth/privacy or http -> https are fine;
    /privacy -> /, /en/, /home, /legal/ (from /legal/privacy) or /users/sign_in are not."""
    if not final_url or final_url == url:
        return None
    if domain(url) != domain(final_url):
        return f"redirected to another site: {final_url}"
    old = [p for p in urlsplit(url).path.split("/") if p]
    new = [p for p in urlsplit(final_url).path.split("/") if p]
    named = set(WORDS.findall(old[-1].lower())) if old else set()
    kept = any(named & set(WORDS.findall(p.lower())) for p in new)
    if old and not (kept or any(HOME.match(p) for p in old)):
        # the policy's own name is gone: where did we land?
        homeish = not new or all(LOCALE.match(p) for p in new) or HOME.match(new[-1])
        parent = len(new) < len(old) and old[:len(new)] == new
        login = any(LOGIN.match(p) for p in new if p not in old)
        if homeish or parent or login:
            return f"redirected away from the policy to {final_url}"
    return None


def domain(url: str) -> str:
    """The registrable part of a URL's host, roughly: its last two labels, three under a
    two-letter country code with a short second level (example.co.uk); an IP address whole."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if ":" in host or host.replace(".", "").isdigit():
        return host
    labels = host.split(".")
    keep = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and len(labels[-2]) <= 3 else 2
    return ".".join(labels[-keep:])


def extract_text(site: Site, fetched: Fetched) -> str:
    from monitor.sources import extract_site

    return extract_site(site, fetched.body, fetched.content_type,
                        url=fetched.final_url or fetched.url)


def record(store: Store, site: Site, fetched: Fetched, outcome: str, detail: str | None,
           alerting: Alerting | None, number: int | None = None,
           text_hash: str | None = None) -> Outcome:
    """Log a fetch that made no new version (and keep its snapshot when it has bytes)."""
    with store.transaction():
        snapshot = keep_snapshot(store, fetched, outcome)
        store.record_fetch(fetch_record(fetched, outcome, snapshot, detail or None, text_hash),
                           version=number)
        if number is not None:
            store.touch(site.name, number, fetched.at)
        if alerting:
            ok = outcome in ("same", "not_modified")
            alerting.on_fetch(store, site, ok, None if ok else detail)
    return Outcome(site.name, outcome, version=number, detail=detail)


def keep_snapshot(store: Store, fetched: Fetched, outcome: str) -> str | None:
    """The raw bytes' hash. Bytes are kept for suspect pages (the evidence); for an unchanged
    page only the hash is: its text is the version's, and chrome churn would cost ~10 KB a fetch."""
    if not fetched.body:
        return None
    if outcome == "suspect":
        return store.record_snapshot(fetched.body, fetched.content_type)
    return digest(fetched.body)


def judge(store: Store, site: Site, previous: Version, text: str, rules: str,
          classifier: str | None) -> tuple[Classification, bool]:
    """Classify `previous` -> `text`; also say whether the change is technical. When the
    extraction rules changed (a `select` edited, a better extractor), the previous version's own
    snapshot is extracted again under the new rules first: if that gives `text`, the change is
    ours, not the site's (technical: recorded, never alerted); if not, what is left is the
    policy's change, classified and alerted."""
    from monitor.classify import classify_safely

    if previous.rules == rules:
        return classify_safely(previous.text, text, classifier), False
    baseline = reextracted(store, site, previous)
    if baseline == text:
        return classify_safely(previous.text, text, classifier), True
    return classify_safely(baseline or previous.text, text, classifier), False


def reextracted(store: Store, site: Site, version: Version) -> str | None:
    """`version`'s snapshot extracted under the site's current rules (None if it cannot be)."""
    if not version.snapshot:
        return None
    body, content_type = store.snapshot(version.snapshot)
    try:
        from monitor.sources import extract_site

        return extract_site(site, body, content_type)
    except ExtractError:
        return None


def write_version(store: Store, site: Site, fetched: Fetched, text: str, rules: str) -> int:
    """Inside the transaction: the snapshot, the fetch and the version; the version's number."""
    snapshot = store.record_snapshot(fetched.body, fetched.content_type, text)
    fetch_id = store.record_fetch(fetch_record(fetched, "new", snapshot, None))
    number = store.add_version(site.name, text, at=fetched.at, snapshot=snapshot,
                               fetch_id=fetch_id, rules=rules)
    store.link_fetch(fetch_id, number)
    return number


def fetch_record(fetched: Fetched, outcome: str, snapshot: str | None, error: str | None,
                 text_hash: str | None = None) -> FetchRecord:
    return FetchRecord(
        site=fetched.site, url=fetched.url, at=fetched.at, outcome=outcome,
        final_url=fetched.final_url, status=fetched.status, duration_ms=fetched.duration_ms,
        bytes=len(fetched.body) if fetched.body else None, etag=fetched.etag,
        last_modified=fetched.last_modified, content_type=fetched.content_type,
        snapshot=snapshot, error=error, text_hash=text_hash)
