"""One crawl in a subprocess, bounded in time and memory, for the daemon.

The Twisted reactor cannot be restarted, and one site must not be able to take the daemon down
with it: each crawl is `monitor crawl` in its own process group, with a memory limit, dying with
the daemon, cut (SIGTERM, then SIGKILL) at its time bound or after a stop's grace.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from monitor.config import DaemonSettings

KILL_WAIT = 2.0  # seconds between SIGTERM and SIGKILL to a crawl's process group
POLL = 0.2  # seconds between looks at a running crawl


@dataclass(frozen=True)
class Ended:
    """How a crawl subprocess ended: exit status, and why it was cut when it was."""

    returncode: int
    seconds: float
    cut: str | None  # "crawl timed out after 600 s", "crawl cut at shutdown", or None
    output: str  # the tail of its stdout and stderr


def crawl_command(config: Path, db: Path, names: list[str], settings: tuple[str, ...]) -> list[str]:
    flags = [arg for setting in settings for arg in ("-s", setting)]
    return [sys.executable, "-m", "monitor.cli", "--config", str(config), "--db", str(db),
            "crawl", "-q", "--no-deliver", *flags, *names]  # the daemon delivers itself


def child_limits(memory_mb: int) -> Callable[[], None]:
    """What the child does before exec: die with the daemon (even on kill -9), cap its memory."""
    parent = os.getpid()
    prctl = None
    if sys.platform.startswith("linux"):
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved here, not after fork

    def apply() -> None:
        if prctl is not None:
            prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: an orphan crawl would race the next one
            if os.getppid() != parent:
                os._exit(1)
        if memory_mb:
            import resource

            limit = memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def run_crawl(command: list[str], options: DaemonSettings,
              stop_at: Callable[[], float | None]) -> Ended:
    """Run one crawl; cut it (whole process group) at its time bound or after a stop's grace."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as output:
        # The thread that starts the child must outlive it (PDEATHSIG follows the thread).
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=output,
                                stderr=subprocess.STDOUT, process_group=0,
                                preexec_fn=child_limits(options.crawl_memory_mb))
        cut = watch(proc, started + options.crawl_timeout, options, stop_at)
        output.seek(0)
        tail = output.read()[-2000:].decode("utf-8", errors="replace").strip()
    return Ended(proc.returncode, time.monotonic() - started, cut, tail)


def watch(proc: subprocess.Popen[bytes], deadline: float, options: DaemonSettings,
          stop_at: Callable[[], float | None]) -> str | None:
    """Wait for `proc`; return why it had to be cut, or None when it ended by itself."""
    while True:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=POLL)
            return None
        now, stopped = time.monotonic(), stop_at()
        if now >= deadline:
            kill_group(proc)
            return f"crawl timed out after {options.crawl_timeout:g} s"
        if stopped is not None and now >= stopped + options.stop_grace:
            kill_group(proc)
            return "crawl cut at shutdown"


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the crawl's process group, then SIGKILL what is left of it."""
    for sig, wait in ((signal.SIGTERM, KILL_WAIT), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=wait)
            return


def failure_reason(ended: Ended) -> str:
    """Why a site of this crawl has no fetch recorded."""
    if ended.cut:
        return ended.cut
    if ended.returncode < 0:
        name = signal.Signals(-ended.returncode).name
        return f"crawl process killed by {name}" + (
            " (memory limit?)" if name in ("SIGKILL", "SIGSEGV", "SIGABRT") else "")
    last = ended.output.splitlines()[-1] if ended.output else ""
    return f"crawl process exited with status {ended.returncode}" + (f": {last}" if last else "")
