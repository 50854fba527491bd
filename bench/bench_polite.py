"""Politeness across many hosts: 1,000 sites on 50 loopback host names, shipped settings.

    uv run python bench/bench_polite.py [--pages 1000] [--hosts 50] [--latency 0.02]

Site i lives on 127.0.0.(1 + i % hosts), all served by `bench/static_site.py` (each answer
waits `--latency` seconds, as a real server's would). `monitor crawl` runs with the settings it
ships (one request at a time per host, AutoThrottle, robots.txt). The server counts, per host,
how many requests it was answering at once: politeness holds when that is never above 1, while
many hosts are served at the same time. Printed: wall time, pages per second, the most
requests one host saw at once, and the most hosts busy at once.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_urlwatch import run  # noqa: E402
from bench.static_site import write_pages  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--hosts", type=int, default=50)
    ap.add_argument("--latency", type=float, default=0.02)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        size = write_pages(tmp / "site", a.pages)
        server = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "static_site.py"), str(tmp / "site"),
             "--hosts", str(a.hosts), "--latency", str(a.latency), "--seconds", "900"],
            stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None
            port = server.stdout.readline().strip()
            config = tmp / "sites.toml"
            config.write_text("".join(
                f'[[sites]]\nname = "s{i}"\nurl = "http://127.0.0.{1 + i % a.hosts}:{port}'
                f'/s{i}/privacy.html"\n' for i in range(a.pages)))
            env = {**os.environ, "MONITOR_CONFIG": str(config),
                   "MONITOR_DB": str(tmp / "monitor.db")}
            print(f"{a.pages} pages of {size / 1024:.0f} KB on {a.hosts} hosts "
                  f"(127.0.0.1-{a.hosts}), {a.latency * 1000:.0f} ms a response, shipped "
                  f"polite settings; {os.cpu_count()} cores")
            wall, memory, last = run([sys.executable, "-m", "monitor.cli", "crawl", "-q"], env)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/__stats", timeout=10) as r:
                stats = json.load(r)
        finally:
            server.kill()
            server.wait()
        print(f"  {last}")
        print(f"  {wall:.1f} s, {a.pages / wall:.0f} pages/s, peak memory {memory:.0f} MB")
        print(f"  requests the server answered: {stats['requests']} (pages and robots.txt)")
        print(f"  most requests one host answered at once: {stats['most_at_once_per_host']} "
              f"(polite: 1)")
        print(f"  most hosts busy at once: {stats['most_hosts_at_once']} of {stats['hosts']}")


if __name__ == "__main__":
    main()
