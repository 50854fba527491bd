"""Crawl N distinct ~30 KB policy pages from a loopback server; print the figures.

    uv run python bench/bench_crawl.py [--pages 1000] [--polite]

Figures: pages per second (whole command, and from first to last fetch), peak RSS of the crawl
process, database bytes after the first crawl and after an unchanged recrawl.

All pages live on one host (127.0.0.1), so Scrapy's per-domain politeness (one request at a
time, AutoThrottle) would serialise what, in real use, are 1,000 different domains. By default
the bench lifts the per-domain limit to stand for that (`--polite` keeps the shipped settings).
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_urlwatch import db_bytes  # noqa: E402
from monitor.loopback import LoopbackServer, Page, bundled_policies, bundled_policy  # noqa: E402

UNPOLITE = ["-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s", "CONCURRENT_REQUESTS=16",
            "-s", "AUTOTHROTTLE_ENABLED=False"]


def policy(i: int, texts: list[str]) -> str:
    """A distinct policy of about 30 KB: a sample policy, made unique, padded to size."""
    base = texts[i % len(texts)]
    text = f"Privacy Policy of Site {i}\n\nThis policy applies to service number {i}.\n\n" + base
    while len(text) < 28_000:
        text += "\n\n" + texts[(i + 1) % len(texts)][:6000]
    return text


def crawl(env: dict[str, str], extra: list[str]) -> tuple[float, float]:
    """Run `monitor crawl -q`; return (wall seconds, seconds between first and last fetch)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "monitor.cli", "crawl", "-q", *extra],
                          env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    print("  " + proc.stdout.strip().splitlines()[-1])
    if proc.returncode not in (0, 3):
        print(proc.stderr[-2000:])
    conn = sqlite3.connect(env["MONITOR_DB"])
    first, last = conn.execute("select min(at), max(at) from fetches where id > "
                               "(select coalesce(max(id), 0) - ? from fetches)",
                               [int(env["PAGES"])]).fetchone()
    from datetime import datetime

    span = (datetime.fromisoformat(last) - datetime.fromisoformat(first)).total_seconds()
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"  peak RSS of the crawl process: {max(peak, before) / 1024:.0f} MB")
    return wall, span


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--polite", action="store_true", help="keep one request at a time per host")
    a = ap.parse_args()
    texts = [bundled_policy(n) for n in bundled_policies()]
    extra = ["-s", "AUTOTHROTTLE_START_DELAY=0"] + ([] if a.polite else UNPOLITE)
    with tempfile.TemporaryDirectory() as tmp, LoopbackServer() as server:
        for i in range(a.pages):
            server.site[f"/s{i}/privacy"] = Page(text=policy(i, texts))
        sizes = [len(server.site[f"/s{i}/privacy"].render()) for i in range(min(a.pages, 50))]
        config, db = Path(tmp) / "sites.toml", Path(tmp) / "monitor.db"
        config.write_text("".join(f'[[sites]]\nname = "s{i}"\nurl = "{server.url}/s{i}/privacy"\n'
                                  for i in range(a.pages)))
        env = {**os.environ, "MONITOR_CONFIG": str(config), "MONITOR_DB": str(db),
               "PAGES": str(a.pages)}
        print(f"{a.pages} pages of ~{sum(sizes) / len(sizes) / 1024:.0f} KB on {server.url} "
              f"({'polite: 1 request at a time' if a.polite else 'per-host limit lifted'})")
        for label in ("first crawl", "unchanged recrawl"):
            print(label)
            before = db_bytes(db) if db.exists() else 0
            wall, span = crawl(env, extra)
            after = db_bytes(db)
            print(f"  {a.pages / wall:.0f} pages/s for the whole command ({wall:.1f} s), "
                  f"{a.pages / max(span, 1e-9):.0f} pages/s from first to last fetch")
            print(f"  database: {after / 1e6:.2f} MB, +{(after - before) / a.pages:.0f} bytes "
                  "a page")


if __name__ == "__main__":
    main()
