"""`monitor reextract`: rebuild a site's versions from its stored snapshots.

When extraction improves (or a site's `select`/`remove` rules change), versions are derived
again from the raw bytes already kept, with no fetching (Open Terms Archive's "technical
upgrade"). Nothing is alerted: the policy did not change. The rebuild is worked out in memory
first and refused when it would lose a version, unless forced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from monitor.config import Site
from monitor.errors import ExtractError, MonitorError
from monitor.records import Change
from monitor.store import Store, digest


@dataclass
class Rebuilt:
    text: str
    first_seen: str
    last_seen: str
    snapshot: str
    fetch: int


def reextract(store: Store, site: Site, *, force: bool = False,
              classifier: str | None = None) -> tuple[int, int]:
    """Rebuild the versions and changes of `site` (changes judged by the `classifier`
    backend, default the configured one); return (versions before, versions after)."""
    pending = store.outbox.undelivered_changes(site.name)
    if pending:
        raise MonitorError(f"{site.name}: {pending} change alerts are not delivered yet (see "
                           "`monitor alerts`); rebuild once they are sent or given up")
    before = store.version_count(site.name)
    versions, lost = rebuild(store, site)
    if lost and not force:
        raise MonitorError(f"{site.name}: {len(lost)} stored versions would be lost ({lost[0]}); "
                           "check the site's select/remove rules, or use --force")
    write(store, site, versions, classifier)
    return before, len(versions)


def rebuild(store: Store, site: Site) -> tuple[list[Rebuilt], list[str]]:
    """The versions the stored snapshots give now, and why any former version is lost."""
    from monitor.plausibility import assess
    from monitor.sources import extract_site

    versions: list[Rebuilt] = []
    lost: list[str] = []
    for fetch in store.page_fetches(site.name):
        if fetch["outcome"] in ("same", "not_modified") or not kept(store, fetch):
            if versions and fetch["outcome"] != "suspect":
                versions[-1].last_seen = fetch["at"]
            continue
        body, content_type = store.snapshot(fetch["snapshot"])
        try:
            text = extract_site(site, body, content_type)
            reason = assess(text, versions[-1].text if versions else None)
        except ExtractError as e:
            reason = str(e)
        if reason and fetch["outcome"] == "new" and reason.startswith("policy text vanished"):
            reason = None  # a shrink the crawl had confirmed (see track.implausible)
        if reason:
            if fetch["outcome"] == "new":
                lost.append(f"the version of {fetch['at']}: {reason}")
            continue
        if versions and text == versions[-1].text:
            versions[-1].last_seen = fetch["at"]
            continue
        versions.append(Rebuilt(text, fetch["at"], fetch["at"], fetch["snapshot"], fetch["id"]))
    return versions, lost


def kept(store: Store, fetch: Any) -> bool:
    return bool(fetch["snapshot"]) and store.has_snapshot(fetch["snapshot"])


def write(store: Store, site: Site, versions: list[Rebuilt], classifier: str | None) -> None:
    """Replace the site's versions and changes, in one transaction."""
    from monitor.classify import classify_safely
    from monitor.track import fingerprint

    rules = fingerprint(site)
    with store.transaction():
        store.forget_versions(site.name)
        seen: dict[str, int] = {}
        for i, v in enumerate(versions):
            number = store.add_version(site.name, v.text, at=v.first_seen, snapshot=v.snapshot,
                                       fetch_id=v.fetch, rules=rules)
            store.touch(site.name, number, v.last_seen)
            text_hash = digest(v.text.encode("utf-8"))
            if i:
                store.add_change(Change(
                    site.name, number - 1, number, at=v.first_seen,
                    classification=classify_safely(versions[i - 1].text, v.text, classifier),
                    restores=seen.get(text_hash)))
            seen[text_hash] = number
