"""`monitor history SITE` on a database of 100,000 versions across 1,000 sites.

    uv run python bench/bench_history.py [--sites 1000] [--versions 100]

Builds the database with the real store (schema and migrations), then times the real command,
interpreter start included, and prints the median and the worst of a few runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.store import Store, digest, now, pack  # noqa: E402


def build(db: Path, sites: int, per_site: int) -> None:
    store = Store(db)
    store.sync_sites([(f"site{i:04d}", f"https://example{i}.org/privacy") for i in range(sites)])
    at = now()
    change = json.dumps({"words_added": 12, "words_removed": 3})
    with store.transaction() as conn:
        for i in range(sites):
            site = f"site{i:04d}"
            rows = [(site, n, digest(f"{site}{n}".encode()), pack(f"policy {site} {n}"), 3000 + n,
                     at, at) for n in range(1, per_site + 1)]
            conn.executemany("insert into versions (site, number, hash, text, size, first_seen, "
                             "last_seen) values (?, ?, ?, ?, ?, ?, ?)", rows)
            conn.executemany(
                "insert into changes (site, from_version, to_version, at, major, categories, "
                "findings, ignored, stats) values (?, ?, ?, ?, ?, ?, '[]', '[]', ?)",
                [(site, n - 1, n, at, n % 7 == 0, '["recipients"]' if n % 7 == 0 else "[]",
                  change) for n in range(2, per_site + 1)])
    store.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=1000)
    ap.add_argument("--versions", type=int, default=100, help="versions a site")
    ap.add_argument("--runs", type=int, default=7)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "monitor.db"
        started = time.perf_counter()
        build(db, a.sites, a.versions)
        print(f"built {a.sites * a.versions:,} versions across {a.sites:,} sites in "
              f"{time.perf_counter() - started:.1f} s ({db.stat().st_size / 1e6:.0f} MB)")
        env = {**os.environ, "MONITOR_DB": str(db)}
        cmd = [str(Path(sys.executable).parent / "monitor"), "history", f"site{a.sites // 2:04d}"]
        for fmt in ([], ["--json"]):
            times = []
            for _ in range(a.runs):
                t0 = time.perf_counter()
                out = subprocess.run(cmd + fmt, env=env, capture_output=True, text=True,
                                     check=True)
                times.append(time.perf_counter() - t0)
            lines = len(out.stdout.splitlines())
            print(f"monitor history {' '.join(fmt)}: median {statistics.median(times):.3f} s, "
                  f"worst {max(times):.3f} s ({lines} lines), interpreter start included")
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        print(f"(a bare interpreter start here: {time.perf_counter() - t0:.3f} s)")


if __name__ == "__main__":
    main()
