"""What a site's rules take from its page(s): range selectors, and documents over several pages.

A site's rules are CSS `select`/`remove` (handled by `monitor.extract`), plus Open Terms
Archive's **range selectors** (the part of a page between two elements) and **combined pages**
(`[[sites.pages]]`: one document spread over several pages, e.g. a policy and its annex).

- A range is cut from the page's HTML before extraction: marks are put before or after the
  elements that start and end it, and the page is cut between them (what a DOM Range does).
  `select` ranges keep what they span; `remove` ranges drop it.
- A combined site is fetched page by page; its snapshot is one envelope (COMBINED, JSON) that
  holds every page's raw bytes, so `reextract` can rebuild it like any other. Each page is
  extracted with its own rules and the texts are joined in order.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence

from monitor.config import Page, Range, Site
from monitor.errors import ExtractError

COMBINED = "application/vnd.policy-monitor.combined+json"
_START, _END = "\ue000pm-range-start\ue000", "\ue000pm-range-end\ue000"


def extract_site(site: Site, body: bytes, content_type: str | None,
                 url: str | None = None) -> str:
    """The text `site`'s rules take from what was fetched for it (one page or an envelope)."""
    if (content_type or "").startswith(COMBINED):
        parts = unpack(body)
        rules = [first_page(site), *site.pages]
        if len(parts) != len(rules):
            raise ExtractError(f"{site.name}: the snapshot holds {len(parts)} pages, the site "
                               f"has {len(rules)} now")
        return "\n\n".join(extract_page(page, b, t, u) for page, (u, t, b) in zip(
            rules, parts, strict=True))
    return extract_page(first_page(site), body, content_type, url)


def first_page(site: Site) -> Page:
    return Page(site.url, site.select, site.remove, site.select_ranges, site.remove_ranges)


def extract_page(page: Page, body: bytes, content_type: str | None, url: str | None) -> str:
    from monitor.extract import extract, sniff_type

    select, remove = page.select, page.remove
    if (page.select_ranges or page.remove_ranges) and sniff_type(body, content_type) == "html":
        html = body.decode("utf-8", "replace")
        if page.remove_ranges:
            html = drop_ranges(html, page.remove_ranges, url)
        if page.select_ranges:
            html = keep(html, page.select_ranges, select, url)
            select = "body"  # the parts kept are the document now
        body, content_type = html.encode("utf-8"), "text/html; charset=utf-8"
    return extract(body, content_type, select=select, remove=remove, url=url)


def keep(html: str, ranges: Sequence[Range], css: str | None, url: str | None) -> str:
    """A page of what the ranges span (and what `css` selects), in that order."""
    from selectolax.lexbor import LexborHTMLParser

    parts = [span(html, r, url) for r in ranges]
    if css:
        parts += [n.html or "" for n in LexborHTMLParser(html).css(css)]
    texts = [" ".join((LexborHTMLParser(p).text(separator=" ") or "").split()) for p in parts]
    # a part another part holds (the range inside `main`, or `main` around the range) once
    kept = [p for i, p in enumerate(parts) if texts[i] and not any(
        j != i and texts[i] in texts[j] and (len(texts[j]) > len(texts[i]) or j < i)
        for j in range(len(parts)))]
    return f"<html><body>{''.join(kept)}</body></html>"


def drop_ranges(html: str, ranges: Sequence[Range], url: str | None) -> str:
    for r in ranges:
        marked = mark(html, r, url)
        head, rest = marked.split(_START, 1)
        html = head + rest.split(_END, 1)[1]
    return html


def span(html: str, r: Range, url: str | None) -> str:
    """The HTML between the range's start and end (the parser closes what the cut left open)."""
    return mark(html, r, url).split(_START, 1)[1].split(_END, 1)[0]


def mark(html: str, r: Range, url: str | None) -> str:
    """The page serialised with a mark where the range starts and one where it ends."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html)
    start = tree.css_first(r.start_before or r.start_after or "")
    end = tree.css_first(r.end_before or r.end_after or "")
    where = f" at {url}" if url else ""
    for node, selector in ((start, r.start_before or r.start_after),
                           (end, r.end_before or r.end_after)):
        if node is None:
            raise ExtractError(f"range selector {selector!r} matches nothing{where}")
    assert start is not None and end is not None
    (start.insert_before if r.start_before else start.insert_after)(_START)
    (end.insert_before if r.end_before else end.insert_after)(_END)
    text = tree.html or ""
    if text.find(_START) > text.find(_END):
        raise ExtractError(f"range{where} ends before it starts ({r.start_before or r.start_after}"
                           f" .. {r.end_before or r.end_after})")
    return text


def pack(parts: Sequence[tuple[str, str | None, bytes]]) -> bytes:
    """One snapshot for the pages of a combined site: (url, content type, raw bytes) each."""
    return json.dumps({"pages": [{"url": u, "content_type": t,
                                  "body": base64.b64encode(b).decode("ascii")}
                                 for u, t, b in parts]}).encode("utf-8")


def unpack(body: bytes) -> list[tuple[str, str | None, bytes]]:
    try:
        pages = json.loads(body)["pages"]
        return [(p["url"], p["content_type"], base64.b64decode(p["body"])) for p in pages]
    except (ValueError, KeyError, TypeError) as e:
        raise ExtractError(f"a combined snapshot that cannot be read: {e}") from None
