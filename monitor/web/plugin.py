"""Our datasette plugin: the routes of `monitor.web`, the SQL functions, readable versions.

Registered by `monitor.web.make_app` (not through an entry point, so installing Policy Monitor
never changes another datasette).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from datasette import hookimpl
from markupsafe import Markup, escape

from monitor.store.browse import policy_text, read_only, register_functions

TABLE_TEXT = 240  # characters of a version's text shown in datasette's table view


@hookimpl
def prepare_connection(conn: sqlite3.Connection, database: str, datasette: Any) -> None:
    from monitor.web import PLUGIN

    register_functions(conn)
    if database == (datasette.plugin_config(PLUGIN) or {}).get("database"):
        read_only(conn)  # read-only twice over: mode=ro and this


@hookimpl
def register_routes(datasette: Any) -> list[tuple[str, Any]]:
    from monitor.web import feeds, pages

    site = r"(?P<site>[a-z0-9][a-z0-9_-]{0,62})"
    return [
        (r"^/$", pages.home),
        (rf"^/sites/{site}$", pages.site_page),
        (rf"^/sites/{site}/changes/(?P<number>\d+)$", pages.change_page),
        (rf"^/sites/{site}/compare$", pages.compare_page),
        (rf"^/sites/{site}/versions/(?P<number>\d+)(?P<raw>\.md)?$", pages.version_page),
        (r"^/search$", pages.search_page),
        (r"^/feeds/major\.atom$", feeds.major_feed),
        (rf"^/feeds/sites/{site}\.atom$", feeds.site_feed),
        (r"^/feeds/categories/(?P<category>[a-z_]+)\.atom$", feeds.category_feed),
    ]


@hookimpl
def extra_css_urls(datasette: Any) -> list[str]:
    from monitor.web import STATIC

    return [f"/{STATIC}/monitor.css"]


@hookimpl
def render_cell(row: Any, value: Any, column: str, table: str, database: str,
                datasette: Any) -> Any:
    """`versions.text` is compressed: show the text, with a link to the whole version."""
    if table != "versions" or column != "text" or not isinstance(value, bytes):
        return None
    try:
        text = policy_text(value) or ""
    except Exception:  # not ours after all: let datasette show the blob
        return None
    site, number = row["site"], row["number"]
    flat = " ".join(text.split())  # one paragraph: table cells stay short
    cut = flat if len(flat) <= TABLE_TEXT else flat[:TABLE_TEXT] + "…"
    return Markup('<span class="policy-cell">{}</span> <a href="/sites/{}/versions/{}">'
                  "whole version ({:,} characters)</a>").format(
        cut, escape(str(site)), escape(str(number)), len(text))

