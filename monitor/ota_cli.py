"""`monitor import-ota`: Open Terms Archive declarations appended to sites.toml as sites."""

from __future__ import annotations

import tomllib
from pathlib import Path

import click

from monitor import config as siteconfig
from monitor.errors import ConfigError, MonitorError


@click.command("import-ota")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--type", "types", multiple=True, metavar="TYPE",
              help='Document types to import (repeatable; default "Privacy Policy").')
@click.option("--all-types", is_flag=True, help="Import every document type.")
@click.option("--dry-run", is_flag=True, help="Say what would be imported; write nothing.")
@click.pass_context
def import_ota(ctx: click.Context, path: Path, types: tuple[str, ...], all_types: bool,
               dry_run: bool) -> None:
    """Turn Open Terms Archive declarations (a JSON file or a folder of them) into sites.

    Sites are named after the service and the document type ("example-privacy-policy"); names
    already in sites.toml are left as they are. The whole file is checked before it is written.
    """
    from monitor.ota import DEFAULT_TYPES, declarations, read

    config_path: Path = ctx.obj["config"]
    old = config_path.read_text(encoding="utf-8") if config_path.exists() else ""
    known = set(siteconfig.parse(tomllib.loads(old), config_path).names) if old else set()
    wanted = None if all_types else (types or DEFAULT_TYPES)
    blocks, skipped = [], 0
    for file in declarations(path):
        try:
            docs = read(file, wanted)
        except ConfigError as e:  # one unreadable declaration never stops the others
            click.echo(f"skipped {file}: {e}", err=True)
            skipped += 1
            continue
        for doc in docs:
            label = f"{doc.service} / {doc.document}"
            for note in doc.notes:
                click.echo(f"  note: {label}: {note}", err=True)
            if doc.site is None:
                click.echo(f"skipped {label}: cannot be imported", err=True)
                skipped += 1
                continue
            if doc.site.name in known:
                click.echo(f"skipped {label}: a site named {doc.site.name} exists", err=True)
                skipped += 1
                continue
            s = doc.site
            block = siteconfig.site_block(
                s.name, s.url, s.select, s.remove, select_ranges=s.select_ranges,
                remove_ranges=s.remove_ranges, pages=s.pages, render=s.render)
            try:  # each site checked on its own: one bad declaration never stops the others
                siteconfig.parse(tomllib.loads(block), config_path)
            except (ConfigError, tomllib.TOMLDecodeError) as e:
                click.echo(f"skipped {label}: {e}", err=True)
                skipped += 1
                continue
            known.add(s.name)
            blocks.append(block)
            click.echo(f"{'would import' if dry_run else 'imported'} {s.name}: {s.url}"
                       + (f" (+{len(s.pages)} pages)" if s.pages else "")
                       + (" [browser]" if s.render == "browser" else ""))
    new = old + "".join(blocks)
    siteconfig.parse(tomllib.loads(new), config_path)  # raises ConfigError, file untouched
    if not dry_run and blocks:
        config_path.write_text(new, encoding="utf-8")
    click.echo(f"{len(blocks)} sites {'to import' if dry_run else 'imported'}, {skipped} skipped")
    if not blocks and skipped:
        raise MonitorError("nothing imported")
