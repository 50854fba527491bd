"""`monitor export`: changes as JSON Lines or CSV, versions as Markdown files."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from monitor.errors import MonitorError


@click.group()
def export() -> None:
    """Export the history: `changes` as JSON Lines or CSV, `versions` as Markdown files."""


@export.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl",
              show_default=True, help="JSON Lines (one change a line) or CSV.")
@click.option("--since", default=None, metavar="DATE",
              help="Only changes recorded at or after DATE (2026-01-31, or a full ISO time).")
@click.option("--site", default=None, metavar="NAME", help="Only the changes of this site.")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Write to this file (default: standard output).")
@click.pass_context
def changes(ctx: click.Context, fmt: str, since: str | None, site: str | None,
            output: Path | None) -> None:
    """Every change of the policies (technical ones aside), oldest first."""
    from monitor.export import write_csv, write_jsonl

    store = open_store(ctx)
    if site is not None and not store.has_site(site):
        raise MonitorError(f"no site named '{site}' in {store.path}")
    rows = store.browse.iter_changes(site=site, since=since_stamp(since))
    write = write_csv if fmt == "csv" else write_jsonl
    if output is None:
        write(rows, sys.stdout)
        return
    with output.open("w", encoding="utf-8", newline="") as out:
        n = write(rows, out)
    click.echo(f"{n} change(s) written to {output}", err=True)


@export.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--site", default=None, metavar="NAME", help="Only the versions of this site.")
@click.pass_context
def versions(ctx: click.Context, folder: Path, site: str | None) -> None:
    """Every version as FOLDER/<site>/<first seen>.md (Open Terms Archive's dataset layout)."""
    from monitor.export import write_versions

    store = open_store(ctx)
    if site is not None and not store.has_site(site):
        raise MonitorError(f"no site named '{site}' in {store.path}")
    n = write_versions(store.browse.iter_versions(site), folder)
    click.echo(f"{n} version(s) written under {folder}")


def open_store(ctx: click.Context):  # type: ignore[no-untyped-def]
    from monitor.store import Store

    root = ctx.find_root()
    return Store(root.obj["db"], create=False, readonly=True)


def since_stamp(since: str | None) -> str | None:
    """DATE as the store's time text, so it compares as text; a bad date is a clear error."""
    if since is None:
        return None
    from monitor.clock import parse_time, stamp

    try:
        return stamp(parse_time(since if "T" in since else since + "T00:00:00"))
    except ValueError:
        raise MonitorError(f"--since: not a date: {since!r} (use 2026-01-31 or an ISO time)") \
            from None
