"""The fetch log at 100,000 sites: reading commands, and the roll-up that bounds the log.

    uv run python bench/bench_fetch_log.py [--sites 100000] [--days 30]

Builds a store as `monitor run` leaves it after `--days` days of daily checks of `--sites`
sites (one version each, then one unchanged fetch a day; rows written directly, in bulk, so
the bench takes a minute, not a month), then times `monitor status`, `monitor sites` and
`monitor history` on it, and `Store.roll_up_fetches` a day later with `--keep-days` of
retention (what `[daemon] fetch_log_days` does once a day): the rows folded, the time it
took, the size of the database before and after (VACUUM).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_urlwatch import db_bytes  # noqa: E402
from monitor.loopback import bundled_policy  # noqa: E402
from monitor.store import Store, digest, pack  # noqa: E402


def at(day: datetime) -> str:
    return day.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sites", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--keep-days", type=int, default=7, help="the retention rolled up to")
    a = ap.parse_args()
    text = bundled_policy("wemet")
    with tempfile.TemporaryDirectory() as tmpdir:
        folder = Path(tmpdir)
        db, config = folder / "monitor.db", folder / "sites.toml"
        config.write_text("".join(f'[[sites]]\nname = "s{i}"\nurl = "https://h{i % 100}.example'
                                  f'/s{i}"\n' for i in range(a.sites)))
        start = datetime(2026, 1, 1, tzinfo=UTC)
        store = Store(db)
        store.sync_sites([(f"s{i}", f"https://h{i % 100}.example/s{i}") for i in range(a.sites)])
        t0 = time.perf_counter()
        with store.transaction() as conn:
            for i in range(a.sites):
                body = f"{text}\n\nSite {i}."
                site = f"s{i}"
                fetch = conn.execute(
                    "insert into fetches (site, url, at, outcome, status, version, etag) values "
                    "(?, ?, ?, 'new', 200, 1, ?)", [site, "u", at(start), f'"{i}"']).lastrowid
                conn.execute("insert into versions (site, number, hash, text, size, first_seen, "
                             "last_seen, fetch) values (?, 1, ?, ?, ?, ?, ?, ?)",
                             [site, digest(body.encode()), pack(body), len(body), at(start),
                              at(start + timedelta(days=a.days)), fetch])
            for day in range(1, a.days + 1):
                when = at(start + timedelta(days=day))
                conn.executemany(
                    "insert into fetches (site, url, at, outcome, status, version, etag) "
                    "values (?, 'u', ?, 'not_modified', 304, 1, ?)",
                    [(f"s{i}", when, f'"{i}"') for i in range(a.sites)])
        rows = store.conn.execute("select count(*) from fetches").fetchone()[0]
        store.close()
        print(f"{a.sites} sites, {a.days} days of daily checks: {rows} fetch rows, database "
              f"{db_bytes(db) / 1e6:.0f} MB (built in {time.perf_counter() - t0:.0f} s)")
        base = [sys.executable, "-m", "monitor.cli", "--config", str(config), "--db", str(db)]
        for args in (["status"], ["sites"], ["history", f"s{a.sites // 2}"]):
            started = time.perf_counter()
            subprocess.run(base + args, capture_output=True, timeout=600, check=True)
            print(f"  `monitor {' '.join(args)}`: {time.perf_counter() - started:.2f} s")
        store = Store(db)
        started = time.perf_counter()
        cutoff = at(start + timedelta(days=a.days + 1 - a.keep_days))
        folded = store.roll_up_fetches(cutoff)
        took = time.perf_counter() - started
        store.conn.execute("vacuum")
        left = store.conn.execute("select count(*) from fetches").fetchone()[0]
        days = store.conn.execute("select count(*) from fetch_days").fetchone()[0]
        store.close()
        print(f"  roll-up, {a.keep_days} days kept: {folded} rows folded in {took:.1f} s; "
              f"{left} fetch rows and {days} daily counts left; database "
              f"{db_bytes(db) / 1e6:.0f} MB after VACUUM")


if __name__ == "__main__":
    main()
