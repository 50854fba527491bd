"""Screenshots of the main pages of `monitor serve`, to look at them as a person would.

    uv run python tools/screenshots.py [--db monitor.db] [--out snapshots/screenshots/]

Without --db it runs `monitor demo --dir` in a temporary folder first (about 15 s) and shoots
its database. Pages are rendered in the system Chromium (/usr/bin/chromium, or
$MONITOR_CHROMIUM) through Playwright, 1280 px wide, whole page; one PNG a page in --out.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM = os.environ.get("MONITOR_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def pages(site: str, change: int) -> list[tuple[str, str]]:
    return [
        ("home", "/"),
        ("home-recipients", "/?category=recipients"),
        ("site", f"/sites/{site}"),
        ("change", f"/sites/{site}/changes/{change}"),
        ("compare", f"/sites/{site}/compare?from={change}&to=1"),
        ("version", f"/sites/{site}/versions/{change}"),
        ("search", "/search?q=data+brokers"),
        ("datasette-versions", "/monitor/versions"),
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, proc: subprocess.Popen[bytes], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"monitor serve exited {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer in {seconds:.0f} s")


def shoot(db: Path, out: Path, site: str, change: int) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "monitor.cli", "--db", str(db), "serve",
                             "--port", str(port)])
    written = []
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/", proc)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            for name, path in pages(site, change):
                page.goto(base + path)
                target = out / f"{name}.png"
                # whole page, but datasette's long tables only as far as a screen shows
                page.screenshot(path=str(target), full_page=not name.startswith("datasette"))
                written.append(target)
                print(f"{target}  {path}")
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", type=Path, help="database to show (default: a fresh demo's)")
    ap.add_argument("--out", type=Path, default=Path("snapshots") / "screenshots",
                    help="folder for the PNGs (default: snapshots/screenshots, not versioned)")
    ap.add_argument("--site", default="wemet")
    ap.add_argument("--change", type=int, default=2, help="version whose change is shown")
    a = ap.parse_args()
    if a.db:
        shoot(a.db, a.out, a.site, a.change)
        return
    with tempfile.TemporaryDirectory(prefix="monitor-shots-") as tmp:
        subprocess.run([sys.executable, "-m", "monitor.cli", "demo", "--dir", tmp], check=True,
                       stdout=subprocess.DEVNULL)
        shoot(Path(tmp) / "monitor.db", a.out, a.site, a.change)


if __name__ == "__main__":
    main()
