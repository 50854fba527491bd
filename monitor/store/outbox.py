"""The alert outbox: the `alerts` table, its rows planned with a change and delivered later.

    pending ──claim──► sending ──sent──► sent
       ▲                  │
       └── transient ─────┤
                          └── refused, or given up ──► failed
    skipped: planned but never to be sent (a flapping page)

Every statement on `alerts` lives here; `monitor.alerts` decides, this class records.
"""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.store import Store


class Outbox:
    """The `alerts` table of one store (same connection, same transactions)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def conn(self) -> sqlite3.Connection:
        return self.store.conn

    def plan(self, key: str, site: str | None, channel: str, kind: str,
             payload: dict[str, Any], *, at: str, change_id: int | None = None,
             skipped_because: str | None = None) -> int | None:
        """One row, unless its key is there already; its id when it is new."""
        cursor = self.conn.execute(
            "insert or ignore into alerts (key, site, change, channel, kind, payload, state, "
            "attempts, created_at, next_try_at, last_error) "
            "values (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)",
            [key, site, change_id, channel, kind, json.dumps(payload, ensure_ascii=False),
             "skipped" if skipped_because else "pending", at, at, skipped_because])
        return cursor.lastrowid if cursor.rowcount == 1 else None

    def last_payload(self, site: str, kind: str) -> dict[str, Any] | None:
        """The payload of the newest row of `kind` for `site`."""
        row = self.conn.execute("select payload from alerts where site = ? and kind = ? "
                                "order by id desc limit 1", [site, kind]).fetchone()
        return json.loads(row["payload"]) if row else None

    def channels_with_prefix(self, kind: str, prefix: str) -> list[str]:
        """The channels of the rows of `kind` whose key starts with `prefix`."""
        rows = self.conn.execute("select channel from alerts where kind = ? and "
                                 "substr(key, 1, ?) = ?", [kind, len(prefix), prefix])
        return [r["channel"] for r in rows]

    def alerted_text(self, site: str, text_hash: str, since: str) -> bool:
        """Whether a change of `site` to the text `text_hash`, fetched since `since`, was
        alerted (planned, not skipped)."""
        row = self.conn.execute(
            "select 1 from alerts where site = ? and kind = 'change' and state != 'skipped' "
            "and json_extract(payload, '$.at') >= ? and json_extract(payload, '$.to_hash') = ? "
            "limit 1",
            [site, since, text_hash]).fetchone()
        return row is not None

    def due(self, now: str) -> list[sqlite3.Row]:
        """Pending rows whose time has come, oldest first."""
        return self.conn.execute(
            "select * from alerts where state = 'pending' and (next_try_at is null "
            "or next_try_at <= ?) order by id", [now]).fetchall()

    def claim(self, alert_id: int, lease_until: str) -> bool:
        """Mark the row as being sent, in its own committed transaction, before sending it."""
        with self.store.transaction():
            cursor = self.conn.execute(
                "update alerts set state = 'sending', attempts = attempts + 1, next_try_at = ? "
                "where id = ? and state = 'pending'", [lease_until, alert_id])
        return cursor.rowcount == 1

    def reclaim(self, now: str) -> int:
        """Rows a crashed sender left in 'sending' past their lease: e-mail back to pending
        (sent again with the same Message-ID), anything else failed (never posted twice).
        Returns how many rows were given up."""
        with self.store.transaction():
            self.conn.execute(
                "update alerts set state = 'pending', next_try_at = ?, last_error = "
                "'interrupted while sending; sent again with the same Message-ID' "
                "where state = 'sending' and next_try_at < ? and channel = 'email'", [now, now])
            cursor = self.conn.execute(
                "update alerts set state = 'failed', last_error = 'interrupted while sending: "
                "it may or may not have arrived, and is not sent twice' where state = 'sending' "
                "and next_try_at < ?", [now])
        return cursor.rowcount

    def record(self, alert_id: int, state: str, error: str | None, *, sent_at: str | None,
               next_try_at: str | None) -> None:
        """The outcome of one attempt."""
        with self.store.transaction():
            self.conn.execute(
                "update alerts set state = ?, last_error = ?, sent_at = ?, next_try_at = ? "
                "where id = ?", [state, error, sent_at, next_try_at, alert_id])

    def recent(self, limit: int) -> list[sqlite3.Row]:
        """The newest `limit` rows, newest first."""
        return self.conn.execute("select * from alerts order by id desc limit ?",
                                 [limit]).fetchall()

    def since(self, alert_id: int) -> list[sqlite3.Row]:
        """Rows planned after `alert_id`, oldest first."""
        return self.conn.execute("select * from alerts where id > ? order by id",
                                 [alert_id]).fetchall()

    def last_id(self) -> int:
        return int(self.conn.execute("select coalesce(max(id), 0) from alerts").fetchone()[0])

    def undelivered_changes(self, site: str) -> int:
        """Change alerts of `site` still pending or being sent."""
        return int(self.conn.execute(
            "select count(*) from alerts where site = ? and change is not null and state in "
            "('pending', 'sending')", [site]).fetchone()[0])
