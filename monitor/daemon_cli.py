"""`monitor run` (the daemon, in the foreground) and `monitor status` (what it is doing).

`status` reads the store and the heartbeat file only: it starts fast and never waits on the
daemon (the store is WAL, so reading while the daemon writes is fine).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from monitor import config as siteconfig
from monitor.clock import parse_time, short, stamp
from monitor.errors import MonitorError


@click.command()
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Log lines as key=value text or as one JSON object each.")
@click.option("--crawl-setting", "crawl_settings", multiple=True, metavar="NAME=VALUE",
              help="Scrapy setting for every crawl, passed on as `crawl -s` (repeatable).")
@click.pass_context
def run(ctx: click.Context, log_format: str, crawl_settings: tuple[str, ...]) -> None:
    """Watch every site on its schedule until SIGTERM or Ctrl-C (SIGHUP re-reads sites.toml).

    Sites that are due together are fetched by one crawl subprocess; pending alerts are
    delivered every `[daemon] deliver_every` seconds. Logs go to stderr, one line an event.
    """
    from monitor.scheduler import Daemon

    for setting in crawl_settings:
        if "=" not in setting:
            raise click.BadParameter(f"{setting!r} is not NAME=VALUE", param_hint="--crawl-setting")
    setup_logging(log_format, ctx.obj["config"])
    Daemon(ctx.obj["config"], ctx.obj["db"], crawl_settings).run()


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON: the daemon and each site.")
@click.option("--check", is_flag=True, help="Exit 1 unless a daemon is running and alive.")
@click.pass_context
def status(ctx: click.Context, as_json: bool, check: bool) -> None:
    """Is the daemon running (pid, last heartbeat); per site: schedule, next run, last success,
    last change, failure streak."""
    from monitor.scheduler import read_heartbeat

    db: Path = ctx.obj["db"]
    daemon = health(read_heartbeat(db))
    sites = site_states(ctx.obj["config"], db)
    if as_json:
        click.echo(json.dumps({"daemon": daemon, "sites": sites}, indent=2))
    else:
        click.echo(daemon_line(daemon))
        from monitor.cli import failures, table

        click.echo(table(["site", "schedule", "next run", "last success", "last change",
                          "failures"],
                         [[s["site"], s["schedule"], next_label(s["next_run"]),
                           short(s["last_ok"]), short(s["last_change"]), failures(s)]
                          for s in sites]))
    if check and daemon["state"] != "running":
        sys.exit(1)


def site_states(config_path: Path, db: Path) -> list[dict[str, Any]]:
    """Each configured site with its run state (the store's sites rows when the file is broken)."""
    rows: dict[str, dict[str, Any]] = {}
    if db.exists():
        from monitor.store import Store

        store = Store(db, create=False, readonly=True)
        rows = {r["name"]: dict(r) for r in store.site_rows()}
        store.close()
    try:
        schedules = {s.name: s.schedule for s in siteconfig.load(config_path).sites}
    except MonitorError as e:
        click.secho(f"warning: {e}", fg="yellow", err=True)
        schedules = {name: "?" for name in rows}
    return [{"site": name, "schedule": schedule,
             "next_run": rows.get(name, {}).get("next_run_at"),
             "last_run": rows.get(name, {}).get("last_run_at"),
             "last_ok": rows.get(name, {}).get("last_ok_at"),
             "last_change": rows.get(name, {}).get("last_change_at"),
             "failures": rows.get(name, {}).get("failure_streak") or 0,
             "last_error": rows.get(name, {}).get("last_error")}
            for name, schedule in schedules.items()]


def health(beat: dict[str, Any] | None) -> dict[str, Any]:
    """running | stalled (alive, no recent heartbeat) | dead (gone, never said stopped) |
    stopped | never (no daemon ever ran on this database)."""
    if beat is None:
        return {"state": "never"}
    age = (datetime.now(UTC) - parse_time(beat["heartbeat_at"])).total_seconds()
    if beat.get("state") == "stopped":
        state = "stopped"
    elif not alive(int(beat["pid"])):
        state = "dead"
    else:
        state = "running" if age <= 3 * float(beat.get("heartbeat_every", 5)) + 2 else "stalled"
    return {**beat, "state": state, "heartbeat_age_s": round(age, 1)}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: it exists
    return True


def daemon_line(d: dict[str, Any]) -> str:
    if d["state"] == "never":
        return "daemon: never run on this database (start it with `monitor run`)\n"
    since = f"last heartbeat {d['heartbeat_age_s']:g} s ago"
    if d["state"] == "running":
        return (f"daemon: running, pid {d['pid']}, {since}, {d['sites']} sites, "
                f"{d['crawling']} being crawled\n")
    if d["state"] == "stopped":
        return f"daemon: stopped at {d['heartbeat_at']} (pid {d['pid']})\n"
    why = "process gone without stopping" if d["state"] == "dead" else "process alive but silent"
    return f"daemon: {d['state'].upper()}, pid {d['pid']}, {since} ({why})\n"


def next_label(at: str | None) -> str:
    if at and parse_time(at) <= datetime.now(UTC):
        return "due"
    return short(at)


# --- logging: one line an event, as text or JSON ---

class TextFormatter(logging.Formatter):
    """`2026-05-01T03:00:00.123Z INFO fetch site=wemet outcome=new duration_ms=412.0`."""

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", {})
        parts = [logged_at(record), record.levelname, record.getMessage()]
        parts += [f"{k}={text_value(v)}" for k, v in fields.items() if v is not None]
        line = " ".join(parts)
        return line + ("\n" + exception_text(self, record) if record.exc_info
                       or record.exc_text else "")


class JsonFormatter(logging.Formatter):
    """One JSON object a line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        out = {"time": logged_at(record), "level": record.levelname, "event": record.getMessage(),
               "logger": record.name, **getattr(record, "fields", {})}
        if record.exc_info or record.exc_text:
            out["exception"] = exception_text(self, record)
        return json.dumps(out, default=str)


def exception_text(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    """The record's traceback: the text the secret filter left (redacted), else formatted."""
    if record.exc_text:
        return record.exc_text
    return formatter.formatException(record.exc_info) if record.exc_info else ""


def logged_at(record: logging.LogRecord) -> str:
    return stamp(datetime.fromtimestamp(record.created, UTC))


def text_value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return json.dumps(text) if not text or any(c in text for c in ' "=\n') else text


def setup_logging(log_format: str, config: Path | None = None) -> None:
    """Log lines to stderr; with `config`, every secret it configures is taken out of each
    line, the fields of an event and tracebacks included (see monitor.channels.SecretFilter)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    if config is not None:
        from monitor.channels import hide_secrets_in_logs

        handler.addFilter(hide_secrets_in_logs(config))  # also for `fields`, set after the record
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # no line for every tick
