"""Policy Monitor against urlwatch, side by side in one run, on 1,000 static loopback policy pages.

    uv run python bench/bench_urlwatch.py [--pages 1000] [--rounds 3] [--no-validators]

The bench writes 1,000 distinct generated policy pages (~46 KB of HTML, ~30 KB of policy text
each), serves them from a static server in its own process on 127.0.0.1 (`bench/static_site.py`:
ETag and Last-Modified, 304 to a matching conditional request, as nginx does;
`--no-validators`: neither, as dynamic pages), installs urlwatch 2.29 in a throw-away virtualenv
(`--urlwatch-venv DIR` reuses one), and times both as whole commands, first crawl then an
unchanged recrawl, politeness off for both (urlwatch: its 10 worker threads, `html2text`
filter; Policy Monitor: `monitor crawl` with the per-host limit and AutoThrottle lifted). Rounds
alternate which tool goes first; each starts from empty caches. Printed: pages per second,
ratios (ours / urlwatch's), peak RSS of each command, storage after each check, and what a page
costs us by stage (fetch: a crawl with no pipeline; extract and hash: in process; store: the
rest of `track`).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.static_site import write_pages  # noqa: E402

UNPOLITE = ["CONCURRENT_REQUESTS=32", "CONCURRENT_REQUESTS_PER_DOMAIN=32",
            "AUTOTHROTTLE_ENABLED=False", "DOWNLOAD_DELAY=0"]
URLWATCH = "urlwatch==2.29"


def tree_pss_kb(pid: int) -> int:
    """Proportional set size of a process and its children (shared pages counted once)."""
    total = 0
    pids = [pid]
    while pids:
        p = pids.pop()
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
            for task in os.listdir(f"/proc/{p}/task"):
                kids = Path(f"/proc/{p}/task/{task}/children").read_text()
                pids += [int(c) for c in kids.split()]
        except OSError:
            continue
    return total


def run(cmd: list[str], env: dict[str, str] | None = None,
        timeout: float = 600) -> tuple[float, float, str]:
    """Run a whole command; (wall seconds, peak memory in MB of it and its children together
    (PSS, sampled every 0.2 s), its last output line)."""
    started = time.perf_counter()
    peak = 0
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        polls = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                raise SystemExit(f"timed out: {' '.join(cmd)}")
            polls += 1
            if polls % 40 == 0:
                peak = max(peak, tree_pss_kb(proc.pid))
            time.sleep(0.005)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        lines = out.read().decode("utf-8", "replace").strip().splitlines()
    if proc.returncode not in (0, 3):
        print("\n".join(lines[-30:]))
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}")
    return wall, max(peak, usage.ru_maxrss) / 1024, lines[-1] if lines else ""


def urlwatch_venv(where: Path) -> Path:
    python = where / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(where)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", URLWATCH],
                       check=True, capture_output=True)
    return where / "bin" / "urlwatch"


def files_bytes(*paths: Path) -> int:
    return sum(p.stat().st_size for p in paths if p.exists())


def db_bytes(db: Path) -> int:
    if db.exists():
        conn = sqlite3.connect(db)
        conn.execute("pragma wal_checkpoint(truncate)")
        conn.close()
    return files_bytes(*db.parent.glob(db.name + "*"))


def urlwatch_files(folder: Path, base: str, pages: int) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    jobs = "---\n".join(f"name: s{i}\nurl: {base}/s{i}/privacy.html\nfilter:\n  - html2text\n"
                        for i in range(pages))
    (folder / "urls.yaml").write_text(jobs)
    (folder / "config.yaml").write_text("report:\n  stdout:\n    enabled: true\n"
                                        "    color: false\n")
    return ["--urls", str(folder / "urls.yaml"), "--config", str(folder / "config.yaml"),
            "--hooks", str(folder / "hooks.py"), "--cache", str(folder / "cache.db")]


def ours_files(folder: Path, base: str, pages: int) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "sites.toml"
    config.write_text("".join(f'[[sites]]\nname = "s{i}"\nurl = "{base}/s{i}/privacy.html"\n'
                              for i in range(pages)))
    return {**os.environ, "MONITOR_CONFIG": str(config), "MONITOR_DB": str(folder / "monitor.db")}


def ours_command(extra: list[str] = ()) -> list[str]:  # type: ignore[assignment]
    sets = [arg for s in UNPOLITE for arg in ("-s", s)]
    return [sys.executable, "-m", "monitor.cli", "crawl", "-q", *sets, *extra]


def one_round(tmp: Path, base: str, pages: int, urlwatch: Path, ours_first: bool) -> dict:
    figures: dict = {}
    uw_args = urlwatch_files(tmp / "urlwatch", base, pages)
    env = ours_files(tmp / "ours", base, pages)
    db = tmp / "ours" / "monitor.db"

    def ours() -> None:
        for check in ("first", "recrawl", "third"):
            wall, rss, last = run(ours_command(), env)
            figures[("ours", check)] = (wall, rss, db_bytes(db), last)

    def theirs() -> None:
        for check in ("first", "recrawl", "third"):
            wall, rss, last = run([str(urlwatch), *uw_args])
            figures[("urlwatch", check)] = (wall, rss,
                                            files_bytes(tmp / "urlwatch" / "cache.db"), last)

    for side in ((ours, theirs) if ours_first else (theirs, ours)):
        side()
    return figures


def stages(folder: Path, pages: int) -> dict[str, float]:
    """Milliseconds a page, by stage, in this process, on the same pages."""
    from monitor import config as siteconfig
    from monitor.records import Fetched
    from monitor.sources import extract_site
    from monitor.store import Store
    from monitor.track import track

    sample = min(pages, 300)
    config = siteconfig.parse({"sites": [{"name": f"s{i}", "url": f"http://127.0.0.1/s{i}"}
                                         for i in range(sample)]}, folder / "stages.toml")
    bodies = [(folder / f"s{i}" / "privacy.html").read_bytes() for i in range(sample)]
    kind = "text/html; charset=utf-8"
    t0 = time.perf_counter()
    texts = [extract_site(config.sites[i], bodies[i], kind) for i in range(sample)]
    t1 = time.perf_counter()
    for body, text in zip(bodies, texts, strict=True):
        hashlib.sha256(body).hexdigest()
        hashlib.sha256(text.encode()).hexdigest()
    t2 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "stages.db")
        store.sync_sites([(s.name, s.url) for s in config.sites])
        t3 = time.perf_counter()
        for i in range(sample):
            track(store, config.sites[i], Fetched(site=f"s{i}", url=config.sites[i].url,
                                                  at="2026-12-01T00:00:00Z", status=200,
                                                  body=bodies[i], content_type=kind))
        t4 = time.perf_counter()
        store.close()
    extract, hashing = (t1 - t0) / sample * 1000, (t2 - t1) / sample * 1000
    return {"extract": extract, "hash": hashing,
            "store": (t4 - t3) / sample * 1000 - extract - hashing}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-validators", action="store_true",
                    help="serve pages without ETag/Last-Modified (every recrawl downloads)")
    ap.add_argument("--urlwatch-venv", type=Path, help="reuse this virtualenv for urlwatch")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        site = tmp / "site"
        size = write_pages(site, a.pages)
        urlwatch = urlwatch_venv(a.urlwatch_venv or tmp / "urlwatch-venv")
        server = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "static_site.py"), str(site), "--seconds",
             str(120 + 120 * a.rounds), *(["--no-validators"] if a.no_validators else [])],
            stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None
            base = f"http://127.0.0.1:{server.stdout.readline().strip()}"
            print(f"{a.pages} pages of {size / 1024:.0f} KB on {base}, "
                  f"{'no validators' if a.no_validators else 'ETag and Last-Modified'}; "
                  f"{os.cpu_count()} cores")
            rounds = []
            for r in range(a.rounds):
                figures = one_round(tmp / f"round{r}", base, a.pages, urlwatch, r % 2 == 1)
                rounds.append(figures)
                for check in ("first", "recrawl", "third"):
                    uw, us = figures[("urlwatch", check)], figures[("ours", check)]
                    print(f"round {r + 1} {check:8}: urlwatch {a.pages / uw[0]:5.0f} pages/s "
                          f"({uw[0]:.2f} s), ours {a.pages / us[0]:5.0f} pages/s ({us[0]:.2f} s): "
                          f"{uw[0] / us[0]:.2f}x   [{us[3]}]")
            print("\nmedians over the rounds")
            for check in ("first", "recrawl", "third"):
                uw = statistics.median(f[("urlwatch", check)][0] for f in rounds)
                us = statistics.median(f[("ours", check)][0] for f in rounds)
                ratio = statistics.median(f[("urlwatch", check)][0] / f[("ours", check)][0]
                                          for f in rounds)
                print(f"  {check:8} urlwatch {a.pages / uw:5.0f} pages/s, ours "
                      f"{a.pages / us:5.0f} pages/s: ours/urlwatch {ratio:.2f}x")
            for tool in ("urlwatch", "ours"):
                rss = max(f[(tool, c)][1] for f in rounds for c in ("first", "recrawl", "third"))
                sizes = [rounds[-1][(tool, c)][2] / 1e6 for c in ("first", "recrawl", "third")]
                print(f"  {tool:8} peak memory {rss:.0f} MB (PSS of all its processes); "
                      "storage after 1, 2, 3 checks: "
                      + ", ".join(f"{s:.1f} MB" for s in sizes))
            wall, _, last = run(ours_command(["-s", "ITEM_PIPELINES={}"]),
                                ours_files(tmp / "fetch-only", base, a.pages))
        finally:
            server.kill()
            server.wait()
        cost = stages(site, a.pages)
        print(f"\nwhat a page costs us (ms): fetch {wall / a.pages * 1000:.2f} (a whole crawl "
              f"with no pipeline, {wall:.2f} s), "
              + ", ".join(f"{k} {v:.2f}" for k, v in cost.items()) + " (in one process)")


if __name__ == "__main__":
    main()
