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

from monitor.config import Site
from monitor.loopback import LoopbackServer
from monitor.store import Store

# Crawls in tests skip AutoThrottle's first-request delay; everything else stays as shipped.
FAST = ["-s", "AUTOTHROTTLE_START_DELAY=0", "-s", "DOWNLOAD_DELAY=0"]


SITE = Site(name="wemet", url="https://example.org/privacy")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A real SQLite store in a temporary folder, knowing the site SITE."""
    s = Store(tmp_path / "m.db")
    s.sync_sites([(SITE.name, SITE.url)])
    yield s
    s.close()


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

    def __call__(self, *args: str, check: int | None = 0, timeout: float = 120,
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([sys.executable, "-m", "monitor.cli", *args], cwd=self.folder,
                              env={**self.env(), **(env or {})}, capture_output=True, text=True,
                              timeout=timeout)
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


def make_pdf(text: str, lines_a_page: int = 60) -> bytes:
    """A real, minimal PDF (Helvetica text, one line a row) for crawling PDF policies."""
    rows = [r for line in text.splitlines() for r in wrap(line)] or [""]
    pages = [rows[i:i + lines_a_page] for i in range(0, len(rows), lines_a_page)]
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for page in pages:
        ops = "BT /F1 9 Tf 40 800 Td 12 TL " + " ".join(f"({esc(r)}) '" for r in page) + " ET"
        stream = ops.encode("latin-1", "replace")
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 3 0 R >> >> >>" % (len(objects)))
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    return pdf_file(objects)


def pdf_file(objects: list[bytes]) -> bytes:
    """A PDF file of `objects` (object 1 the catalog), with its cross-reference table."""
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1,
                                                                            xref)
    return bytes(out)


def wrap(line: str, width: int = 100) -> list[str]:
    import textwrap

    return textwrap.wrap(line, width) or [""]


def esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
