"""`monitor demo`: the whole pipeline, offline, on a bundled loopback site.

Serves the five sample policies in changing page chrome on 127.0.0.1, crawls them, crawls
again (the chrome changed, the policies did not: no new version), edits one policy (a new kind
of recipient, a new contact e-mail), crawls a third time, shows the Slack alert the loopback
webhook received, then `history` and `diff`.
Each step runs the real `monitor` command in a subprocess, as a user would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

from monitor.errors import MonitorError
from monitor.loopback import LoopbackServer, Page, bundled_policies, bundled_policy

EDITED = "wemet"
NEW_RECIPIENT = (
    "We may also share your profile information, usage data and approximate location with "
    "third-party advertising partners and data brokers, who use it to show you personalised "
    "advertising.")


def edit(text: str) -> str:
    """The demo's edit: a new kind of recipient and a changed contact e-mail."""
    lines = text.splitlines()
    at = next((i for i, line in enumerate(lines) if "share" in line.lower()), len(lines) // 2)
    lines.insert(at + 1, NEW_RECIPIENT)
    edited = "\n".join(lines) + "\n"
    for old in sorted(set(find_emails(edited))):
        edited = edited.replace(old, "privacy-requests@wemet-group.example")
    return edited


def find_emails(text: str) -> list[str]:
    import re

    return re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", text)


def show_alerts(posts: list[tuple[str, bytes]]) -> None:
    """What the demo's Slack webhook (on the loopback site) received."""
    import json

    click.secho(f"\n# the Slack webhook on 127.0.0.1 received {len(posts)} alert(s)", fg="yellow")
    for _, body in posts:
        message = json.loads(body)
        click.echo(f"  {message.get('text', '')} ({len(message.get('blocks', []))} Block Kit "
                   "blocks)")


def step(title: str, args: list[str], env: dict[str, str]) -> list[str]:
    """Run one `monitor` command as a user would; a list naming it when it failed."""
    click.secho(f"\n$ monitor {' '.join(args)}", fg="cyan", bold=True)
    click.echo(f"# {title}")
    code = subprocess.run([sys.executable, "-m", "monitor.cli", *args], env=env,
                          check=False).returncode
    return [f"`monitor {' '.join(args)}` exited {code}"] if code else []


@click.command()
@click.option("--dir", "folder", type=click.Path(path_type=Path), default=None,
              help="Keep the demo's sites.toml and database here (default: a temporary folder).")
def demo(folder: Path | None) -> None:
    """Run the whole pipeline on a bundled loopback site, offline (about 15 s)."""
    started = time.monotonic()
    if folder and any((folder / name).exists() for name in ("sites.toml", "monitor.db")):
        raise MonitorError(f"{folder} already holds a sites.toml or monitor.db: the demo "
                           "would overwrite them; give it an empty folder")
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="monitor-demo-") as tmp, LoopbackServer() as server:
        work = folder or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        names = bundled_policies()
        for name in names:
            server.site[f"/{name}/privacy"] = Page(text=bundled_policy(name))
        config, db = work / "sites.toml", work / "monitor.db"
        db.unlink(missing_ok=True)
        config.write_text(f'[alerts.slack]\nwebhook_url = "{server.url}/hooks/slack"\n\n' + "".join(
            f'[[sites]]\nname = "{n}"\nurl = "{server.url}/{n}/privacy"\n\n' for n in names))
        env = {**os.environ, "MONITOR_CONFIG": str(config), "MONITOR_DB": str(db)}
        click.echo(f"Serving {len(names)} sample policies on {server.url} (page chrome changes "
                   f"on every request). Data in {work}.")
        failed += step("first crawl: one version per site", ["crawl"], env)
        failed += step("recrawl: the chrome changed, the policies did not, so no new version",
                       ["crawl"], env)
        server.site[f"/{EDITED}/privacy"] = Page(text=edit(bundled_policy(EDITED)))
        click.secho(f"\n# the demo edits {EDITED}'s policy: a new kind of recipient "
                    "(advertising partners, data brokers) and a new contact e-mail", fg="yellow")
        failed += step("crawl after the edit: a new version, classified", ["crawl", EDITED], env)
        show_alerts(server.site.posts)
        failed += step("history", ["history", EDITED], env)
        failed += step("what changed", ["diff", EDITED, "--no-color"], env)
        failed += step("sites", ["sites"], env)
    if failed:
        raise MonitorError(f"demo steps failed: {'; '.join(failed)}")
    click.secho(f"\ndemo finished in {time.monotonic() - started:.1f} s", fg="green")
    if folder:
        click.echo(f"Browse it (sites, changes, search, Atom feeds) at http://127.0.0.1:8001/:\n"
                   f"  uv run monitor --db {folder / 'monitor.db'} serve")
    else:
        click.echo("To browse the result in a web page, keep it and serve it:\n"
                   "  uv run monitor demo --dir demo && uv run monitor --db demo/monitor.db serve")
