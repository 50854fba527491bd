"""Docs are tests: every command has help and is in the README; every config key is documented."""

from __future__ import annotations

import re
from pathlib import Path

import click

from monitor.cli import main
from monitor.config import SITE_KEYS

README = (Path(__file__).parent.parent / "README.md").read_text()


def commands() -> list[str]:
    ctx = click.Context(main)
    return main.list_commands(ctx)


def test_every_command_has_help_and_a_row_in_the_cli_reference():
    ctx = click.Context(main)
    assert len(commands()) >= 12
    for name in commands():
        command = main.get_command(ctx, name)
        assert command is not None and (command.help or "").strip(), name
        assert re.search(rf"^\| `monitor {name}\b", README, re.M), f"{name} not in README"


def test_every_site_key_is_in_the_configuration_reference():
    for key in SITE_KEYS:
        assert re.search(rf"^\| `{key}` \|", README, re.M), key


def test_readme_shows_the_two_commands():
    assert "uv run monitor demo" in README and "uv run pytest" in README
