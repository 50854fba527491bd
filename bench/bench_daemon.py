"""The daemon under load: N loopback sites on a 1-minute schedule for M minutes.

    uv run python bench/bench_daemon.py --sites 1000 --minutes 10

Prints: crawls completed versus due, scheduling lag (fetch start minus due slot), the crawl
subprocesses (how many, sites each, duration), peak RSS of the daemon and of a crawl subprocess
(VmHWM from /proc), and the daemon's CPU while no crawl runs. Linux only (reads /proc).

Every site is on 127.0.0.1, so Scrapy's politeness (one request at a time per domain) would
serialise them all; the bench raises CONCURRENT_REQUESTS_PER_DOMAIN and AutoThrottle's target
concurrency to --per-domain through `monitor run --crawl-setting` (real sites are on many hosts).
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
from datetime import datetime
from pathlib import Path

from monitor.loopback import LoopbackServer, Page, bundled_policies, bundled_policy

TICK = os.sysconf("SC_CLK_TCK")


def kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            out += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    except OSError:
        pass
    return out


class Sampler(threading.Thread):
    """Poll the daemon and its crawl children: peak RSS, and CPU while nothing crawls."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.stop = pid, threading.Event()
        self.daemon_hwm = self.crawl_hwm = 0
        self.idle_ticks = 0
        self.idle_seconds = 0.0

    def run(self) -> None:
        last_t, last_cpu, last_idle = time.monotonic(), cpu_ticks(self.pid), False
        while not self.stop.wait(0.25):
            kids = children(self.pid)
            for kid in kids:
                self.crawl_hwm = max(self.crawl_hwm, kib(kid, "VmHWM"))
            self.daemon_hwm = max(self.daemon_hwm, kib(self.pid, "VmHWM"))
            try:
                now_t, now_cpu = time.monotonic(), cpu_ticks(self.pid)
            except OSError:
                return
            idle = not kids
            if idle and last_idle:
                self.idle_ticks += now_cpu - last_cpu
                self.idle_seconds += now_t - last_t
            last_t, last_cpu, last_idle = now_t, now_cpu, idle


def read_log(stream, events: list[dict]) -> None:
    for line in stream:
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            events.append({"event": "raw", "line": line.rstrip()})


def write_sites(path: Path, url: str, n: int) -> None:
    lines = ["[daemon]", "deliver_every = 30", ""]
    for i in range(n):
        lines += ["[[sites]]", f'name = "site{i:05d}"', f'url = "{url}/p/{i}"',
                  'schedule = "every 1m"', ""]
    path.write_text("\n".join(lines))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def report(events: list[dict], sampler: Sampler, args: argparse.Namespace, t0: datetime,
           t1: datetime) -> None:
    fetches = [e for e in events if e.get("event") == "fetch"]
    crawls = [e for e in events if e.get("event") == "crawl"]
    first: dict[str, datetime] = {}
    for f in fetches:
        first.setdefault(f["site"], datetime.fromisoformat(f["due"]))
    due = sum(int((t1 - first.get(f"site{i:05d}", t0)).total_seconds() // 60) + 1
              for i in range(args.sites))
    lags = [f["lag_s"] for f in fetches]
    outcomes: dict[str, int] = {}
    for f in fetches:
        outcomes[f["outcome"]] = outcomes.get(f["outcome"], 0) + 1
    print(f"sites {args.sites}, schedule every 1m, {args.minutes} min, per-domain concurrency "
          f"{args.per_domain}, load average at end {os.getloadavg()[0]:.2f} on "
          f"{os.cpu_count()} CPUs")
    print(f"crawls completed {len(fetches)} of {due} due ({len(fetches) / max(due, 1):.1%}); "
          f"outcomes {outcomes}")
    print(f"scheduling lag (fetch start - due slot): median {statistics.median(lags):.2f} s, "
          f"p95 {percentile(lags, 0.95):.2f} s, max {max(lags):.2f} s" if lags else "no fetch")
    if crawls:
        sizes = [c["sites"] for c in crawls]
        secs = [c["duration_s"] for c in crawls]
        print(f"crawl subprocesses {len(crawls)}: sites each median {statistics.median(sizes):g} "
              f"(max {max(sizes)}), duration median {statistics.median(secs):.1f} s "
              f"(max {max(secs):.1f} s), cut {sum(1 for c in crawls if c.get('cut'))}")
    print(f"peak RSS: daemon {sampler.daemon_hwm / 1024:.1f} MiB, crawl subprocess "
          f"{sampler.crawl_hwm / 1024:.1f} MiB")
    idle = sampler.idle_ticks / TICK / sampler.idle_seconds if sampler.idle_seconds else 0
    print(f"daemon CPU while no crawl runs: {idle:.2%} of one core "
          f"(over {sampler.idle_seconds:.0f} s idle)")
    problems = [e for e in events if e.get("level") in ("ERROR", "CRITICAL") or
                e.get("event") == "raw"]
    for e in problems[:5]:
        print("  !", json.dumps(e)[:300])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--per-domain", type=int, default=16,
                        help="CONCURRENT_REQUESTS_PER_DOMAIN for the crawls (all on 127.0.0.1)")
    args = parser.parse_args()
    texts = [bundled_policy(name) for name in bundled_policies()]
    with LoopbackServer() as server, tempfile.TemporaryDirectory() as tmp:
        for i in range(args.sites):
            server.site[f"/p/{i}"] = Page(text=texts[i % len(texts)])
        folder = Path(tmp)
        write_sites(folder / "sites.toml", server.url, args.sites)
        settings = ["AUTOTHROTTLE_START_DELAY=0", "DOWNLOAD_DELAY=0",
                    f"CONCURRENT_REQUESTS_PER_DOMAIN={args.per_domain}",
                    f"AUTOTHROTTLE_TARGET_CONCURRENCY={args.per_domain}", "LOG_LEVEL=ERROR"]
        command = [sys.executable, "-m", "monitor.cli", "--config", str(folder / "sites.toml"),
                   "--db", str(folder / "monitor.db"), "run", "--log-format", "json",
                   *[arg for s in settings for arg in ("--crawl-setting", s)]]
        print("daemon:", " ".join(command[1:]), flush=True)
        events: list[dict] = []
        t0 = datetime.now().astimezone()
        proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, cwd=folder)
        reader = threading.Thread(target=read_log, args=(proc.stderr, events), daemon=True)
        reader.start()
        sampler = Sampler(proc.pid)
        sampler.start()
        try:
            time.sleep(args.minutes * 60)
        finally:
            t1 = datetime.now().astimezone()
            sampler.stop.set()
            stopping = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=30)
            reader.join(timeout=5)
        print(f"SIGTERM: exit {code} after {time.monotonic() - stopping:.1f} s")
        report(events, sampler, args, t0, t1)


if __name__ == "__main__":
    main()
