"""The store on a real SQLite file: migrations, versions only on real change, history."""

from __future__ import annotations

import sqlite3

import pytest

from monitor.errors import StoreError
from monitor.loopback import bundled_policy
from monitor.store import MIGRATIONS, Store
from monitor.track import Fetched, track
from tests.conftest import SITE

WEMET = bundled_policy("wemet")


def fetched(body: str, at: str = "2026-01-01T00:00:00.000Z", **kw) -> Fetched:
    return Fetched(site="wemet", url=SITE.url, at=at, final_url=SITE.url, status=200,
                   body=body.encode(), content_type="text/plain; charset=utf-8", **kw)


def test_migrations_are_recorded_and_the_file_is_wal(tmp_path):
    Store(tmp_path / "m.db").close()
    conn = sqlite3.connect(tmp_path / "m.db")
    names = [r[0] for r in conn.execute("select name from _sqlite_migrations")]
    assert names == [m.__name__ for m in MIGRATIONS]
    assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"
    Store(tmp_path / "m.db").close()  # reopening applies nothing twice
    assert conn.execute("select count(*) from _sqlite_migrations").fetchone()[0] == len(names)


def test_a_database_from_a_newer_version_is_refused(tmp_path):
    Store(tmp_path / "m.db").close()
    conn = sqlite3.connect(tmp_path / "m.db")
    conn.execute("insert into _sqlite_migrations (migration_set, name, applied_at) "
                 "values ('policy-monitor', 'm999_future', '2030-01-01')")
    conn.commit()
    with pytest.raises(StoreError, match="newer"):
        Store(tmp_path / "m.db")


def test_versions_only_when_the_text_changes(store):
    assert track(store, SITE, fetched(WEMET)).outcome == "new"
    # same text with different white space at line ends: normalisation makes it the same
    assert track(store, SITE, fetched(WEMET.replace("\n", "  \n"))).outcome == "same"
    edited = WEMET + "\nWe may sell your contacts to data brokers.\n"
    outcome = track(store, SITE, fetched(edited, at="2026-02-01T00:00:00.000Z"))
    assert outcome.outcome == "new" and outcome.version == 2
    assert outcome.change is not None and outcome.change.major is True
    history = store.history("wemet")
    assert [h["version"] for h in history] == [1, 2]
    assert history[0]["last_seen"] == "2026-01-01T00:00:00.000Z"
    assert history[1]["major"] is True and history[1]["categories"]
    assert store.version("wemet", 2).text.endswith("We may sell your contacts to data brokers.")
    assert store.version("wemet", -2).number == 1


def test_an_identical_refetch_stores_no_new_bytes(store):
    track(store, SITE, fetched(WEMET))
    size = store.conn.execute("select sum(length(body)) from snapshots").fetchone()[0]
    for _ in range(5):
        assert track(store, SITE, fetched(WEMET)).outcome == "same"
    assert store.conn.execute("select sum(length(body)) from snapshots").fetchone()[0] == size
    assert size < len(WEMET.encode()) / 2  # compressed


def test_a_flapping_variant_is_marked_as_restoring_an_earlier_version(store):
    variant = WEMET + "\nWe share your location with advertising partners.\n"
    track(store, SITE, fetched(WEMET))
    track(store, SITE, fetched(variant))
    back = track(store, SITE, fetched(WEMET))
    assert back.outcome == "new" and back.change.restores == 1
    assert store.history("wemet")[2]["restores"] == 1


def test_failures_move_the_streak_and_never_become_versions(store):
    track(store, SITE, fetched(WEMET))
    for error in ("TimeoutError: took too long", "ConnectionRefusedError: refused"):
        assert track(store, SITE, Fetched(site="wemet", url=SITE.url, at="t",
                                          error=error)).outcome == "failed"
    assert track(store, SITE, fetched("")).outcome == "suspect"  # an empty 200
    assert store.failure_streak("wemet") == 3
    assert [h["version"] for h in store.history("wemet")] == [1]
    assert track(store, SITE, fetched(WEMET)).outcome == "same"
    assert store.failure_streak("wemet") == 0
