"""`monitor alerts`: the outbox with each alert's delivery state; `test` and `send` deliver."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from monitor import config as siteconfig
from monitor.cli import open_store, table
from monitor.clock import short

COLUMNS = ("id", "key", "site", "kind", "channel", "state", "attempts", "created_at",
           "next_try_at", "sent_at", "last_error", "change")


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON, newest first.")
@click.option("-n", "--limit", default=20, show_default=True, help="How many alerts.")
@click.pass_context
def alerts(ctx: click.Context, as_json: bool, limit: int) -> None:
    """Recent alerts and their delivery state (pending, sending, sent, failed, skipped)."""
    if ctx.invoked_subcommand is not None:
        return
    store = open_store(ctx, readonly=True)
    rows = [{c: r[c] for c in COLUMNS} for r in store.outbox.recent(limit)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no alerts yet")
        return
    click.echo(table(["id", "created", "site", "kind", "channel", "state", "tries", "when",
                      "error"], [line(r) for r in rows]))


def line(row: dict[str, Any]) -> list[Any]:
    when = {"sent": row["sent_at"], "pending": row["next_try_at"]}.get(row["state"])
    when_text = ("next " if row["state"] == "pending" else "") + short(when) if when else "-"
    return [row["id"], short(row["created_at"]), row["site"] or "-", row["kind"],
            row["channel"], row["state"], row["attempts"], when_text,
            (row["last_error"] or "")[:80]]


@alerts.command()
@click.argument("channel", required=False)
@click.pass_context
def test(ctx: click.Context, channel: str | None) -> None:
    """Send a test message now to CHANNEL (email, slack, apprise; default: every channel).

    Exit status: 0 when every test message was delivered, 1 otherwise.
    """
    from monitor.alerts import deliver_pending, plan_tests

    config = siteconfig.load(ctx.obj["config"])
    store = open_store(ctx, create=True)
    results = deliver_pending(store, config, only=plan_tests(store, config, channel))
    report(results)


@alerts.command()
@click.pass_context
def send(ctx: click.Context) -> None:
    """Deliver the pending alerts that are due now (crawls and the daemon do it too).

    Alerts a crashed sender left half-sent are settled first: e-mail is sent again, anything
    else is marked failed (it may have arrived, and is never posted twice), and said so.

    Exit status: 0 when nothing failed, 1 otherwise.
    """
    from datetime import UTC, datetime

    from monitor.alerts import deliver_pending, reclaim

    config = siteconfig.load(ctx.obj["config"])
    store = open_store(ctx)
    given_up = reclaim(store, datetime.now(UTC))
    if given_up:
        click.secho(f"{given_up} alert(s) interrupted while sending marked failed: they may "
                    "or may not have arrived, and are not sent twice (see `monitor alerts`)",
                    fg="red", err=True)
    results = deliver_pending(store, config)
    if not results and not given_up:
        click.echo("nothing to send")
    report(results)
    if given_up:
        sys.exit(1)


def report(results: list[Any]) -> None:
    for r in results:
        detail = f": {r.error}" if r.error else ""
        what = f"{r.kind} {r.site}" if r.site else r.kind
        click.secho(f"{r.channel}: {what} {r.state}{detail}",
                    fg="green" if r.state == "sent" else "red", err=r.state != "sent")
    if any(r.state != "sent" for r in results):
        sys.exit(1)
