"""`monitor serve`: the read-only web view of the database (datasette and our pages)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from monitor.errors import StoreError

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@click.command()
@click.option("--port", type=click.IntRange(0, 65535), default=8001, show_default=True,
              help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind (anything but loopback makes the history public).")
@click.pass_context
def serve(ctx: click.Context, port: int, host: str) -> None:
    """Browse the history in a web browser: sites, changes, search, Atom feeds (read-only)."""
    from monitor import config as siteconfig

    db: Path = ctx.obj["db"]
    if not db.is_file():
        raise StoreError(f"{db}: no database yet (run `monitor crawl` first)")
    path: Path = ctx.obj["config"]
    # only [serve] base_url and [classifier] backend are read from the site list; nothing of
    # it is ever served
    config = siteconfig.load(path) if path.exists() else None
    base_url = config.serve.base_url if config else None
    backend = os.environ.get("MONITOR_CLASSIFIER") or (
        config.classifier.backend if config else None)
    import asyncio

    import uvicorn

    from monitor.web import make_app

    app = make_app(db, base_url=base_url, classifier=backend)
    asyncio.run(app.invoke_startup())
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"Serving {db} read-only on http://{shown}:{port}/ (Ctrl-C stops)")
    if host not in LOOPBACK:
        click.secho(f"warning: listening on {host}: anyone who can reach it can read the "
                    "history", fg="yellow", err=True)
    uvicorn.run(app.app(), host=host, port=port, log_level="warning", lifespan="on")
