"""The daemon's schedule state: each site's last and next run, kept in the `sites` table so that
a restart neither repeats a run nor forgets a missed one."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from monitor.store import Store


class ScheduleState:
    """Run times of the sites of one store (ISO 8601 UTC text)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def last_runs(self) -> dict[str, str | None]:
        """site -> when its last scheduled run was due (None: never run)."""
        rows = self.store.conn.execute("select name, last_run_at from sites")
        return {r["name"]: r["last_run_at"] for r in rows}

    def set_next(self, due: dict[str, str]) -> None:
        """Each site's next slot, in one transaction."""
        with self.store.transaction():
            self.store.conn.executemany("update sites set next_run_at = ? where name = ?",
                                        [(at, name) for name, at in due.items()])

    def ran(self, runs: dict[str, tuple[str, str]]) -> None:
        """site -> (slot it ran for, next slot), in one transaction."""
        with self.store.transaction():
            self.store.conn.executemany(
                "update sites set last_run_at = ?, next_run_at = ? where name = ?",
                [(last, nxt, name) for name, (last, nxt) in runs.items()])

    def fetched_since(self, fetch_id: int) -> set[str]:
        """Sites with a fetch recorded after `fetch_id`."""
        rows = self.store.conn.execute("select distinct site from fetches where id > ?",
                                       [fetch_id])
        return {r["site"] for r in rows}
