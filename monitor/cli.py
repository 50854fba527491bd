"""The `monitor` command line.

Commands are loaded lazily (see `LAZY`) so that `monitor history` or `monitor compare` never
import Scrapy, Twisted or the alert channels they do not use.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

import click

from monitor import config as siteconfig
from monitor.clock import short
from monitor.errors import MonitorError

# name -> "module:function" of commands that live outside this file.
LAZY = {
    "demo": "monitor.demo:demo",
    "alerts": "monitor.alerts_cli:alerts",
    "run": "monitor.daemon_cli:run",
    "status": "monitor.daemon_cli:status",
    "extract": "monitor.extract_cli:extract",
    "import-ota": "monitor.ota_cli:import_ota",
    "serve": "monitor.serve_cli:serve",
    "export": "monitor.export_cli:export",
}


class Group(click.Group):
    """A group that imports a command's module only when that command runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY:
            module, attr = LAZY[name].split(":")
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MonitorError as e:
            click.secho(f"error: {e}", fg="red", err=True)
            sys.exit(e.exit_code)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_file", type=click.Path(path_type=Path), default=None,
              help="Site list (default: $MONITOR_CONFIG or ./sites.toml).")
@click.option("--db", "db_file", type=click.Path(path_type=Path), default=None,
              help="Database (default: $MONITOR_DB or ./snapshots/monitor.db).")
@click.version_option(package_name="policy-monitor")
@click.pass_context
def main(ctx: click.Context, config_file: Path | None, db_file: Path | None) -> None:
    """Policy Monitor: watch privacy policies, version them, and tell major changes apart."""
    from monitor.channels import hide_secrets_in_logs

    ctx.obj = {"config": siteconfig.config_path(config_file), "db": siteconfig.db_path(db_file)}
    hide_secrets_in_logs(ctx.obj["config"])  # no configured secret in any log line


def open_store(ctx: click.Context, *, create: bool = False, readonly: bool = False) -> Any:
    """The store; `readonly` for commands that only read (they work on a database they
    cannot write: a read-only folder or file)."""
    from monitor.store import Store

    return Store(ctx.obj["db"], create=create, readonly=readonly)


def configured_backend(ctx: click.Context) -> str | None:
    """The classifier backend: $MONITOR_CLASSIFIER, else the site list's [classifier] backend
    when a site list is there (compare works without one)."""
    import os

    if os.environ.get("MONITOR_CLASSIFIER"):
        return os.environ["MONITOR_CLASSIFIER"]
    path: Path = ctx.obj["config"]
    return siteconfig.load(path).classifier.backend if path.exists() else None


def known_site(store: Any, site: str) -> None:
    from monitor.errors import StoreError

    if not store.has_site(site):
        raise StoreError(f"no site '{site}' in {store.path}")


@main.command()
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.pass_context
def init(ctx: click.Context, force: bool) -> None:
    """Write an example sites.toml."""
    path: Path = ctx.obj["config"]
    if path.exists() and not force:
        raise MonitorError(f"{path} exists (use --force to overwrite)")
    path.write_text(siteconfig.EXAMPLE, encoding="utf-8")
    click.echo(f"wrote {path}: edit it, then run `monitor crawl`")


@main.command()
@click.argument("name")
@click.argument("url")
@click.option("--select", help="CSS selector of the policy's content.")
@click.option("--remove", multiple=True, help="CSS selector to drop (repeatable).")
@click.option("--force", is_flag=True,
              help="Add the site even if its page cannot be fetched or is not a plausible policy.")
@click.pass_context
def add(ctx: click.Context, name: str, url: str, select: str | None,
        remove: tuple[str, ...], force: bool) -> None:
    """Add a site to the site list, checked before anything is written: the entry, then the
    page itself, fetched once (refused when the selector matches nothing or the text is not
    a plausible policy, unless --force)."""
    path: Path = ctx.obj["config"]
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    new = old + siteconfig.site_block(name, url, select, remove)
    import tomllib

    from monitor.extract_cli import check_site

    config = siteconfig.parse(tomllib.loads(new), path)  # raises ConfigError, file untouched
    note = check_site(config.select([name])[0], force=force)  # raises MonitorError, same
    path.write_text(new, encoding="utf-8")
    click.echo(f"added {name}: {url}{note}")


@main.command()
@click.argument("sites", nargs=-1)
@click.option("-q", "--quiet", is_flag=True, help="Print only the summary.")
@click.option("-s", "--set", "overrides", multiple=True, metavar="NAME=VALUE",
              callback=lambda _c, _p, v: [setting(o) for o in v],
              help="Override a Scrapy setting, as `scrapy crawl -s` does (repeatable).")
@click.option("--no-deliver", is_flag=True,
              help="Plan alerts but leave their delivery to the daemon.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Crawl processes sharing the sites (default: one a core, for 200 sites "
                   "or more each).")
@click.pass_context
def crawl(ctx: click.Context, sites: tuple[str, ...], quiet: bool,
          overrides: list[tuple[str, str]], no_deliver: bool, workers: int | None) -> None:
    """Fetch the named sites (all when none) now and record snapshots and versions.

    Exit status: 0 when every site was fetched, 3 when one failed or looked wrong.
    """
    from monitor.crawl import crawl as run_crawl

    config = siteconfig.load(ctx.obj["config"])
    total = len(config.select(sites))  # unknown names fail before anything starts
    done: list[Any] = []

    def progress(outcome: Any) -> None:
        done.append(outcome)
        if not quiet:
            click.echo(f"[{len(done)}/{total}] {describe(outcome)}", err=True)

    outcomes = run_crawl(config, ctx.obj["db"], sites, on_outcome=progress,
                         settings=dict(overrides), deliver_alerts=not no_deliver,
                         workers=workers)
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.outcome] = counts.get(outcome.outcome, 0) + 1
    summary = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(counts.items()))
    click.echo(f"crawled {len(outcomes)} of {total} sites: {summary or 'nothing'}")
    if len(outcomes) < total or any(o.outcome in ("failed", "blocked", "suspect")
                                    for o in outcomes):
        sys.exit(3)


def setting(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise click.BadParameter(f"{text!r} is not NAME=VALUE")
    return name, value


def describe(outcome: Any) -> str:
    """One line for one fetch: what it became."""
    if outcome.outcome == "new":
        change = outcome.change
        if change is None:
            return f"{outcome.site}: first version"
        verdict = ("MAJOR " + labels(change.categories)) if change.major else "minor"
        if change.technical:
            verdict = "technical: extraction rules changed, not alerted"
        return f"{outcome.site}: new version {outcome.version} ({verdict})"
    label = {"same": "unchanged", "not_modified": "unchanged (304)"}.get(outcome.outcome,
                                                                         outcome.outcome)
    detail = f": {outcome.detail}" if outcome.detail else ""
    return f"{outcome.site}: {label}{detail}"


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def sites(ctx: click.Context, as_json: bool) -> None:
    """What is watched: last fetch, last change, failures."""
    config = siteconfig.load(ctx.obj["config"])
    rows = {}
    if Path(ctx.obj["db"]).exists():
        rows = {r["name"]: dict(r) for r in open_store(ctx, readonly=True).site_rows()}
    out = []
    for site in config.sites:
        row = rows.get(site.name, {})
        out.append({"site": site.name, "url": site.url, "schedule": site.schedule,
                    "versions": row.get("versions", 0), "last_fetch": row.get("last_fetch_at"),
                    "last_ok": row.get("last_ok_at"), "last_change": row.get("last_change_at"),
                    "failures": row.get("failure_streak", 0), "last_error": row.get("last_error")})
    if as_json:
        click.echo(json.dumps(out, indent=2))
        return
    click.echo(table(["site", "versions", "last fetch", "last change", "failures", "url"],
                     [[o["site"], o["versions"], short(o["last_fetch"]), short(o["last_change"]),
                       failures(o), o["url"]] for o in out]))


def failures(row: dict[str, Any]) -> str:
    return f"{row['failures']} ({row['last_error']})" if row["failures"] else "0"


@main.command()
@click.argument("site")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list, oldest first.")
@click.pass_context
def history(ctx: click.Context, site: str, as_json: bool) -> None:
    """The versions of SITE: number, first/last seen, size, what changed."""
    store = open_store(ctx, readonly=True)
    known_site(store, site)
    entries = store.history(site)
    if as_json:
        click.echo(json.dumps(entries, indent=2))
        return
    click.echo(table(["version", "first seen", "last seen", "size", "change"],
                     [[e["version"], short(e["first_seen"]), short(e["last_seen"]), e["size"],
                       summarize(e)] for e in entries]))


def labels(categories: Any) -> str:
    """Categories in words, for people ('Data recipients'); JSON keeps the machine names."""
    from monitor.records import category_label

    return ", ".join(category_label(c) for c in categories)


def summarize(entry: dict[str, Any]) -> str:
    """The change column of `history`."""
    if "major" not in entry:
        return "first version"
    words = f"+{entry.get('words_added') or 0}/-{entry.get('words_removed') or 0} words"
    restores = f", same text as v{entry['restores']}" if entry.get("restores") else ""
    if entry["major"] is None:
        return f"not classified ({words})"
    if entry.get("incomplete"):
        words += ", incomplete: judging was cut short"
    if entry.get("technical"):
        return f"technical: extraction rules changed ({words})"
    if entry["major"]:
        return f"MAJOR: {labels(entry['categories'])} ({words}{restores})"
    return f"minor ({words}{restores})"


@main.command()
@click.argument("site")
@click.option("--version", "number", type=int, help="Version number (default: the newest).")
@click.pass_context
def show(ctx: click.Context, site: str, number: int | None) -> None:
    """The normalized text of a version of SITE."""
    store = open_store(ctx, readonly=True)
    known_site(store, site)
    click.echo(store.version(site, number).text)


@main.command()
@click.argument("site")
@click.option("--from", "first", type=int, help="Older version (default: the one before --to).")
@click.option("--to", "second", type=int, help="Newer version (default: the newest).")
@click.option("--color/--no-color", default=None, help="Color (default: when a terminal).")
@click.pass_context
def diff(ctx: click.Context, site: str, first: int | None, second: int | None,
         color: bool | None) -> None:
    """Findings, then the word-level difference between two versions of SITE."""
    from monitor.classify import classify
    from monitor.classify.report import format_report
    from monitor.differ import render_diff

    store = open_store(ctx, readonly=True)
    known_site(store, site)
    after = store.version(site, second)
    before = store.version(site, first if first is not None else after.number - 1) \
        if (first is not None or after.number > 1) else after
    color = sys.stdout.isatty() if color is None else color
    click.echo(f"{site}: version {before.number} ({short(before.first_seen)}) -> "
               f"version {after.number} ({short(after.first_seen)})\n")
    stored = store.change(site, after.number) if after.number == before.number + 1 else None
    if stored and stored.technical:
        click.echo("technical change: the extraction rules changed, not the policy (no alert)\n")
    # Consecutive versions: the verdict recorded with the change (what `history` and the
    # alerts said); any other pair is classified now, by the configured classifier.
    result = stored.classification if stored and stored.classification else \
        classify(before.text, after.text, configured_backend(ctx))
    click.echo(format_report(result, color=color))
    click.echo(render_diff(before.text, after.text, color=color))


@main.command()
@click.argument("before", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("after", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report.")
@click.option("--color/--no-color", default=None, help="Color (default: when a terminal).")
@click.option("--classifier", "backend", metavar="NAME",
              help="Classifier backend (default: $MONITOR_CLASSIFIER, else [classifier] backend "
                   "of the site list, else the built-in default).")
@click.option("--select", metavar="CSS", help="CSS selector of the policy's content (HTML).")
@click.option("--remove", multiple=True, metavar="CSS", help="CSS selector to drop (repeatable).")
@click.pass_context
def compare(ctx: click.Context, before: Path, after: Path, as_json: bool, color: bool | None,
            backend: str | None, select: str | None, remove: tuple[str, ...]) -> None:
    """Classify the change between two files (text, Markdown or HTML).

    Exit status: 0 no major change, 1 major change, 2 error (like diff).
    """
    from monitor.classify import classify
    from monitor.classify.report import format_report
    from monitor.extract import extract

    try:
        texts = [extract(p.read_bytes(), None, select=select, remove=remove, url=p.name)
                 for p in (before, after)]
    except MonitorError as e:
        click.secho(f"error: {e}", fg="red", err=True)
        sys.exit(2)
    result = classify(texts[0], texts[1], backend or configured_backend(ctx))
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        color = sys.stdout.isatty() if color is None else color
        click.echo(format_report(result, color=color))
    sys.exit(1 if result.major else 0)


@main.command()
@click.argument("sites", nargs=-1)
@click.option("--force", is_flag=True, help="Rebuild even when stored versions would be lost.")
@click.option("--classifier", "backend", metavar="NAME",
              help="Judge the rebuilt changes with this classifier backend (default: the "
                   "configured one). Re-judging never sends alerts.")
@click.pass_context
def reextract(ctx: click.Context, sites: tuple[str, ...], force: bool,
              backend: str | None) -> None:
    """Rebuild versions from stored snapshots after extraction improved (no fetching), and
    judge their changes again (say, after a new classifier version). Sends no alert.

    Refused, and nothing changed, when a stored version would be lost (say, a `select` that
    no longer matches) unless --force, or while change alerts of the site are undelivered.
    """
    from monitor.reextract import reextract as rebuild

    config = siteconfig.load(ctx.obj["config"])
    store = open_store(ctx)
    backend = backend or configured_backend(ctx)
    for site in config.select(sites):
        before, after = rebuild(store, site, force=force, classifier=backend)
        click.echo(f"{site.name}: {before} versions -> {after} versions")


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """A plain aligned table: fast to print, easy to grep."""
    cells = [headers, *[[str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
