"""`monitor reextract`: rebuild a site's versions from its stored snapshots.

When extraction improves, versions are derived again from the raw bytes already kept, with no
fetching (Open Terms Archive's "technical upgrade"). Nothing is alerted: the policy did not change.
"""

from __future__ import annotations

from monitor.config import Site
from monitor.errors import ExtractError
from monitor.store import Store, digest


def reextract(store: Store, site: Site) -> tuple[int, int]:
    """Rebuild the versions and changes of `site`; return (versions before, versions after)."""
    from monitor.extract import extract
    from monitor.plausibility import assess
    from monitor.track import classify

    before = len(store.history(site.name))
    fetches = store.query("select id, at, snapshot from fetches where site = ? and snapshot is "
                          "not null and outcome in ('new', 'suspect') order by id",
                          [site.name])
    with store.transaction():
        store.conn.execute("delete from changes where site = ?", [site.name])
        store.conn.execute("delete from versions where site = ?", [site.name])
        last: str | None = None
        for fetch in fetches:
            body, content_type = store.snapshot(fetch["snapshot"])
            try:
                text = extract(body, content_type, select=site.select, remove=site.remove)
            except ExtractError:
                continue
            if assess(text, last) is not None:
                continue
            if last is not None and digest(text.encode()) == digest(last.encode()):
                store.conn.execute("update versions set last_seen = ? where site = ? and "
                                   "number = (select max(number) from versions where site = ?)",
                                   [fetch["at"], site.name, site.name])
                continue
            number = store.add_version(site.name, text, at=fetch["at"],
                                       snapshot=fetch["snapshot"], fetch_id=fetch["id"])
            if last is not None:
                store.add_change(site.name, number - 1, number, at=fetch["at"],
                                 classification=classify(last, text))
            last = text
    return before, len(store.history(site.name))
