"""The store's schema: sqlite-utils migrations, applied under the write lock, and opening a
database read-only (no WAL switch, no migration) for the reading commands."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from monitor.errors import StoreError

if TYPE_CHECKING:
    from sqlite_utils import Database

MIGRATION_SET = "policy-monitor"

__all__ = ["MIGRATIONS", "connect_readonly", "migrate", "pending", "writable"]


# --- migrations: plain functions so their names are known without importing sqlite-utils ---

def m001_initial(db: Database) -> None:
    db.table("sites").create({"name": str, "url": str, "added_at": str, "last_fetch_at": str,
                        "last_ok_at": str, "last_change_at": str, "failure_streak": int,
                        "last_error": str, "last_run_at": str, "next_run_at": str},
                       pk="name", defaults={"failure_streak": 0})
    db.table("snapshots").create({"hash": str, "content_type": str, "size": int, "body": bytes,
                            "first_seen": str}, pk="hash")
    db.table("fetches").create({"id": int, "site": str, "url": str, "final_url": str, "at": str,
                          "duration_ms": float, "status": int, "bytes": int, "etag": str,
                          "last_modified": str, "content_type": str, "snapshot": str,
                          "outcome": str, "error": str, "version": int}, pk="id")
    db.table("fetches").create_index(["site", "id"])
    db.table("versions").create({"id": int, "site": str, "number": int, "hash": str, "text": bytes,
                           "size": int, "first_seen": str, "last_seen": str, "snapshot": str,
                           "fetch": int}, pk="id")
    db.table("versions").create_index(["site", "number"], unique=True)
    db.table("versions").create_index(["site", "hash"])
    db.table("changes").create({"id": int, "site": str, "from_version": int, "to_version": int,
                          "at": str, "major": int, "categories": str, "findings": str,
                          "ignored": str, "stats": str, "restores": int}, pk="id")
    db.table("changes").create_index(["site", "to_version"], unique=True)
    db.table("alerts").create({"id": int, "key": str, "site": str, "change": int, "channel": str,
                         "kind": str, "payload": str, "state": str, "attempts": int,
                         "created_at": str, "next_try_at": str, "sent_at": str,
                         "last_error": str}, pk="id",
                        defaults={"state": "pending", "attempts": 0})
    db.table("alerts").create_index(["key"], unique=True)
    db.table("alerts").create_index(["state", "next_try_at"])


def m002_rules_and_technical_changes(db: Database) -> None:
    """The extraction rules a version was made with, the text hash of suspect fetches (a
    shrunken policy that persists is accepted), and changes made by our rules, not the site."""
    db.table("versions").add_column("rules", str)
    db.table("fetches").add_column("text_hash", str)
    db.table("changes").add_column("technical", int, not_null_default=0)


def m003_classifier_on_changes(db: Database) -> None:
    """Who judged a change (backend name and version), and whether the watchdog cut it short."""
    db.table("changes").add_column("classifier", str)
    db.table("changes").add_column("classifier_version", str)
    db.table("changes").add_column("incomplete", int, not_null_default=0)


def m004_search_and_readable_text(db: Database) -> None:
    """Full-text search over version text and findings, and version text readable in SQL.

    `policy_text(text)` (registered on every store connection and by `monitor serve`) decodes
    a version's compressed text. `versions_fts` is a contentless FTS5 index (the text stays
    compressed in `versions`; only the index is added); `findings_fts` holds each change's
    finding sentences. Triggers keep both in step with every insert, update and delete."""
    from monitor.store.browse import SEARCH_SCHEMA, register_functions

    register_functions(db.conn)
    for statement in SEARCH_SCHEMA:
        db.execute(statement)
    db.execute("insert into versions_fts (rowid, text) select id, policy_text(text) "
               "from versions")
    db.execute("insert into findings_fts (rowid, site, text) select id, site, "
               "finding_words(findings) from changes")


SUSPECT_SNAPSHOTS_KEPT = 10  # a site's suspect pages whose raw bytes are kept, newest first


def m005_suspect_snapshots_bounded(db: Database) -> None:
    """Raw bytes of suspect pages, bounded per site. A hostile or broken page that differs on
    every fetch would otherwise add its full bytes each time (up to the 10 MB download cap).
    When a suspect fetch is recorded, its bytes are dropped if an earlier suspect page of the
    site with the same text is kept (deduplicated), and the bytes of the site's suspect fetch
    that just left the newest SUSPECT_SNAPSHOTS_KEPT are dropped, unless a version or any other
    fetch still names them. The fetch keeps the hash, as an unchanged refetch does; `monitor
    reextract` skips pages whose bytes are gone."""
    db.execute("create index if not exists fetches_snapshot on fetches (snapshot)")
    db.execute("create index if not exists fetches_suspect_text on fetches (site, text_hash) "
               "where text_hash is not null")
    db.execute("create index if not exists versions_snapshot on versions (snapshot)")
    db.execute(f"""
        create trigger if not exists suspect_snapshots_bounded after insert on fetches
        when new.outcome = 'suspect' and new.snapshot is not null
        begin
          delete from snapshots where hash = new.snapshot and new.text_hash is not null
            and exists (select 1 from fetches f where f.site = new.site
                        and f.text_hash = new.text_hash and f.outcome = 'suspect'
                        and f.id < new.id and f.snapshot <> new.snapshot
                        and f.snapshot in (select hash from snapshots))
            and not exists (select 1 from fetches f where f.snapshot = new.snapshot
                            and f.id <> new.id)
            and not exists (select 1 from versions v where v.snapshot = new.snapshot);
          delete from snapshots where hash = (
              select f.snapshot from fetches f where f.site = new.site
              and f.outcome = 'suspect' and f.snapshot is not null
              order by f.id desc limit 1 offset {SUSPECT_SNAPSHOTS_KEPT})
            and not exists (select 1 from versions v where v.snapshot = snapshots.hash)
            and not exists (select 1 from fetches f where f.snapshot = snapshots.hash and (
                f.site <> new.site or f.outcome <> 'suspect' or f.id in (
                    select g.id from fetches g where g.site = new.site
                    and g.outcome = 'suspect' and g.snapshot is not null
                    order by g.id desc limit {SUSPECT_SNAPSHOTS_KEPT})));
        end""")


def m006_compact_snapshots_and_fetch_days(db: Database) -> None:
    """`snapshots.basis`: the hash of the version text a snapshot's bytes were compressed
    against (monitor/store/codec.py), null when on their own. `fetch_days`: the fetch log
    rolled up, one row a site, day and outcome, for successful fetches older than the
    retention (`Store.roll_up_fetches`); failures and fetches that made a version stay."""
    db.table("snapshots").add_column("basis", str)
    db.execute("create table if not exists fetch_days (site text not null, day text not null, "
               "outcome text not null, version integer not null, fetches integer not null, "
               "primary key (site, day, outcome, version)) without rowid")


MIGRATIONS: list[Callable[[Database], None]] = [
    m001_initial, m002_rules_and_technical_changes, m003_classifier_on_changes,
    m004_search_and_readable_text, m005_suspect_snapshots_bounded,
    m006_compact_snapshots_and_fetch_days]


def migrate(conn: sqlite3.Connection) -> None:
    """Apply pending migrations, importing sqlite-utils only when one is pending.

    They run under the write lock, taken first (BEGIN IMMEDIATE): processes opening a new
    database at the same instant wait their turn (the busy timeout) instead of failing with
    "database is locked" when their deferred transactions both try to upgrade to writing."""
    if pending(conn):
        from sqlite_utils import Database, Migrations

        migrations = Migrations(MIGRATION_SET)
        for fn in MIGRATIONS:
            migrations(name=fn.__name__)(fn)
        conn.execute("begin immediate")
        try:
            if pending(conn):  # another process may have migrated while we waited
                migrations.apply(Database(conn))
        except BaseException:
            if conn.in_transaction:
                conn.execute("rollback")
            raise
        conn.execute("commit")


def pending(conn: sqlite3.Connection) -> bool:
    """Whether migrations are pending; a database from a newer Policy Monitor is refused."""
    try:
        applied = {r[0] for r in conn.execute(
            "select name from _sqlite_migrations where migration_set = ?", [MIGRATION_SET])}
    except sqlite3.OperationalError:
        applied = set()
    known = {m.__name__ for m in MIGRATIONS}
    if applied - known:
        raise StoreError("this database was written by a newer Policy Monitor "
                         f"(unknown migrations: {', '.join(sorted(applied - known))})")
    return not known <= applied


def writable(path: Path) -> bool:
    """Whether a writer can use the database at `path`: the file (when it is there) and its
    folder (SQLite writes its -wal and -shm files next to it)."""
    folder = path.parent if str(path.parent) else Path(".")
    effective = os.access in os.supports_effective_ids  # what open() itself checks

    def can_write(p: Path) -> bool:
        return os.access(p, os.W_OK, effective_ids=effective)

    return can_write(folder) and (not path.exists() or can_write(path))


def connect_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection that writes nothing, not even the -shm file: `mode=ro`, or, in a
    read-only folder where SQLite cannot make its WAL index, `immutable` (nobody can write
    there either, so the file cannot change under us)."""
    uri = "file:" + quote(str(path.resolve()))
    for flags in ("mode=ro", "mode=ro&immutable=1"):
        conn = sqlite3.connect(f"{uri}?{flags}", uri=True, timeout=30, isolation_level=None)
        try:
            conn.execute("select count(*) from sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError:
            conn.close()
            if flags != "mode=ro" or writable(path):
                raise
    raise AssertionError("unreachable")


