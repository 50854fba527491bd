"""Shared fixtures: a real HTTP server on 127.0.0.1, a work folder, the real `monitor` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from monitor.loopback import LoopbackServer

# Crawls in tests skip AutoThrottle's first-request delay; everything else stays as shipped.
FAST = ["-s", "AUTOTHROTTLE_START_DELAY=0", "-s", "DOWNLOAD_DELAY=0"]


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


@dataclass
class Monitor:
    """The real `monitor` entry point, run as a subprocess in a work folder."""

    folder: Path

    @property
    def config(self) -> Path:
        return self.folder / "sites.toml"

    @property
    def db(self) -> Path:
        return self.folder / "monitor.db"

    def env(self) -> dict[str, str]:
        return {**os.environ, "MONITOR_CONFIG": str(self.config), "MONITOR_DB": str(self.db)}

    def __call__(self, *args: str, check: int | None = 0,
                 timeout: float = 120) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([sys.executable, "-m", "monitor.cli", *args], cwd=self.folder,
                              env=self.env(), capture_output=True, text=True, timeout=timeout)
        if check is not None and proc.returncode != check:
            raise AssertionError(f"monitor {' '.join(args)} exited {proc.returncode}, not "
                                 f"{check}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
        return proc

    def crawl(self, *sites: str, check: int | None = 0) -> subprocess.CompletedProcess[str]:
        return self("crawl", *FAST, *sites, check=check)

    def history(self, site: str) -> list[dict]:
        return json.loads(self("history", site, "--json").stdout)

    def sites(self, *entries: tuple[str, str], extra: str = "") -> None:
        """Write sites.toml with (name, url) entries."""
        self.config.write_text(extra + "".join(
            f'[[sites]]\nname = "{n}"\nurl = "{u}"\n\n' for n, u in entries))


@pytest.fixture
def monitor(tmp_path: Path) -> Monitor:
    return Monitor(tmp_path)
