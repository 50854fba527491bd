"""Atom feeds (RFC 4287): every major change, one site's changes, one category's changes.

Each entry is one change: its title names the site and the categories in words, its content
lists the findings (category, the sentences before and after, changed words marked), and it
links to the change's page. Entry ids are stable across renumbering (`urn:uuid:` from the
site, the time the change was recorded and the new text's hash). Built with ElementTree, so
whatever a policy says, the XML is well-formed.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from typing import Any

from datasette.utils.asgi import Response

from monitor.config import change_path
from monitor.records import CATEGORIES, Change, category_label
from monitor.store import now
from monitor.store.browse import Browse

ATOM = "http://www.w3.org/2005/Atom"
ENTRIES = 50
NAMESPACE = uuid.UUID("6f1c9f4e-2b0e-4c55-9a61-0d6b2f7c1e11")  # ids of our entries


async def major_feed(datasette: Any, request: Any) -> Response:
    return await feed(datasette, request, "/feeds/major.atom", "Major privacy policy changes",
                      lambda b: b.changes(major=True, limit=ENTRIES))


async def site_feed(datasette: Any, request: Any) -> Response:
    from monitor.web.pages import ask

    site = request.url_vars["site"]

    if await ask(datasette, lambda b: b.site(site)) is None:
        return Response.text(f"no site named '{site}'\n", status=404)
    return await feed(datasette, request, f"/feeds/sites/{site}.atom",
                      f"{site}: privacy policy changes",
                      lambda b: b.changes(site=site, limit=ENTRIES), home=f"/sites/{site}")


async def category_feed(datasette: Any, request: Any) -> Response:
    category = request.url_vars["category"]
    if category not in CATEGORIES:
        return Response.text(f"no category '{category}' (known: {', '.join(CATEGORIES)})\n",
                             status=404)
    return await feed(datasette, request, f"/feeds/categories/{category}.atom",
                      f"{category_label(category)}: privacy policy changes",
                      lambda b: b.changes(category=category, limit=ENTRIES),
                      home=f"/?category={category}")


async def feed(datasette: Any, request: Any, path: str, title: str, question: Any,
               home: str = "/") -> Response:
    from monitor.web.pages import ask, root

    def read(b: Browse) -> tuple[list[Change], dict[tuple[str, int], str]]:
        changes = question(b)
        hashes = {}
        for c in changes:
            for number, text_hash in b.version_hashes(c.site, [c.to_version]).items():
                hashes[(c.site, number)] = text_hash
        return changes, hashes

    changes, hashes = await ask(datasette, read)
    xml = atom(root(datasette, request), path, title, changes, hashes, home=home)
    return Response(xml, content_type="application/atom+xml; charset=utf-8")


def atom(base: str, path: str, title: str, changes: list[Change],
         hashes: dict[tuple[str, int], str], *, home: str = "/") -> str:
    """The feed document: newest change first."""
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed")
    sub(root, "title", title)
    sub(root, "id", base + path)
    sub(root, "updated", changes[0].at if changes else now())
    link(root, base + path, "self", "application/atom+xml")
    link(root, base + home, "alternate", "text/html")
    author = sub(root, "author")
    sub(author, "name", "Policy Monitor")
    sub(root, "generator", "Policy Monitor")
    for change in changes:
        entry(root, base, change, hashes.get((change.site, change.to_version), ""))
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def entry(feed: ET.Element, base: str, change: Change, text_hash: str) -> None:
    url = base + change_path(change.site, change.to_version)
    node = sub(feed, "entry")
    sub(node, "title", entry_title(change))
    key = f"{change.site}:{change.at}:{text_hash[:12]}"
    sub(node, "id", uuid.uuid5(NAMESPACE, key).urn)
    sub(node, "updated", change.at)
    sub(node, "published", change.at)
    link(node, url, "alternate", "text/html")
    for category in change.categories:
        ET.SubElement(node, f"{{{ATOM}}}category",
                      {"term": category, "label": category_label(category)})
    sub(node, "summary", summary(change))
    content = sub(node, "content", content_html(change, url))
    content.set("type", "html")


def entry_title(change: Change) -> str:
    labels = ", ".join(category_label(c) for c in change.categories)
    if change.major:
        return f"{change.site}: major change ({labels or 'unclassified'})"
    return f"{change.site}: minor change"


def summary(change: Change) -> str:
    n = len(change.findings)
    return (f"Version {change.from_version} -> {change.to_version}: "
            f"{n} finding{'s' if n != 1 else ''}"
            + (": " + "; ".join(sorted({f.label for f in change.findings})) if n else "."))


def content_html(change: Change, url: str) -> str:
    """The findings as HTML (escaped: it travels as text inside the XML)."""
    from monitor.web.pages import finding_view

    parts = [f"<p>Version {change.from_version} → {change.to_version}. "
             f'<a href="{escape(url)}">See the change</a>.</p>']
    if change.findings:
        parts.append("<ul>")
        for f in change.findings:
            view = finding_view(f)
            where = f" (in “{escape(f.section)}”)" if f.section else ""
            parts.append(f"<li><b>{escape(view['label'])}</b>: {escape(f.kind)}{where}")
            if view["has_before"]:
                parts.append(f"<br>before: {view['before']}")
            if view["has_after"]:
                parts.append(f"<br>after: {view['after']}")
            parts.append("</li>")
        parts.append("</ul>")
    else:
        parts.append("<p>No findings: the wording changed without touching a category.</p>")
    return "".join(parts)


def escape(text: str) -> str:
    import html

    return html.escape(text)


def sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    node = ET.SubElement(parent, f"{{{ATOM}}}{tag}")
    if text is not None:
        node.text = text
    return node


def link(parent: ET.Element, href: str, rel: str, kind: str) -> None:
    ET.SubElement(parent, f"{{{ATOM}}}link", {"rel": rel, "type": kind, "href": href})
