"""The daemon behind `monitor run`: every site on its schedule, due sites batched into crawls.

    main thread      signals: TERM/INT stop (crawls get `stop_grace` s, then are cut), HUP reload
    APScheduler      dispatch   every `tick` s: due sites -> batches of <= `batch_size` sites,
                                at most `max_crawls` crawl subprocesses at a time
                     deliver    every `deliver_every` s: the alert outbox (monitor.alerts)
                     heartbeat  every `heartbeat_every` s: <db>-daemon.json, for `monitor status`
    one thread a crawl   `monitor crawl -q SITE...` in its own process group, bounded in time and
                         memory; afterwards: a failed fetch for every site it left unrecorded, one
                         log line a site, and each site's last_run_at / next_run_at moved on

State lives in the store: `sites.last_run_at` is the slot (due time) of the last run that ended,
and the next slot is computed from it, so a restart neither re-crawls sites that are not due nor
replays missed slots one by one. Memory holds only what is derived from it and what is in flight;
the two change together, under `Daemon.lock`, so that a reload cannot undo a crawl's finish.

Importing this module is cheap (no APScheduler, no Scrapy); `[daemon]` is checked by
`monitor.config` (`DaemonSettings`). The daemon reads the time through `clock` (injectable), so
its decisions can be tested without waiting for real schedules.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor import config as siteconfig
from monitor.clock import parse_time, stamp
from monitor.config import Config, Site
from monitor.errors import MonitorError
from monitor.schedule import next_run, parse_schedule
from monitor.store import Store
from monitor.store import now as now_text

if TYPE_CHECKING:
    from monitor.alerts import Delivery
    from monitor.sandbox import Ended

log = logging.getLogger("monitor.daemon")


def event(name: str, level: int = logging.INFO, **fields: Any) -> None:
    """One log line: an event name and its fields (rendered as text or JSON by the CLI)."""
    log.log(level, name, extra={"fields": fields})


# --- files next to the database ---

def lock_path(db: Path) -> Path:
    return db.with_name(db.name + "-daemon.lock")


def heartbeat_path(db: Path) -> Path:
    return db.with_name(db.name + "-daemon.json")


def snapshot_path(db: Path) -> Path:
    return db.with_name(db.name + "-daemon.toml")


def take_lock(db: Path, wait: float = 2.0) -> int:
    """Hold `<db>-daemon.lock` for the life of the process: one daemon a database."""
    db.parent.mkdir(parents=True, exist_ok=True)  # a first run: no database folder yet
    fd = os.open(lock_path(db), os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                other = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                os.close(fd)
                raise MonitorError(f"another `monitor run` uses {db} (pid {other})") from None
            time.sleep(0.1)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def write_atomically(path: Path, text: str, mode: int = 0o644) -> None:
    """Replace `path` with `text` at once; the file has `mode` from the start (never wider)."""
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with open(fd, "w", encoding="utf-8") as file:
        os.fchmod(fd, mode)  # a leftover temporary file keeps its mode otherwise
        file.write(text)
    os.replace(tmp, path)


def read_heartbeat(db: Path) -> dict[str, Any] | None:
    """What the daemon last said about itself, or None when no daemon ever ran on `db`."""
    try:
        return json.loads(heartbeat_path(db).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


@contextlib.contextmanager
def opened(db: Path) -> Iterator[Store]:
    """A store for this thread only (sqlite3 connections stay in the thread that made them)."""
    store = Store(db)
    try:
        yield store
    finally:
        store.close()


# --- the daemon ---

class Daemon:
    """Watch the sites of `config_path`, writing to `db`, until SIGTERM or SIGINT."""

    def __init__(self, config_path: Path, db: Path, crawl_settings: tuple[str, ...] = (),
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.config_path, self.db, self.crawl_settings = config_path, db, crawl_settings
        self.clock = clock
        self.config = siteconfig.load(config_path)
        self.options = self.config.daemon
        self.lock = threading.Lock()
        self.due: dict[str, datetime] = {}  # site -> its next slot (derived from the store)
        self.busy: set[str] = set()  # sites in a running crawl: never two crawls of one site
        self.crawls: list[threading.Thread] = []
        self.wakeup = threading.Event()
        self.stop_at: float | None = None  # monotonic time of SIGTERM/SIGINT
        self.reload_wanted = False
        self.delivering = threading.Lock()
        self.started_at = now_text()
        self.rolled_up: date | None = None  # the day the fetch log was last rolled up

    # main thread

    def run(self) -> None:
        """Serve until a stop signal; crawls in flight get `stop_grace` seconds, then are cut."""
        fd = take_lock(self.db)
        try:
            self.handle_signals()
            self.watch(self.config)
            scheduler = self.start_scheduler()
            event("daemon started", pid=os.getpid(), sites=len(self.config.sites),
                  config=str(self.config_path), db=str(self.db))
            while self.stop_at is None:
                self.wakeup.wait(timeout=1.0)
                self.wakeup.clear()
                if self.reload_wanted:
                    self.reload_wanted = False
                    self.reload()
            clean = self.shutdown(scheduler)
        finally:
            os.close(fd)
        if not clean:  # an alert delivery hangs in a pool thread the interpreter would wait for
            logging.shutdown()
            os._exit(0)

    def handle_signals(self) -> None:
        def stop(signum: int, _frame: Any) -> None:
            if self.stop_at is None:
                self.stop_at = time.monotonic()
            self.wakeup.set()

        def reload(signum: int, _frame: Any) -> None:
            self.reload_wanted = True
            self.wakeup.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGHUP, reload)

    def start_scheduler(self) -> Any:
        from apscheduler.schedulers.background import BackgroundScheduler

        scheduler = BackgroundScheduler(timezone=UTC, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": None})
        o, now = self.options, datetime.now(UTC)  # APScheduler's own clock
        scheduler.add_job(self.dispatch, "interval", seconds=o.tick, id="dispatch",
                          next_run_time=now)
        scheduler.add_job(self.deliver, "interval", seconds=o.deliver_every, id="deliver",
                          next_run_time=now)
        scheduler.add_job(self.heartbeat, "interval", seconds=o.heartbeat_every, id="heartbeat",
                          next_run_time=now)
        scheduler.start()
        return scheduler

    def reload(self) -> None:
        """SIGHUP: read sites.toml again; a broken file keeps the sites watched so far."""
        try:
            config = siteconfig.load(self.config_path)
            fresh = config.daemon
        except MonitorError as e:
            event("reload failed, keeping the old site list", logging.ERROR, error=str(e),
                  sites=len(self.config.sites))
            return
        before = set(self.config.names)
        self.watch(config)
        if fresh != self.options:
            event("reload: [daemon] changes apply at the next restart", logging.WARNING)
        event("reloaded", sites=len(config.sites), added=sorted(set(config.names) - before),
              removed=sorted(before - set(config.names)))

    def watch(self, config: Config) -> None:
        """Make `config` the site list: rows in the store, and each site's next slot.

        The slots are read, computed and set under the lock, as `finish` moves them: a crawl
        ending meanwhile must not have its site's old slot put back (and crawled again)."""
        # the crawls' copy of sites.toml: it may hold secrets, so it is for our user only
        write_atomically(snapshot_path(self.db), config.path.read_text(encoding="utf-8"),
                         mode=0o600)
        with opened(self.db) as store:
            store.sync_sites([(s.name, s.url) for s in config.sites])
            with self.lock:
                now = self.clock()
                last = {name: parse_time(at) if at else None
                        for name, at in store.schedule.last_runs().items()}
                due = {s.name: next_run(s.name, parse_schedule(s.schedule), last.get(s.name),
                                        now) for s in config.sites}
                store.schedule.set_next({name: stamp(at) for name, at in due.items()})
                self.config, self.due = config, due

    def shutdown(self, scheduler: Any) -> bool:
        """Stop dispatching, let crawls end (or cut them), write the last heartbeat; False when
        an alert delivery is still running (the outbox takes over an interrupted one)."""
        from monitor.sandbox import KILL_WAIT

        with self.lock:
            crawls = list(self.crawls)
        event("daemon stopping", crawls=len(crawls))
        scheduler.shutdown(wait=False)
        assert self.stop_at is not None
        deadline = self.stop_at + self.options.stop_grace + KILL_WAIT + 1.5
        for thread in crawls:
            thread.join(timeout=max(0.1, deadline - time.monotonic()))
        clean = self.delivering.acquire(timeout=max(0.1, deadline - time.monotonic()))
        if not clean:
            event("daemon stopping during an alert delivery", logging.WARNING)
        self.heartbeat(state="stopped")
        event("daemon stopped")
        return clean

    # scheduler threads

    def dispatch(self) -> None:
        """Start a crawl for the sites that are due (oldest slot first), as slots allow."""
        now = self.clock()
        with self.lock:
            if self.stop_at is not None:
                return
            self.crawls = [t for t in self.crawls if t.is_alive()]
            ready = sorted((at, name) for name, at in self.due.items()
                           if at <= now and name not in self.busy)
            size = self.options.batch_size
            for start in range(0, len(ready), size):
                if len(self.crawls) >= self.options.max_crawls:
                    break
                batch = {name: at for at, name in ready[start:start + size]}
                self.busy.update(batch)
                thread = threading.Thread(target=self.crawl, args=(batch, self.config),
                                          name=f"crawl-{len(batch)}")
                thread.start()  # under the lock, so that shutdown sees every crawl
                self.crawls.append(thread)

    def crawl(self, batch: dict[str, datetime], config: Config) -> None:
        """One crawl subprocess for `batch` (site -> slot), then its bookkeeping."""
        from monitor.sandbox import crawl_command, run_crawl

        try:
            with opened(self.db) as store:
                mark = (store.last_fetch_id(), store.outbox.last_id())
            sliced = self.batch_config(batch)
            try:
                command = crawl_command(sliced, self.db, list(batch), self.crawl_settings)
                ended = run_crawl(command, self.options, lambda: self.stop_at)
            finally:
                sliced.unlink(missing_ok=True)
            self.finish(batch, config, mark, ended)
        except Exception as e:  # a bug here must not stop the daemon: log it, go on
            log.exception("crawl bookkeeping failed")
            event("crawl failed", logging.ERROR, sites=len(batch), error=repr(e))
        finally:
            with self.lock:
                self.busy.difference_update(batch)

    def batch_config(self, batch: dict[str, datetime]) -> Path:
        """The site list of one crawl: the checked sites.toml with only `batch`'s sites, as
        JSON (for our user only: it may hold secrets), so that a crawl of a few hundred sites
        of 100,000 does not read all of them."""
        with self.lock:
            document = self.config.document
        raw = {k: v for k, v in document.items() if k != "sites"}
        raw["sites"] = [entry for entry in document.get("sites", []) if entry["name"] in batch]
        path = snapshot_path(self.db).with_name(
            f"{snapshot_path(self.db).stem}.{threading.get_ident()}.json")
        write_atomically(path, json.dumps(raw), mode=0o600)
        return path

    def finish(self, batch: dict[str, datetime], config: Config, mark: tuple[int, int],
               ended: Ended) -> None:
        """Record what the crawl left unrecorded, log a line a site (and an alert it planned),
        move each site's slots. `mark`: the last fetch and alert ids before the crawl started."""
        from monitor.sandbox import failure_reason

        reason = failure_reason(ended)
        now = self.clock()
        sites = {s.name: s for s in config.sites}
        with opened(self.db) as store:
            seen = store.schedule.fetched_since(mark[0])
            record_failed(store, config, [sites[n] for n in sorted(set(batch) - seen)], reason)
            nxt = {name: next_run(name, parse_schedule(sites[name].schedule), slot, now)
                   for name, slot in batch.items()}
            with self.lock:  # the store and memory together: see `watch`
                store.schedule.ran({n: (stamp(batch[n]), stamp(nxt[n])) for n in batch})
                for name, at in nxt.items():
                    if name in self.due:  # a site removed by a reload meanwhile stays removed
                        self.due[name] = at
            rows = [r for r in store.fetches_since(mark[0]) if r["site"] in batch]
            alerts = [r for r in store.outbox.since(mark[1]) if r["site"] in batch]
            self.roll_up(store, now)
        log_crawl(batch, rows, alerts, ended)

    def roll_up(self, store: Store, now: datetime) -> None:
        """Once a day (of the daemon's clock), fold old unchanged fetches into daily counts."""
        days = self.options.fetch_log_days
        if not days or now.date() == self.rolled_up:
            return
        self.rolled_up = now.date()
        folded = store.roll_up_fetches(stamp(now - timedelta(days=days)))
        if folded:
            event("fetch log rolled up", fetches=folded, older_than_days=days)

    def deliver(self) -> None:
        """Hand the alert outbox to monitor.alerts, on the daemon's own cadence."""
        from monitor.alerts import deliver_pending

        if self.stop_at is not None:
            return
        with self.delivering:
            started = time.monotonic()
            try:
                with opened(self.db) as store:
                    result = deliver_pending(store, self.config)
            except Exception as e:
                event("alert delivery failed", logging.ERROR, error=repr(e))
                return
            log_deliveries(result, time.monotonic() - started)

    def heartbeat(self, state: str = "running") -> None:
        if state == "running" and self.stop_at is not None:
            return  # the last word is shutdown's "stopped"
        with self.lock:
            crawling = len(self.busy)
            sites = len(self.due)
        write_atomically(heartbeat_path(self.db), json.dumps({
            "pid": os.getpid(), "state": state, "started_at": self.started_at,
            "heartbeat_at": now_text(), "heartbeat_every": self.options.heartbeat_every,
            "sites": sites, "crawling": crawling, "config": str(self.config_path)}))


def record_failed(store: Store, config: Config, sites: list[Site], reason: str) -> None:
    """A failed fetch for each site a crawl left unrecorded, through `track.record` so that the
    failure streak and its alerts count it like any other failure."""
    if not sites:
        return
    from monitor.alerts import alerting_for
    from monitor.records import Fetched
    from monitor.track import record

    alerting = alerting_for(config)
    for site in sites:
        fetched = Fetched(site=site.name, url=site.url, at=now_text(), error=reason)
        record(store, site, fetched, "failed", reason, alerting)


def log_crawl(batch: dict[str, datetime], fetches: list[Any], alerts: list[Any],
              ended: Ended) -> None:
    """A line a site, a line an alert the crawl planned (the deliver job sends it, and logs a
    line for each attempt), and a line for the crawl itself."""
    for row in fetches:
        log_fetch(row, batch[row["site"]])
    for row in alerts:
        event("alert planned", site=row["site"], channel=row["channel"], kind=row["kind"],
              state=row["state"], error=row["last_error"])
    normal = ended.cut is None and ended.returncode in (0, 3)  # 3: some site failed
    event("crawl", logging.INFO if normal else logging.WARNING, sites=len(batch),
          status=ended.returncode, duration_s=round(ended.seconds, 2), cut=ended.cut,
          output=None if normal else ended.output[-500:])


def log_fetch(row: Any, slot: datetime) -> None:
    """One line for one site of a crawl: outcome, duration, lag behind its slot."""
    failed = row["outcome"] in ("failed", "blocked", "suspect")
    lag = (parse_time(row["at"]) - slot).total_seconds()
    event("fetch", logging.WARNING if failed else logging.INFO, site=row["site"],
          outcome=row["outcome"], version=row["version"], duration_ms=row["duration_ms"],
          due=stamp(slot), lag_s=round(lag, 3), error=row["error"])


def log_deliveries(deliveries: list[Delivery], seconds: float) -> None:
    """One line an alert delivery attempt."""
    for d in deliveries:
        event("alert", logging.INFO if d.state == "sent" else logging.WARNING, site=d.site,
              channel=d.channel, kind=d.kind, outcome=d.state, attempts=d.attempts,
              error=d.error, key=d.key, pass_s=round(seconds, 3))
