"""Page load times of `monitor serve` on a database of 1,000 sites with history.

    uv run python bench/bench_web.py [--sites 1000] [--versions 10] [--fetches 30] [--runs 5]

Builds the database through the store (`add_version`, `add_change`, `record_fetch`: the same
statements, triggers and search index a crawl writes), each site a bundled policy with its own
edits, each change classified by the real classifier (cached per distinct pair of texts), some
fetches failed; then serves it with the real `monitor serve` and times every kind of page
(first load, then the median of --runs) over HTTP on 127.0.0.1. Prints the figures.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.classify import classify
from monitor.clock import stamp
from monitor.loopback import bundled_policies, bundled_policy
from monitor.records import Change, Classification
from monitor.store import FetchRecord, Store

EDITS = [
    "We may share your contact details with advertising partners and data brokers.",
    "You can reach our data protection officer at dpo@{site}.example.",
    "We keep your account data for 7 years after you close your account.",
    "We transfer personal data to servers located in Singapore.",
    "Our services are not directed to children under 13.",
    "We use your voice recordings to improve our speech recognition.",
    "We may disclose information to law enforcement agencies when required.",
    "We are certified under ISO 27001.",
    "You have the right to object to profiling at any time.",
    "Last updated: 1 March 2026.",
]


def texts(base: str, site: str, versions: int) -> list[str]:
    """Version n of a site: its policy with the first n-1 edits, each after a paragraph."""
    paragraphs = base.split("\n\n")
    out = []
    for n in range(versions):
        edited = list(paragraphs)
        for k, edit in enumerate(EDITS[:n]):
            at = (k * 7 + 3) % len(edited)
            edited.insert(at + 1, edit.format(site=site))
        out.append(f"Privacy policy of {site}\n\n" + "\n\n".join(edited) + "\n")
    return out


def build(db: Path, sites: int, versions: int, fetches: int) -> None:
    policies = [bundled_policy(name) for name in bundled_policies()]
    judged: dict[tuple[int, int], Classification] = {}
    start = datetime(2025, 1, 1, tzinfo=UTC)
    store = Store(db)
    names = [f"site{i:04d}" for i in range(sites)]
    store.sync_sites([(n, f"https://{n}.example/privacy") for n in names])
    for i, site in enumerate(names):
        kind = i % len(policies)
        history = texts(policies[kind], site, versions)
        with store.transaction():
            for n, text in enumerate(history, 1):
                at = stamp(start + timedelta(days=30 * n, minutes=i))
                fetch = store.record_fetch(FetchRecord(site=site, url=f"https://{site}.example/"
                                                       "privacy", at=at, outcome="new",
                                                       status=200))
                store.add_version(site, text, at=at, snapshot=None, fetch_id=fetch)
                if n > 1:
                    key = (kind, n)
                    if key not in judged:
                        judged[key] = classify(history[n - 2], text)
                    store.add_change(Change(site=site, from_version=n - 1, to_version=n, at=at,
                                            classification=judged[key]))
            for k in range(fetches - versions):
                at = stamp(start + timedelta(days=30 * versions + k, minutes=i))
                failed = k % 9 == 4
                store.record_fetch(FetchRecord(
                    site=site, url=f"https://{site}.example/privacy", at=at,
                    outcome="failed" if failed else "same", status=503 if failed else 200,
                    error="HTTP 503 Service Unavailable" if failed else None))
    store.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load(url: str) -> tuple[float, int]:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as response:
        size = len(response.read())
    return time.perf_counter() - started, size


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=1000)
    ap.add_argument("--versions", type=int, default=10, help="versions a site")
    ap.add_argument("--fetches", type=int, default=30, help="fetches a site")
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "monitor.db"
        started = time.perf_counter()
        build(db, a.sites, a.versions, a.fetches)
        print(f"built {a.sites:,} sites, {a.sites * a.versions:,} versions, "
              f"{a.sites * (a.versions - 1):,} changes, {a.sites * a.fetches:,} fetches in "
              f"{time.perf_counter() - started:.0f} s; database {db.stat().st_size / 1e6:.0f} MB")
        port = free_port()
        env = {**os.environ, "MONITOR_CONFIG": str(Path(tmp) / "none.toml")}
        proc = subprocess.Popen([sys.executable, "-m", "monitor.cli", "--db", str(db), "serve",
                                 "--port", str(port)], env=env, stdout=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    load(base + "/-/versions.json")
                    break
                except OSError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise SystemExit("monitor serve did not start") from None
                    time.sleep(0.1)
            mid, last = f"site{a.sites // 2:04d}", a.versions
            pages = [
                ("home (every site)", "/"),
                ("home, one category", "/?category=recipients"),
                ("site timeline", f"/sites/{mid}"),
                ("change page", f"/sites/{mid}/changes/{last}"),
                ("compare v1..vN (classified)", f"/sites/{mid}/compare?from=1&to={last}"),
                ("version page", f"/sites/{mid}/versions/{last}"),
                ("search, common words", "/search?q=personal+data"),
                ("search, rare words", "/search?q=speech+recognition"),
                ("feed: major changes", "/feeds/major.atom"),
                ("feed: one site", f"/feeds/sites/{mid}.atom"),
                ("feed: one category", "/feeds/categories/transfer.atom"),
                ("datasette: versions table", "/monitor/versions"),
                ("datasette: changes table", "/monitor/changes"),
            ]
            print(f"\n{'page':<30} {'first':>8} {'median':>8} {'max':>8} {'size':>9}")
            for name, path in pages:
                first, size = load(base + path)
                times = [load(base + path)[0] for _ in range(a.runs)]
                print(f"{name:<30} {first * 1000:>6.0f}ms {statistics.median(times) * 1000:>6.0f}ms"
                      f" {max(times) * 1000:>6.0f}ms {size / 1000:>7.0f}kB")
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
