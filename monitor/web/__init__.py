"""The web view of `monitor serve`: datasette on the database, and our pages inside it.

Datasette (pinned to 0.65) serves the database read-only (`mode=ro`: it sees the daemon's
writes, never writes, never creates the file), so its table views, JSON API, CSV export, SQL
and canned queries come for free. Our plugin (`monitor.web.plugin`) adds the pages people use:

    /                                   every site: last check, last change, major, categories
    /?category=recipients               only sites with a change in that category
    /sites/<site>                       the site's timeline: versions, changes, failures
    /sites/<site>/changes/<n>           the change that led to version n: findings, word diff
    /sites/<site>/compare?from=A&to=B   any two versions, classified on the spot
    /sites/<site>/versions/<n>[.md]     one full version
    /search?q=words                     policy text (FTS5) and findings
    /feeds/major.atom                   Atom: every major change
    /feeds/sites/<site>.atom            one site's changes
    /feeds/categories/<category>.atom   one category's changes, across sites

and `policy_text(text)` in SQL (and the `versions` table view) shows a version's text.
Every statement lives in `monitor.store.browse`; rendering is in `pages` and `feeds`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
PLUGIN = "policy-monitor"
STATIC = "monitor-static"


def make_app(db: str | Path, *, base_url: str | None = None,
             classifier: str | None = None) -> Any:
    """A `Datasette` serving `db` (which must exist) read-only with our pages; `base_url`
    (`[serve] base_url`) makes the links in feeds absolute, else the request's host does."""
    from datasette.app import Datasette
    from datasette.plugins import pm

    from monitor.web import plugin

    path = Path(db)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no database")
    if not pm.is_registered(plugin):
        pm.register(plugin, name=PLUGIN)
    # datasette prints every 404 and refused statement with rich, locals and all; errors
    # (500) still print their traceback
    import datasette.handle_exception

    datasette.handle_exception.rich = None
    name = path.stem
    return Datasette(
        files=[str(path)],
        template_dir=str(HERE / "templates"),
        static_mounts=[(STATIC, str(HERE / "static"))],
        metadata=metadata(name, base_url, classifier),
        # no facet suggestions: they scan every column, compressed texts included
        settings={"default_page_size": 50, "sql_time_limit_ms": 2000,
                  "truncate_cells_html": 300, "suggest_facets": False},
    )


def metadata(name: str, base_url: str | None,
             classifier: str | None = None) -> dict[str, Any]:
    """Datasette metadata: titles, search over versions and changes, canned queries."""
    from monitor.store.browse import CANNED_QUERIES

    return {
        "title": "Policy Monitor",
        "description": "Privacy policies, their versions and classified changes "
                       "(read-only). Our pages: /",
        "plugins": {PLUGIN: {"database": name, "base_url": base_url,
                             "classifier": classifier}},
        "databases": {name: {
            "tables": {
                "versions": {"fts_table": "versions_fts", "fts_pk": "id",
                             "description": "text is compressed: SQL policy_text(text) "
                                            "reads it"},
                "changes": {"fts_table": "findings_fts", "fts_pk": "id"},
            },
            "queries": CANNED_QUERIES,
        }},
    }
