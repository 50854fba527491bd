"""100,000 sites on one machine: `monitor run` for simulated days compressed into real minutes.

    uv run python bench/bench_100k.py [--sites 100000] [--hosts 100] [--minutes 60] [--days 2]

The sites live on `--hosts` loopback host names (127.0.0.1 ... 127.0.0.N), served by
`bench/static_site.py --generate` (pages made on request, ETag and Last-Modified; 304 to a
matching conditional request). Each site is scheduled `every <minutes/days>m`: one simulated
day is `minutes / days` real minutes, and each site is due once a day. The store is seeded as
if the daemon had been running: each site's last run spread evenly over the day before, so the
slots spread over the day (a fleet that starts from nothing would be due all at once). The
daemon runs with the shipped settings (polite: one request at a time per host, AutoThrottle).

Printed: due crawls completed per day; scheduling lag (fetch start minus slot) median and p95;
peak RSS of the daemon and of a crawl process; database size after each day and the growth of
the last one; wall times of `monitor status`, `sites` and `history` at that size; and the fetch
log rolled up (`Store.roll_up_fetches`, what `[daemon] fetch_log_days` does once a day): rows
folded and the database size after.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_daemon import Sampler, percentile, read_log  # noqa: E402
from bench.bench_urlwatch import db_bytes  # noqa: E402


def seed(db: Path, names: list[str], day: float, start: datetime) -> None:
    """The sites' rows, each last run spread evenly over the day before `start`."""
    from monitor.store import Store

    store = Store(db)
    store.sync_sites([(n, "") for n in names])
    runs = {}
    for i, name in enumerate(names):
        last = start - timedelta(seconds=day * (len(names) - i) / len(names))
        runs[name] = (last.isoformat().replace("+00:00", "Z"), None)
    store.schedule.ran(runs)  # type: ignore[arg-type]
    store.close()


def timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, capture_output=True, timeout=600)
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sites", type=int, default=100_000)
    ap.add_argument("--hosts", type=int, default=100)
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--days", type=int, default=2)
    a = ap.parse_args()
    day = a.minutes * 60 / a.days  # seconds of one simulated day
    with tempfile.TemporaryDirectory() as tmpdir:
        folder = Path(tmpdir)
        server = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "static_site.py"), str(folder),
             "--generate", str(a.sites), "--hosts", str(a.hosts),
             "--seconds", str(a.minutes * 60 + 600)], stdout=subprocess.PIPE, text=True)
        assert server.stdout is not None
        port = server.stdout.readline().strip()
        names = [f"s{i}" for i in range(a.sites)]
        config, db = folder / "sites.toml", folder / "monitor.db"
        config.write_text("[daemon]\nfetch_log_days = 1\n\n" + "".join(
            f'[[sites]]\nname = "s{i}"\nurl = "http://127.0.0.{1 + i % a.hosts}:{port}/s{i}/'
            f'privacy.html"\nschedule = "every {int(day)}s"\n' for i in range(a.sites)))
        start = datetime.now(UTC) + timedelta(seconds=5)
        seed(db, names, day, start)
        command = [sys.executable, "-m", "monitor.cli", "--config", str(config), "--db",
                   str(db), "run", "--log-format", "json"]
        print(f"{a.sites} sites on {a.hosts} hosts, each due once a simulated day of "
              f"{day / 60:.0f} real minutes, {a.days} days; {os.cpu_count()} cores", flush=True)
        events: list[dict] = []
        proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, cwd=folder)
        reader = threading.Thread(target=read_log, args=(proc.stderr, events), daemon=True)
        reader.start()
        sampler = Sampler(proc.pid)
        sampler.start()
        sizes = []
        try:
            for d in range(a.days):
                time.sleep(max(0.0, (start + timedelta(seconds=day * (d + 1)) -
                                     datetime.now(UTC)).total_seconds()))
                sizes.append(db_bytes(db))
                print(f"  day {d + 1} over: database {sizes[-1] / 1e6:.0f} MB, "
                      f"{sum(1 for e in events if e.get('event') == 'fetch')} fetches so far",
                      flush=True)
        finally:
            sampler.stop.set()
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=60)
            reader.join(timeout=5)
        fetches = [e for e in events if e.get("event") == "fetch"]
        print(f"daemon stopped: exit {code}")
        for d in range(a.days):
            lo, hi = start + timedelta(seconds=day * d), start + timedelta(seconds=day * (d + 1))
            due = [f for f in fetches if lo <= datetime.fromisoformat(f["due"]) < hi]
            lags = [f["lag_s"] for f in due]
            outcomes: dict[str, int] = {}
            for f in due:
                outcomes[f["outcome"]] = outcomes.get(f["outcome"], 0) + 1
            print(f"day {d + 1}: {len({f['site'] for f in due})} of {a.sites} sites crawled "
                  f"for a slot that day; outcomes {outcomes}")
            if lags:
                print(f"  scheduling lag: median {statistics.median(lags):.1f} s, p95 "
                      f"{percentile(lags, 0.95):.1f} s, max {max(lags):.1f} s")
        crawls = [e for e in events if e.get("event") == "crawl"]
        if crawls:
            print(f"crawl subprocesses {len(crawls)}, sites each median "
                  f"{statistics.median(c['sites'] for c in crawls):g}, duration median "
                  f"{statistics.median(c['duration_s'] for c in crawls):.1f} s")
        print(f"peak RSS: daemon {sampler.daemon_hwm / 1024:.0f} MiB, crawl process "
              f"{sampler.crawl_hwm / 1024:.0f} MiB")
        print("database: " + ", ".join(f"after day {d + 1} {s / 1e6:.0f} MB"
                                      for d, s in enumerate(sizes))
              + (f"; growth on day {a.days}: {(sizes[-1] - sizes[-2]) / 1e6:.1f} MB"
                 if len(sizes) > 1 else ""))
        base = [sys.executable, "-m", "monitor.cli", "--config", str(config), "--db", str(db)]
        for args in (["status"], ["sites"], ["history", f"s{a.sites // 2}"]):
            print(f"`monitor {' '.join(args)}`: {timed(base + args):.2f} s")
        from monitor.store import Store

        store = Store(db)
        rows = store.conn.execute("select count(*) from fetches").fetchone()[0]
        started = time.perf_counter()
        folded = store.roll_up_fetches(datetime.now(UTC).isoformat().replace("+00:00", "Z"))
        took = time.perf_counter() - started
        store.conn.execute("vacuum")
        store.close()
        print(f"fetch log roll-up (retention 0): {folded} of {rows} rows folded into daily "
              f"counts in {took:.1f} s; database {db_bytes(db) / 1e6:.0f} MB after VACUUM")
        problems = [e for e in events if e.get("level") in ("ERROR", "CRITICAL")]
        for e in problems[:5]:
            print("  !", json.dumps(e)[:300])
        server.kill()
        server.wait()


if __name__ == "__main__":
    main()
