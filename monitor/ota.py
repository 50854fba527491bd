"""Open Terms Archive declarations as sites: `monitor import-ota FILE|DIR`.

An OTA service declaration (JSON) names a service and, per document type, where its text is:

    {"name": "Example", "documents": {"Privacy Policy": {
        "fetch": "https://example.com/privacy",
        "select": ["main", {"startBefore": "#intro", "endBefore": "footer"}],
        "remove": [".share"], "filter": ["removeShareButtons"], "executeClientScripts": true,
        "combine": [{"fetch": "https://example.com/privacy/annex"}]}}}

`fetch`, `select` and `remove` (CSS or range selectors, alone or in arrays), `combine` (several
pages, each with its own `fetch`/`select`/`remove`, the document's own as defaults) and
`executeClientScripts` (-> `render = "browser"`) become a site of `sites.toml`. Named
`filter`s are JavaScript functions of OTA's own: not supported, reported, and the site is still
imported without them.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.config import Page, Range, Site
from monitor.errors import ConfigError

RANGE_KEYS = {"startBefore": "start_before", "startAfter": "start_after",
              "endBefore": "end_before", "endAfter": "end_after"}
DEFAULT_TYPES = ("Privacy Policy",)


@dataclass(frozen=True)
class Imported:
    """One document of a declaration: the site it became (None when it could not), and what
    a user should know."""

    service: str
    document: str
    site: Site | None
    notes: tuple[str, ...] = field(default=())


def declarations(path: Path) -> list[Path]:
    """The declaration files at `path` (a file, or a folder of them; history files aside)."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*.json") if not p.name.endswith(".history.json")
                      and not p.name.endswith(".filters.json"))
    return [path]


def read(path: Path, types: tuple[str, ...] | None = DEFAULT_TYPES) -> list[Imported]:
    """The documents of one declaration file, of the given types (None: every type)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ConfigError(f"not a readable JSON declaration: {e}", file=str(path)) from None
    if not isinstance(data, dict):
        raise ConfigError("a declaration is a JSON object", file=str(path))
    service = str(data.get("name") or path.stem)
    documents = data.get("documents") or data.get("terms") or {}
    if not isinstance(documents, dict):
        raise ConfigError("`documents` must be an object", file=str(path))
    return [document(service, kind, decl) for kind, decl in documents.items()
            if types is None or kind in types]


def document(service: str, kind: str, decl: Any) -> Imported:
    notes: list[str] = []
    name = slug(f"{service} {kind}")
    if not isinstance(decl, dict):
        return Imported(service, kind, None, ("not an object",))
    sources = decl.get("combine") or [decl]
    if not isinstance(sources, list) or not sources:
        return Imported(service, kind, None, ("`combine` must be a non-empty array",))
    pages = []
    for source in sources:
        merged = {k: decl[k] for k in ("fetch", "select", "remove") if k in decl}
        merged.update(source if isinstance(source, dict) else {})
        try:
            pages.append(page(merged))
        except ValueError as e:
            return Imported(service, kind, None, (str(e),))
    for f in decl.get("filter") or ():
        notes.append(f"filter {f!r} not supported (an OTA JavaScript function): imported "
                     "without it")
    first, *more = pages
    site = Site(name=name, url=first.url, select=first.select, remove=first.remove,
                select_ranges=first.select_ranges, remove_ranges=first.remove_ranges,
                pages=tuple(more),
                render="browser" if decl.get("executeClientScripts") else "http")
    return Imported(service, kind, site, tuple(notes))


def page(source: dict[str, Any]) -> Page:
    url = source.get("fetch")
    if not isinstance(url, str) or not url:
        raise ValueError("no `fetch` URL")
    select_css, select_ranges = rules(source.get("select"))
    remove_css, remove_ranges = rules(source.get("remove"))
    return Page(url=url, select=", ".join(select_css) or None, remove=tuple(remove_css),
                select_ranges=select_ranges, remove_ranges=remove_ranges)


def rules(value: Any) -> tuple[list[str], tuple[Range, ...]]:
    """CSS selectors and range selectors from OTA's `select`/`remove`."""
    if value is None:
        return [], ()
    css: list[str] = []
    ranges: list[Range] = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str):
            css.append(item)
        elif isinstance(item, dict) and set(item) <= set(RANGE_KEYS):
            ranges.append(Range(**{RANGE_KEYS[k]: v for k, v in item.items()}))
        else:
            raise ValueError(f"not a CSS or range selector: {item!r}")
    return css, tuple(ranges)


def slug(text: str) -> str:
    """'Société Générale Privacy Policy' -> 'societe-generale-privacy-policy'."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")
    return (words or "service")[:63].rstrip("-")
