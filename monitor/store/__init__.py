"""The store: one SQLite file (WAL) holding sites, fetches, snapshots, versions, changes, alerts.

    sites      one row a watched site, with its run state (last fetch, failure streak, next run;
               `ScheduleState` in monitor/store/schedule.py)
    fetches    every fetch attempt: time, URL, HTTP status, duration, bytes, ETag, outcome, error
    snapshots  raw bytes, compressed (monitor/store/codec.py: a new version's page against its
               own text), addressed by their SHA-256, kept for every new version and every
               suspect page; an unchanged refetch records only the hash
    versions   normalized policy text, numbered per site, new only when the text's hash differs
    changes    two consecutive versions of a site and their classification (major, categories,
               findings, and the classifier's name and version)
    alerts     the outbox (`Outbox` in monitor/store/outbox.py): one row a change (or fetch
               trouble) and channel, written with the change

The store owns every SQL statement of Policy Monitor: callers ask for what they mean
(`store.latest(site)`, `store.outbox.due(now)`), so a schema change touches this package only.

Schema changes are sqlite-utils migrations (monitor/store/schema.py). Reading commands
(`history`, `show`) open the file with the standard library only; sqlite-utils is imported when
a migration is pending or on write.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.clock import stamp
from monitor.errors import StoreError
from monitor.records import Change, Classification
from monitor.store.codec import pack, pack_bytes, unpack, unpack_bytes
from monitor.store.schema import MIGRATIONS as MIGRATIONS  # noqa: F401 (tests read it)
from monitor.store.schema import connect_readonly, migrate, pending, writable


def now() -> str:
    """The current UTC time as ISO 8601 text (sorts as it reads)."""
    return stamp(datetime.now(UTC))


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()




@dataclass(frozen=True)
class Version:
    site: str
    number: int
    hash: str
    text: str
    size: int
    first_seen: str
    last_seen: str
    rules: str | None = None  # fingerprint of the extraction rules that made the text
    snapshot: str | None = None  # hash of the raw bytes it was extracted from


@dataclass(frozen=True)
class FetchRecord:
    """One fetch attempt, as the store keeps it."""

    site: str
    url: str
    at: str
    outcome: str  # new | same | not_modified | failed | blocked | suspect
    final_url: str | None = None
    status: int | None = None
    duration_ms: float | None = None
    bytes: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    snapshot: str | None = None
    error: str | None = None
    text_hash: str | None = None


class Store:
    """The SQLite file behind everything. One `Store` a process (or thread)."""

    def __init__(self, path: str | Path, *, create: bool = True, readonly: bool = False) -> None:
        """Open (or, with `create`, make) the database at `path`. `readonly`: for commands that
        only read (history, sites, status, alerts): where the file or its folder cannot be
        written, it is opened read-only, with neither WAL set nor migrations run."""
        self.path = Path(path)
        if not self.path.exists() and (not create or readonly):
            raise StoreError(f"{self.path}: no database yet (run `monitor crawl` first)")
        self.readonly = readonly and not writable(self.path)
        self._savepoints = 0
        try:
            if self.readonly:
                self.conn = connect_readonly(self.path)
                if pending(self.conn):
                    raise StoreError(f"{self.path}: read-only, and made by an older Policy "
                                     "Monitor: run a command that writes once to upgrade it")
            else:
                if not writable(self.path) and self.path.parent.exists():
                    raise StoreError(f"{self.path}: read-only (this command writes: check the "
                                     "permissions of the file and its folder)")
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                self._prepare()
            self.conn.row_factory = sqlite3.Row
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{self.path}: {e}") from None
        except OSError as e:  # a folder that cannot be made
            raise StoreError(f"{self.path}: {e.strerror or e}") from None
        from monitor.store.outbox import Outbox
        from monitor.store.schedule import ScheduleState

        self.outbox = Outbox(self)
        from monitor.store.browse import Browse

        self.browse = Browse(self)
        self.schedule = ScheduleState(self)

    def _prepare(self, tries: int = 40) -> None:
        """WAL, then the migrations. A database that another process is creating or switching
        to WAL at this instant answers "database is locked" at once (SQLite's busy handler does
        not cover a journal-mode change): wait a moment and try again, a bounded number of
        times."""
        for attempt in range(tries):
            try:
                self.conn.execute("pragma journal_mode = wal")
                self.conn.execute("pragma synchronous = normal")
                self.conn.execute("pragma foreign_keys = on")
                migrate(self.conn)
                return
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) or attempt == tries - 1:
                    raise
                time.sleep(0.025 * (attempt + 1))

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT: everything inside lands together or not at all. Inside
        another transaction, a savepoint: an error undoes this part only (the batch writer
        keeps one site's failure from undoing the others')."""
        if self.conn.in_transaction:
            self._savepoints += 1
            name = f"part{self._savepoints}"
            self.conn.execute(f"savepoint {name}")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute(f"rollback to {name}")
                self.conn.execute(f"release {name}")
                raise
            finally:
                self._savepoints -= 1
            self.conn.execute(f"release {name}")
            return
        self.conn.execute("begin immediate")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("rollback")
            raise
        self.conn.execute("commit")

    def _query(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    def _one(self, sql: str, params: Any = ()) -> sqlite3.Row | None:
        return self.conn.execute(sql, params).fetchone()

    def _count(self, sql: str, params: Any = ()) -> int:
        return int(self.conn.execute(sql, params).fetchone()[0])

    def _insert(self, table: str, row: dict[str, Any]) -> int:
        cols = ", ".join(f"[{c}]" for c in row)
        marks = ", ".join("?" for _ in row)
        cursor = self.conn.execute(f"insert into [{table}] ({cols}) values ({marks})",
                                   list(row.values()))
        return int(cursor.lastrowid or 0)

    # --- sites ---

    def sync_sites(self, sites: list[tuple[str, str]]) -> None:
        """Make sure every configured (name, url) has its row; keep run state."""
        with self.transaction():
            for name, url in sites:
                self.conn.execute(
                    "insert into sites (name, url, added_at, failure_streak) values (?, ?, ?, 0) "
                    "on conflict(name) do update set url = excluded.url", [name, url, now()])

    def site_rows(self) -> list[sqlite3.Row]:
        return self._query(
            "select s.*, (select count(*) from versions v where v.site = s.name) as versions "
            "from sites s order by s.name")

    # --- snapshots and fetches ---

    def record_snapshot(self, body: bytes, content_type: str | None,
                        text: str | None = None) -> str:
        """Keep the raw bytes once; return their hash. `text`: the version text they gave,
        stored in the same transaction; the bytes are compressed against it (`basis`)."""
        key = digest(body)
        if self.conn.execute("select 1 from snapshots where hash = ?", [key]).fetchone():
            return key
        basis = text.encode("utf-8") if text else None
        self.conn.execute(
            "insert or ignore into snapshots (hash, content_type, size, body, first_seen, basis) "
            "values (?, ?, ?, ?, ?, ?)",
            [key, content_type, len(body), pack_bytes(body, basis), now(),
             digest(basis) if basis else None])
        return key

    def snapshot(self, key: str) -> tuple[bytes, str | None]:
        row = self.conn.execute("select body, content_type, basis from snapshots where hash = ?",
                                [key]).fetchone()
        if row is None:
            raise StoreError(f"no snapshot {key}")
        return unpack_bytes(row["body"], self._basis(row["basis"])), row["content_type"]

    def _basis(self, text_hash: str | None) -> bytes | None:
        """The version text a snapshot was compressed against."""
        if text_hash is None:
            return None
        row = self._one("select text from versions where hash = ? limit 1", [text_hash])
        if row is None:
            raise StoreError(f"the text snapshot bytes were stored against is gone ({text_hash})")
        return unpack(row["text"]).encode("utf-8")

    def record_fetch(self, fetch: FetchRecord, version: int | None = None) -> int:
        """Log one attempt and move the site's run state (streak, last fetch, last success)."""
        row = {k: v for k, v in fetch.__dict__.items()}
        row["version"] = version
        fetch_id = self._insert("fetches", row)
        if fetch.outcome in ("new", "same", "not_modified"):
            self.conn.execute(
                "update sites set last_fetch_at = ?, last_ok_at = ?, failure_streak = 0, "
                "last_error = null where name = ?", [fetch.at, fetch.at, fetch.site])
        else:
            self.conn.execute(
                "update sites set last_fetch_at = ?, failure_streak = failure_streak + 1, "
                "last_error = ? where name = ?", [fetch.at, fetch.error, fetch.site])
        return fetch_id

    def roll_up_fetches(self, before: str) -> int:
        """Fold the fetch log's unchanged fetches (same, not modified) older than `before` into
        per-site daily counts (`fetch_days`); return how many rows went. Kept whole: failures,
        suspect pages, every fetch that made a version, and each site's newest good fetch (its
        validators). A site watched hourly adds 24 rows a day to the log, not forever."""
        unchanged = ("outcome in ('same', 'not_modified') and at < ? and version is not null "
                     "and id not in (select max(id) from fetches where outcome in "
                     "('new', 'same', 'not_modified') group by site)")
        with self.transaction():
            self.conn.execute(
                "insert into fetch_days (site, day, outcome, version, fetches) "
                f"select site, substr(at, 1, 10), outcome, version, count(*) from fetches "
                f"where {unchanged} group by 1, 2, 3, 4 "
                "on conflict (site, day, outcome, version) do update "
                "set fetches = fetches + excluded.fetches", [before])
            return self.conn.execute(f"delete from fetches where {unchanged}", [before]).rowcount

    def link_fetch(self, fetch_id: int, number: int) -> None:
        """The version a fetch confirmed or created."""
        self.conn.execute("update fetches set version = ? where id = ?", [number, fetch_id])

    def last_good_fetch(self, site: str) -> sqlite3.Row | None:
        """The newest fetch that confirmed the latest version (for conditional requests)."""
        return self.conn.execute(
            "select * from fetches where site = ? and outcome in ('new', 'same', 'not_modified') "
            "order by id desc limit 1", [site]).fetchone()

    def validators(self, site: str, url: str,
                   rules: str | None = None) -> tuple[str | None, str | None]:
        """The server's own ETag and Last-Modified from the newest good fetch of `url`; none
        when the site has no version yet, or its newest was made with other extraction rules
        (a 304 would then keep the new rules from ever being applied)."""
        latest = self.conn.execute("select rules from versions where site = ? order by number "
                                   "desc limit 1", [site]).fetchone()
        if latest is None or (rules is not None and latest["rules"] != rules):
            return None, None
        row = self.conn.execute(
            "select etag, last_modified from fetches where site = ? and url = ? and outcome in "
            "('new', 'same', 'not_modified') and (etag is not null or last_modified is not null) "
            "order by id desc limit 1", [site, url]).fetchone()
        return (row["etag"], row["last_modified"]) if row else (None, None)

    def recent_fetches(self, site: str, n: int) -> list[sqlite3.Row]:
        """The newest `n` fetches of `site`, newest first."""
        return self._query("select * from fetches where site = ? order by id desc limit ?",
                          [site, n])

    def failure_streak(self, site: str) -> int:
        row = self.conn.execute("select failure_streak from sites where name = ?",
                                [site]).fetchone()
        return int(row[0]) if row else 0

    # --- versions and changes ---

    def latest(self, site: str) -> Version | None:
        row = self.conn.execute("select * from versions where site = ? order by number desc "
                                "limit 1", [site]).fetchone()
        return self._version(row) if row else None

    def newest_number(self, site: str) -> int | None:
        """The number of the newest version of `site` (None: none yet), without its text."""
        row = self._one("select max(number) from versions where site = ?", [site])
        return int(row[0]) if row and row[0] is not None else None

    def version(self, site: str, number: int | None = None) -> Version:
        """Version `number` of `site` (negative counts from the newest; None: the newest)."""
        if number is None or number < 0:
            offset = 0 if number is None else -number - 1
            row = self.conn.execute("select * from versions where site = ? order by number desc "
                                    "limit 1 offset ?", [site, offset]).fetchone()
        else:
            row = self.conn.execute("select * from versions where site = ? and number = ?",
                                    [site, number]).fetchone()
        if row is None:
            raise StoreError(f"site '{site}' has no version {number if number else ''}".strip())
        return self._version(row)

    def _version(self, row: sqlite3.Row) -> Version:
        return Version(site=row["site"], number=row["number"], hash=row["hash"],
                       text=unpack(row["text"]), size=row["size"],
                       first_seen=row["first_seen"], last_seen=row["last_seen"],
                       rules=row["rules"], snapshot=row["snapshot"])

    def find_text(self, site: str, text_hash: str, *, before: int | None = None) -> int | None:
        """The newest version of `site` (older than `before`, when given) whose text has this
        hash (a page variant coming back)."""
        row = self._one("select number from versions where site = ? and hash = ? and "
                        "number < ? order by number desc limit 1",
                        [site, text_hash, before if before is not None else 1 << 62])
        return int(row[0]) if row else None

    def adopt_rules(self, site: str, number: int, rules: str) -> None:
        self.conn.execute("update versions set rules = ? where site = ? and number = ?",
                          [rules, site, number])

    def touch(self, site: str, number: int, at: str) -> None:
        self.conn.execute("update versions set last_seen = ? where site = ? and number = ?",
                          [at, site, number])

    def add_version(self, site: str, text: str, *, at: str, snapshot: str | None,
                    fetch_id: int | None, rules: str | None = None) -> int:
        """Insert the next version of `site`; return its number. Call inside a transaction."""
        row = self.conn.execute("select coalesce(max(number), 0) from versions where site = ?",
                                [site]).fetchone()
        number = int(row[0]) + 1
        self._insert("versions", {"site": site, "number": number,
                                 "hash": digest(text.encode("utf-8")), "text": pack(text),
                                 "size": len(text.encode("utf-8")), "first_seen": at,
                                 "last_seen": at, "snapshot": snapshot, "fetch": fetch_id,
                                 "rules": rules})
        return number

    def add_change(self, change: Change) -> Change:
        """Record `change` (inside a transaction); return it with its id."""
        if not change.technical:
            self.conn.execute("update sites set last_change_at = ? where name = ?",
                              [change.at, change.site])
        c = change.classification
        change_id = self._insert("changes", {
            "site": change.site, "from_version": change.from_version,
            "to_version": change.to_version, "at": change.at,
            "major": None if c is None else int(c.major),
            "categories": json.dumps(list(c.categories) if c else []),
            "findings": json.dumps(c.to_dict()["findings"] if c else []),
            "ignored": json.dumps(list(c.ignored) if c else []),
            "stats": json.dumps(dict(c.stats) if c else {}), "restores": change.restores,
            "technical": int(change.technical),
            "classifier": c.classifier if c else None,
            "classifier_version": c.classifier_version if c else None,
            "incomplete": int(c.incomplete) if c else 0})
        return replace(change, id=change_id)

    def change(self, site: str, to_version: int) -> Change | None:
        """The change that led to version `to_version` of `site`."""
        row = self._one("select * from changes where site = ? and to_version = ?",
                        [site, to_version])
        return decode_change(row) if row else None

    def history(self, site: str) -> list[dict[str, Any]]:
        """Every version of `site`, oldest first, with the change that led to it."""
        rows = self._query(
            "select v.number, v.first_seen, v.last_seen, v.size, v.hash, c.id as change_id, "
            "c.major, c.categories, c.stats, c.restores, c.technical, c.classifier, "
            "c.classifier_version, c.incomplete from versions v left join changes c "
            "on c.site = v.site and c.to_version = v.number where v.site = ? order by v.number",
            [site])
        return [history_entry(r) for r in rows]

    def version_row(self, site: str, number: int) -> sqlite3.Row | None:
        """Hash and dates of version `number` of `site`, without its text."""
        return self._one("select number, hash, first_seen, last_seen from versions where "
                         "site = ? and number = ?", [site, number])

    def version_span(self, site: str, number: int) -> tuple[int, float]:
        """How many fetches saw version `number` of `site`, and over how many hours."""
        from monitor.clock import parse_time

        row = self._one("select count(*) as n, min(at) as first, max(at) as last from fetches "
                        "where site = ? and version = ?", [site, number])
        if row is None or not row["n"]:
            return 0, 0.0
        rolled = self._one("select sum(fetches) as n, max(day) as day from fetch_days "
                           "where site = ? and version = ?", [site, number])
        last = row["last"]
        if rolled is not None and rolled["n"]:  # fetches folded into daily counts
            last = max(last, rolled["day"] + "T00:00:00Z")
        hours = (parse_time(last) - parse_time(row["first"])).total_seconds() / 3600
        return int(row["n"]) + int(rolled["n"] if rolled and rolled["n"] else 0), hours

    def version_count(self, site: str) -> int:
        return self._count("select count(*) from versions where site = ?", [site])

    def has_snapshot(self, key: str) -> bool:
        return self._one("select 1 from snapshots where hash = ?", [key]) is not None

    def page_fetches(self, site: str) -> list[sqlite3.Row]:
        """Every fetch of `site` that got a page (new, same, not modified, suspect), oldest
        first: what `monitor reextract` rebuilds versions from."""
        return self._query("select id, at, outcome, snapshot from fetches where site = ? and "
                           "outcome in ('new', 'same', 'not_modified', 'suspect') order by id",
                           [site])

    def forget_versions(self, site: str) -> None:
        """Delete every version and change of `site` (reextract rebuilds them, in the same
        transaction). Snapshots compressed against a text that goes are compressed again on
        their own first."""
        for row in self._query(
                "select s.hash, s.body, s.basis from snapshots s where s.basis in "
                "(select hash from versions where site = ?) and not exists (select 1 from "
                "versions w where w.hash = s.basis and w.site <> ?)", [site, site]):
            body = unpack_bytes(row["body"], self._basis(row["basis"]))
            self.conn.execute("update snapshots set body = ?, basis = null where hash = ?",
                              [pack_bytes(body), row["hash"]])
        self.conn.execute("delete from changes where site = ?", [site])
        self.conn.execute("delete from versions where site = ?", [site])

    def failure_start(self, site: str, streak: int) -> sqlite3.Row | None:
        """The first fetch (id, at) of the current failure streak of `streak` fetches."""
        return self._one("select id, at from fetches where site = ? order by id desc "
                         "limit 1 offset ?", [site, streak - 1])

    def fetches_since(self, fetch_id: int) -> list[sqlite3.Row]:
        """Fetches recorded after `fetch_id`, oldest first."""
        return self._query("select * from fetches where id > ? order by id", [fetch_id])

    def last_fetch_id(self) -> int:
        return self._count("select coalesce(max(id), 0) from fetches")

    def has_site(self, site: str) -> bool:
        return self.conn.execute("select 1 from sites where name = ?", [site]).fetchone() \
            is not None


def decode_change(row: sqlite3.Row) -> Change:
    classification = None
    if row["major"] is not None:
        classification = Classification.from_dict({
            "major": bool(row["major"]), "categories": json.loads(row["categories"] or "[]"),
            "findings": json.loads(row["findings"] or "[]"),
            "ignored": json.loads(row["ignored"] or "[]"),
            "stats": json.loads(row["stats"] or "{}"), "classifier": row["classifier"],
            "classifier_version": row["classifier_version"],
            "incomplete": bool(row["incomplete"])})
    return Change(site=row["site"], from_version=row["from_version"],
                  to_version=row["to_version"], at=row["at"], classification=classification,
                  technical=bool(row["technical"]), restores=row["restores"], id=row["id"])


def history_entry(row: sqlite3.Row) -> dict[str, Any]:
    entry: dict[str, Any] = {"version": row["number"], "first_seen": row["first_seen"],
                             "last_seen": row["last_seen"], "size": row["size"],
                             "hash": row["hash"]}
    if row["change_id"] is not None:
        stats = json.loads(row["stats"] or "{}")
        entry.update(major=None if row["major"] is None else bool(row["major"]),
                     categories=json.loads(row["categories"] or "[]"),
                     words_added=stats.get("words_added"), words_removed=stats.get("words_removed"),
                     restores=row["restores"], technical=bool(row["technical"]),
                     classifier=row["classifier"], classifier_version=row["classifier_version"],
                     incomplete=bool(row["incomplete"]))
    return entry
