"""The daemon as users run it: `monitor run` in a real subprocess, against a loopback site.

Every wait is bounded; every daemon is killed at teardown, whatever happened.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor import config as siteconfig
from monitor import scheduler
from monitor.clock import stamp
from monitor.errors import ConfigError
from monitor.loopback import Page, bundled_policy
from monitor.sandbox import Ended
from monitor.schedule import jitter, next_run, parse_schedule
from monitor.scheduler import Daemon, snapshot_path
from tests.receivers import Receiver

WEMET = bundled_policy("wemet")
BELIEVE = bundled_policy("believe")
FAST_DAEMON = "[daemon]\ntick = 0.3\nheartbeat_every = 1\nstop_grace = 2\n"
CRAWL = ["--crawl-setting", "AUTOTHROTTLE_START_DELAY=0", "--crawl-setting", "DOWNLOAD_DELAY=0"]


# --- the schedule arithmetic (pure) ---

def test_jitter_is_fixed_per_site_and_bounded():
    hourly, daily, seconds = (parse_schedule(s) for s in ("every 1h", "daily", "every 2s"))
    assert jitter("wemet", hourly) == jitter("wemet", hourly)
    assert jitter("wemet", hourly) != jitter("believe", hourly)
    assert 0 <= jitter("wemet", hourly) <= 300 and jitter("x", daily) <= 300
    assert jitter("wemet", seconds) <= 0.2


def test_next_run_keeps_its_grid_and_coalesces_missed_slots():
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    every = parse_schedule("every 1h")
    offset = timedelta(seconds=jitter("wemet", every))
    slot = now - timedelta(minutes=10)
    assert next_run("wemet", every, slot, now) == slot + timedelta(hours=1)  # no drift
    assert next_run("wemet", every, now - timedelta(days=3), now) == now  # once, now
    first = next_run("wemet", every, None, now)
    assert now <= first <= now + timedelta(seconds=10)
    cron = parse_schedule("0 3 * * *")
    at = next_run("wemet", cron, now - timedelta(hours=1), now)
    assert at - timedelta(seconds=jitter("wemet", cron)) == datetime(2026, 5, 2, 3, tzinfo=UTC)
    assert offset.total_seconds() > 0


# --- helpers for the real daemon ---

def write_sites(path: Path, sites: list[tuple[str, str, str]], daemon: str = FAST_DAEMON) -> None:
    path.write_text(daemon + "".join(f'\n[[sites]]\nname = "{n}"\nurl = "{u}"\nschedule = "{s}"\n'
                                     for n, u, s in sites))


def query(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    conn = sqlite3.connect(f"file:{db}?mode=rw", uri=True, timeout=30)
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError as e:
        if "no such table" in str(e):
            return []  # the daemon is still creating the database
        raise
    finally:
        conn.close()


def versions(db: Path, site: str) -> list[int]:
    if not db.exists():
        return []
    return [r[0] for r in query(db, "select number from versions where site = ? order by number",
                                (site,))]


def fetches(db: Path, site: str) -> list[tuple[str, str | None]]:
    if not db.exists():
        return []
    return query(db, "select outcome, error from fetches where site = ? order by id", (site,))


def wait_for(check: Callable[[], object], timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}\n"
                         f"daemon log:\n{log.read_text() if log.exists() else ''}")


def crawl_pids(db: Path) -> list[int]:
    """Crawl subprocesses writing to `db` (found by their command line)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if str(db).encode() in cmd and b"crawl" in cmd:
                pids.append(int(entry.name))
    return pids


class Daemons:
    """Start `monitor run` subprocesses; kill whatever is left at teardown."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder, self.env, self.procs = folder, env, []
        self.log = folder / "daemon.log"

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        with open(self.log, "ab") as log:
            proc = subprocess.Popen([sys.executable, "-m", "monitor.cli", "run", *CRAWL, *args],
                                    cwd=self.folder, env=self.env, stdout=subprocess.DEVNULL,
                                    stderr=log)
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes], within: float = 10) -> float:
        """SIGTERM; return how long the daemon took to exit (it must exit 0)."""
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=within + 5) == 0, self.log.read_text()
        return time.monotonic() - started

    def cleanup(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)


@pytest.fixture
def daemons(monitor) -> Iterator[Daemons]:
    d = Daemons(monitor.folder, monitor.env())
    try:
        yield d
    finally:
        d.cleanup()


# --- the daemon ---

@pytest.fixture
def hook() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


def test_run_versions_pages_by_itself_and_stops_on_sigterm(server, monitor, daemons, hook):
    server.site["/p"] = Page(text=WEMET)
    slack = f'[alerts.slack]\nwebhook_url = "{hook.url}/x"\n'
    write_sites(monitor.config, [("wemet", f"{server.url}/p", "every 2s")],
                daemon=FAST_DAEMON + "deliver_every = 1\n" + slack)
    proc = daemons.start()
    wait_for(lambda: versions(monitor.db, "wemet") == [1], 30, "version 1", daemons.log)
    # readers work while the daemon writes (WAL: no "database is locked")
    for _ in range(3):
        assert monitor.history("wemet")[0]["version"] == 1
        out = monitor("status").stdout
        assert f"daemon: running, pid {proc.pid}" in out and "every 2s" in out
    second = subprocess.run([sys.executable, "-m", "monitor.cli", "run"], env=monitor.env(),
                            cwd=monitor.folder, capture_output=True, text=True, timeout=30)
    assert second.returncode != 0 and "another `monitor run`" in second.stderr
    server.site["/p"] = Page(text=WEMET.replace(
        "\n", "\nWe also share your precise location with data brokers for advertising.\n", 1))
    wait_for(lambda: versions(monitor.db, "wemet") == [1, 2], 30, "version 2", daemons.log)
    wait_for(lambda: hook.posts, 10, "the alert, from the deliver job", daemons.log)
    assert daemons.stop(proc) < 10
    log = daemons.log.read_text()
    assert "fetch site=wemet outcome=new version=2" in log and "duration_ms=" in log
    assert "alert site=wemet channel=slack kind=change outcome=sent" in log
    [post] = hook.delivered()
    assert "data brokers" in json.dumps(post)
    assert "daemon: stopped" in monitor("status").stdout
    assert monitor("status", "--check", check=1).returncode == 1


def test_kill_9_mid_crawl_then_restart_runs_the_missed_crawl_once(server, monitor, daemons):
    server.site["/slow"] = Page(text=WEMET, delay=4)
    server.site["/b"] = Page(text=BELIEVE)
    write_sites(monitor.config, [("slow", f"{server.url}/slow", "every 10m"),
                                 ("believe", f"{server.url}/b", "every 2s")])
    proc = daemons.start()
    wait_for(lambda: server.site.hits.get("/slow"), 30, "the slow crawl to start", daemons.log)
    proc.kill()
    proc.wait(timeout=10)
    # the crawl dies with its daemon: it cannot race the next daemon's crawl of the same site
    wait_for(lambda: not crawl_pids(monitor.db), 10, "the orphan crawl to die", daemons.log)
    assert versions(monitor.db, "slow") == [] and fetches(monitor.db, "slow") == []
    server.site["/slow"] = Page(text=WEMET)

    proc = daemons.start()
    wait_for(lambda: versions(monitor.db, "slow") == [1], 30, "the missed crawl", daemons.log)
    believed = len(fetches(monitor.db, "believe"))  # a later crawl: the daemon moved on
    wait_for(lambda: len(fetches(monitor.db, "believe")) > believed, 20, "a later crawl",
             daemons.log)
    assert server.site.hits["/slow"] == 2  # the killed one, then once: not once per slot
    assert query(monitor.db, "pragma integrity_check") == [("ok",)]
    for site in ("slow", "believe"):
        assert versions(monitor.db, site) == [1]  # contiguous, unique, none lost
    daemons.stop(proc)

    proc = daemons.start()  # not due for 10 minutes: a restart does not crawl it again
    wait_for(lambda: "daemon started" in daemons.log.read_text().split("daemon stopped")[-1], 20,
             "the third start", daemons.log)
    believed = len(fetches(monitor.db, "believe"))
    wait_for(lambda: len(fetches(monitor.db, "believe")) > believed, 20, "a later crawl",
             daemons.log)
    assert server.site.hits["/slow"] == 2
    status = {s["site"]: s for s in json.loads(monitor("status", "--json").stdout)["sites"]}
    assert status["slow"]["next_run"] > datetime.now(UTC).isoformat()[:19]
    daemons.stop(proc)


def test_a_hanging_crawl_is_cut_and_recorded_and_sigterm_still_exits_promptly(
        server, monitor, daemons):
    server.site["/hang"] = Page(text=WEMET, delay=60)
    write_sites(monitor.config, [("hang", f"{server.url}/hang", "every 2s")],
                daemon=FAST_DAEMON + "crawl_timeout = 3\ncrawl_memory_mb = 1024\n")
    proc = daemons.start()
    wait_for(lambda: ("failed", "crawl timed out after 3 s") in fetches(monitor.db, "hang"), 30,
             "the timed-out crawl to be recorded", daemons.log)
    assert proc.poll() is None  # the daemon goes on
    wait_for(lambda: crawl_pids(monitor.db), 15, "the next crawl", daemons.log)
    limits = Path(f"/proc/{crawl_pids(monitor.db)[0]}/limits").read_text()
    assert f"Max address space         {1024 * 1024 * 1024}" in limits  # RLIMIT_AS
    assert daemons.stop(proc) < 10  # grace 2 s, then SIGTERM/SIGKILL to the crawl
    assert fetches(monitor.db, "hang")[-1] == ("failed", "crawl cut at shutdown")
    assert not crawl_pids(monitor.db)


def test_sighup_adds_and_removes_sites_and_a_broken_file_keeps_the_old_list(
        server, monitor, daemons):
    server.site["/a"] = Page(text=WEMET)
    server.site["/b"] = Page(text=BELIEVE)
    write_sites(monitor.config, [("alpha", f"{server.url}/a", "every 2s")])
    proc = daemons.start("--log-format", "json")
    wait_for(lambda: versions(monitor.db, "alpha") == [1], 30, "alpha", daemons.log)

    write_sites(monitor.config, [("alpha", f"{server.url}/a", "every 2s"),
                                 ("fast", f"{server.url}/b", "every 2s")])
    proc.send_signal(signal.SIGHUP)
    wait_for(lambda: versions(monitor.db, "fast") == [1], 30, "the new site", daemons.log)

    monitor.config.write_text("[[sites]\nname = broken")
    proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "reload failed" in daemons.log.read_text(), 10, "the reload error",
             daemons.log)
    seen = len(fetches(monitor.db, "alpha"))
    wait_for(lambda: len(fetches(monitor.db, "alpha")) > seen, 20, "alpha still watched",
             daemons.log)
    assert proc.poll() is None

    write_sites(monitor.config, [("fast", f"{server.url}/b", "every 2s")])
    proc.send_signal(signal.SIGHUP)
    wait_for(lambda: '"removed": ["alpha"]' in daemons.log.read_text(), 10, "the reload",
             daemons.log)
    daemons.stop(proc)  # that a removed site is no longer crawled: tested by the clock, below
    lines = [json.loads(line) for line in daemons.log.read_text().splitlines()]
    failed = next(x for x in lines if x["event"] == "reload failed, keeping the old site list")
    assert "not valid TOML" in failed["error"] and failed["sites"] == 2
    assert any(x["event"] == "fetch" and x["site"] == "fast" and x["outcome"] == "new"
               and "duration_ms" in x and "lag_s" in x for x in lines)
    assert os.environ.get("MONITOR_DB") != str(monitor.db)  # the test's env stayed its own


# --- the daemon's parts, in this process ---

@pytest.mark.parametrize(("table", "key"), [
    ("tick = 0", "daemon.tick"), ("batch_size = 2.5", "daemon.batch_size"),
    ("stop_grace = true", "daemon.stop_grace"), ("workers = 2", "daemon.workers")])
def test_bad_daemon_keys_fail_naming_the_file_and_the_key(tmp_path, table, key):
    path = tmp_path / "sites.toml"
    write_sites(path, [("wemet", "https://wemet.example/privacy", "daily")],
                daemon=f"[daemon]\n{table}\n")
    with pytest.raises(ConfigError) as info:
        siteconfig.load(path)
    assert f"key '{key}'" in str(info.value) and str(path) in str(info.value)


def test_importing_the_scheduler_imports_no_scheduling_or_crawling_library():
    code = ("import sys, monitor.scheduler; print(sorted({m.split('.')[0] for m in sys.modules}"
            " & {'apscheduler', 'scrapy', 'twisted', 'apprise', 'sqlite_utils'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=30, check=True)
    assert out.stdout.strip() == "[]"


def test_the_daemons_copy_of_sites_toml_is_for_its_user_only(tmp_path):
    config = tmp_path / "sites.toml"
    write_sites(config, [("wemet", "https://wemet.example/privacy", "daily")])
    config.chmod(0o644)
    snapshot = snapshot_path(tmp_path / "monitor.db")
    snapshot.write_text("an old copy")
    snapshot.chmod(0o644)
    daemon = Daemon(config, tmp_path / "monitor.db")
    daemon.watch(daemon.config)
    assert snapshot.stat().st_mode & 0o777 == 0o600
    assert snapshot.read_text() == config.read_text()


def test_a_reload_does_not_put_back_the_slot_of_a_crawl_ending_meanwhile(tmp_path, monkeypatch):
    config, db = tmp_path / "sites.toml", tmp_path / "monitor.db"
    write_sites(config, [("wemet", "https://wemet.example/privacy", "every 1h")])
    daemon = Daemon(config, db)
    daemon.watch(daemon.config)
    slot = daemon.due["wemet"]
    ended = threading.Event()

    def crawl_ends() -> None:  # the crawl of `wemet` (due at `slot`) ends
        daemon.finish({"wemet": slot}, daemon.config, (0, 0), Ended(0, 1.0, None, ""))
        ended.set()

    def parse_schedule_then_let_the_crawl_end(text: str):
        """Inside the reload: lets the crawl end meanwhile, if it can within a second."""
        if not ended.is_set() and not started:
            started.append(threading.Thread(target=crawl_ends))
            started[0].start()
            ended.wait(timeout=1)
        return parse_schedule(text)

    started: list[threading.Thread] = []
    monkeypatch.setattr(scheduler, "parse_schedule", parse_schedule_then_let_the_crawl_end)
    daemon.watch(daemon.config)  # SIGHUP
    started[0].join(timeout=10)
    assert ended.is_set()
    assert daemon.due["wemet"] == slot + timedelta(hours=1)  # not `slot` again: crawled at once
    [(last, nxt)] = query(db, "select last_run_at, next_run_at from sites")
    assert (last, nxt) == (stamp(slot), stamp(slot + timedelta(hours=1)))


def test_a_first_run_creates_the_database_folder(server, monitor, daemons):
    server.site["/p"] = Page(text=WEMET)
    write_sites(monitor.config, [("wemet", f"{server.url}/p", "every 2s")])
    db = monitor.folder / "new" / "folder" / "monitor.db"
    with open(daemons.log, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "monitor.cli", "--db", str(db), "run",
                                 *CRAWL], cwd=monitor.folder, env=monitor.env(),
                                stdout=subprocess.DEVNULL, stderr=log)
    daemons.procs.append(proc)
    wait_for(lambda: db.exists() and versions(db, "wemet") == [1], 30, "version 1", daemons.log)
    daemons.stop(proc)
    assert "Traceback" not in daemons.log.read_text()


class Clock:
    """The daemon's injected clock: time moves when the test says so."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def dispatch_at(self, daemon: Daemon, db: Path, moment: datetime,
                    names: tuple[str, ...]) -> list[str]:
        """Set the time, let the daemon dispatch, wait for its crawls: the sites fetched."""
        self.now = moment
        before = {n: len(fetches(db, n)) for n in names}
        daemon.dispatch()
        for thread in daemon.crawls:
            thread.join(timeout=60)
        return sorted(n for n in names if len(fetches(db, n)) > before[n])


def test_the_daemon_runs_sites_by_its_clock_so_a_day_passes_without_waiting(server, tmp_path):
    """The daemon reads the time from its injected clock: its dispatch decisions (which site is
    due, when it runs next) are tested at any hour without waiting for it; the crawls are real."""
    server.site["/h"] = Page(text=WEMET)
    server.site["/d"] = Page(text=BELIEVE)
    config, db = tmp_path / "sites.toml", tmp_path / "monitor.db"
    write_sites(config, [("hourly", f"{server.url}/h", "every 1h"),
                         ("daily", f"{server.url}/d", "daily")],
                daemon="[daemon]\nmax_crawls = 1\n")
    clock = Clock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    daemon = Daemon(config, db, crawl_settings=tuple(CRAWL[1::2]), clock=clock)
    daemon.watch(daemon.config)

    def dispatch_at(moment: datetime) -> list[str]:
        return clock.dispatch_at(daemon, db, moment, ("hourly", "daily"))

    start = clock.now
    assert dispatch_at(start) == []  # the first look comes after a short jitter
    assert dispatch_at(start + timedelta(minutes=5)) == ["daily", "hourly"]
    assert dispatch_at(start + timedelta(minutes=30)) == []
    assert dispatch_at(start + timedelta(hours=1, minutes=5)) == ["hourly"]
    [(nxt,)] = query(db, "select next_run_at from sites where name = 'daily'")
    assert stamp(start + timedelta(hours=12)) < nxt <= stamp(start + timedelta(days=1, hours=1))
    assert daemon.due["hourly"] <= start + timedelta(hours=2, minutes=5)


def test_a_site_removed_by_a_reload_is_no_longer_crawled(server, tmp_path):
    server.site["/a"] = Page(text=WEMET)
    server.site["/b"] = Page(text=BELIEVE)
    config, db = tmp_path / "sites.toml", tmp_path / "monitor.db"
    both = [("alpha", f"{server.url}/a", "every 1h"), ("fast", f"{server.url}/b", "every 1h")]
    write_sites(config, both, daemon="[daemon]\nmax_crawls = 1\n")
    clock = Clock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    daemon = Daemon(config, db, crawl_settings=tuple(CRAWL[1::2]), clock=clock)
    daemon.watch(daemon.config)

    def crawled_at(moment: datetime) -> list[str]:
        return clock.dispatch_at(daemon, db, moment, ("alpha", "fast"))

    assert crawled_at(clock.now + timedelta(minutes=5)) == ["alpha", "fast"]
    write_sites(config, both[1:], daemon="[daemon]\nmax_crawls = 1\n")
    daemon.reload()
    assert sorted(daemon.due) == ["fast"]
    assert crawled_at(clock.now + timedelta(hours=2)) == ["fast"]


def test_the_daemon_folds_old_unchanged_fetches_into_daily_counts(server, tmp_path):
    """`fetch_log_days`: once a day of the daemon's clock, unchanged fetches older than that
    become per-site daily counts; the version, the failures and the newest fetch stay."""
    server.site["/h"] = Page(text=WEMET)
    config, db = tmp_path / "sites.toml", tmp_path / "monitor.db"
    write_sites(config, [("hourly", f"{server.url}/h", "every 1h")],
                daemon="[daemon]\nmax_crawls = 1\nfetch_log_days = 30\n")
    clock = Clock(datetime.now(UTC))
    daemon = Daemon(config, db, crawl_settings=tuple(CRAWL[1::2]), clock=clock)
    daemon.watch(daemon.config)
    start = clock.now
    for hours in range(4):
        assert clock.dispatch_at(daemon, db, start + timedelta(hours=hours, minutes=5),
                                 ("hourly",)) == ["hourly"]
    assert [f[0] for f in query(db, "select outcome from fetches order by id")] == [
        "new", "same", "same", "same"]
    clock.dispatch_at(daemon, db, start + timedelta(days=40), ("hourly",))  # it folds, too
    kept = [f[0] for f in query(db, "select outcome from fetches order by id")]
    assert kept == ["new", "same"]  # the version's fetch and the newest one
    [(folded,)] = query(db, "select sum(fetches) from fetch_days where site = 'hourly'")
    assert folded == 3
