"""The pages of `monitor serve`: home, site, change, compare, version, search.

Each view asks `Browse` (on one of datasette's read-only connections) for what it shows and
renders a template of ours (`templates/monitor_*.html`, extending datasette's `base.html`).
Text from policy pages reaches templates as plain strings or as `Markup` built with
`markupsafe` (which escapes what it formats), so it is always escaped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from datasette.utils.asgi import Response
from markupsafe import Markup

from monitor.clock import short
from monitor.config import change_path
from monitor.records import CATEGORIES, Change, Finding, category_label
from monitor.store.browse import FAILED, Browse, search_words

T = TypeVar("T")
MAX_HUNKS = 150  # changed places shown on a change page; the rest are counted
MAX_EQUAL = 240  # unchanged text kept inside a changed place
SNIPPET = 110  # characters each side of a search hit


# --- plumbing ---

def plugin_config(datasette: Any) -> dict[str, Any]:
    from monitor.web import PLUGIN

    return datasette.plugin_config(PLUGIN) or {}


async def ask(datasette: Any, question: Callable[[Browse], T]) -> T:
    """Run `question` on a `Browse` over one of datasette's read-only connections."""
    db = datasette.get_database(plugin_config(datasette).get("database"))
    return await db.execute_fn(lambda conn: question(Browse(conn)))  # type: ignore[no-any-return]


async def work(fn: Callable[[], T]) -> T:
    """CPU work (diffs, classification) off the event loop and off the SQL threads."""
    return await asyncio.get_running_loop().run_in_executor(None, fn)


def root(datasette: Any, request: Any) -> str:
    """The address people reach us at: `[serve] base_url`, else the request's host."""
    base = plugin_config(datasette).get("base_url")
    return base or f"{request.scheme}://{request.host}"


async def page(datasette: Any, request: Any, template: str, context: dict[str, Any],
               status: int = 200) -> Response:
    context.setdefault("feed", ("/feeds/major.atom", "Major changes, all sites"))
    context["database"] = plugin_config(datasette).get("database")
    context["label"] = category_label
    context["short"] = short
    html = await datasette.render_template(template, context, request=request)
    return Response.html(html, status=status)


async def not_found(datasette: Any, request: Any, message: str) -> Response:
    return await page(datasette, request, "monitor_error.html",
                      {"title": "Not found", "message": message}, status=404)


# --- home ---

async def home(datasette: Any, request: Any) -> Response:
    category = request.args.get("category") or None
    if category is not None and category not in CATEGORIES:
        return await not_found(datasette, request, f"No category '{category}'.")
    sites = await ask(datasette, lambda b: b.sites(category))
    feed = (f"/feeds/categories/{category}.atom", f"{category_label(category)}: changes") \
        if category else ("/feeds/major.atom", "Major changes, all sites")
    return await page(datasette, request, "monitor_home.html", {
        "title": "Privacy policies", "sites": sites, "category": category,
        "categories": [(c, category_label(c)) for c in CATEGORIES], "feed": feed})


# --- a site ---

async def site_page(datasette: Any, request: Any) -> Response:
    site = request.url_vars["site"]
    def question(b: Browse) -> tuple[Any, Any, Any]:
        return b.site(site), b.timeline(site), b.fetch_outcomes(site)

    info, versions, fetches = await ask(datasette, question)
    if info is None:
        return await not_found(datasette, request, f"No site named '{site}'.")
    return await page(datasette, request, "monitor_site.html", {
        "title": site, "site": info, "timeline": timeline(versions, episodes(fetches)),
        "numbers": [v["number"] for v in versions], "ongoing": ongoing(fetches),
        "feed": (f"/feeds/sites/{site}.atom", f"{site}: changes")})


def episodes(fetches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Runs of failed, blocked or suspect fetches (newest first), one entry a run."""
    runs: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for f in fetches:  # newest first
        if f["outcome"] not in FAILED:
            current = None
            continue
        if current is None:
            current = {"kind": "failure", "last": f["at"], "first": f["at"], "count": 0,
                       "outcomes": set(), "error": f["error"], "status": f["status"]}
            runs.append(current)
        current["first"] = f["at"]
        current["count"] += 1
        current["outcomes"].add(f["outcome"])
    for run in runs:
        run["outcomes"] = sorted(run["outcomes"])
        run["at"] = run["last"]
    return runs


def ongoing(fetches: list[dict[str, Any]]) -> bool:
    return bool(fetches) and fetches[0]["outcome"] in FAILED


def timeline(versions: list[dict[str, Any]],
             failures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Versions (with their change) and failure episodes, newest first."""
    items = [{**v, "kind": "version", "at": v["first_seen"]} for v in versions] + failures
    return sorted(items, key=lambda item: item["at"] or "", reverse=True)


# --- a change, or any two versions ---

async def change_page(datasette: Any, request: Any) -> Response:
    site, to = request.url_vars["site"], int(request.url_vars["number"])

    def question(b: Browse) -> tuple[Any, ...]:
        change = b.change(site, to)
        if change is None:
            return None, None, None, (None, None)
        return (change, b.version(site, change.from_version), b.version(site, to),
                b.neighbours(site, to))

    change, before, after, (previous, following) = await ask(datasette, question)
    if change is None or before is None or after is None:
        return await not_found(datasette, request,
                               f"No change to version {to} of '{site}'.")
    places = await work(lambda: diff_places(before["text"], after["text"]))
    return await page(datasette, request, "monitor_change.html", {
        **change_context(site, change.findings, before, after, places),
        "title": f"{site}: version {before['number']} → {after['number']}", "change": change,
        "verdict": verdict(change), "on_the_spot": False,
        "previous": change_path(site, previous) if previous and previous > 1 else None,
        "following": change_path(site, following) if following else None,
        "feed": (f"/feeds/sites/{site}.atom", f"{site}: changes")})


async def compare_page(datasette: Any, request: Any) -> Response:
    site = request.url_vars["site"]
    try:
        first, second = int(request.args.get("from", "")), int(request.args.get("to", ""))
    except ValueError:
        return await not_found(datasette, request, "Give two version numbers: ?from=1&to=3")

    def question(b: Browse) -> tuple[Any, Any, Any]:
        stored = b.change(site, second) if second == first + 1 else None
        return b.version(site, first), b.version(site, second), stored

    before, after, stored = await ask(datasette, question)
    if before is None or after is None:
        return await not_found(datasette, request,
                               f"'{site}' has no version {first if before is None else second}.")
    if stored is not None:  # consecutive: the verdict recorded with the change
        return Response.redirect(change_path(site, second))

    def judge() -> tuple[Any, list[dict[str, Any]]]:
        from monitor.classify import classify_safely

        backend = plugin_config(datasette).get("classifier")  # as `monitor diff` judges
        return (classify_safely(before["text"], after["text"], backend),
                diff_places(before["text"], after["text"]))

    classification, places = await work(judge)
    change = Change(site=site, from_version=first, to_version=second, at=after["first_seen"],
                    classification=classification)
    return await page(datasette, request, "monitor_change.html", {
        **change_context(site, change.findings, before, after, places),
        "title": f"{site}: version {first} → {second}", "change": change,
        "verdict": verdict(change), "on_the_spot": True, "previous": None, "following": None,
        "feed": (f"/feeds/sites/{site}.atom", f"{site}: changes")})


def change_context(site: str, findings: tuple[Finding, ...], before: dict[str, Any],
                   after: dict[str, Any], places: list[dict[str, Any]]) -> dict[str, Any]:
    return {"site": site, "findings": [finding_view(f) for f in findings],
            "before": {k: v for k, v in before.items() if k != "text"},
            "after": {k: v for k, v in after.items() if k != "text"},
            "places": places[:MAX_HUNKS], "more_places": max(0, len(places) - MAX_HUNKS)}


def verdict(change: Change) -> str:
    if change.technical:
        return "technical change (our extraction rules changed, not the policy)"
    if change.major is None:
        return "not classified"
    if change.major:
        return "MAJOR: " + (", ".join(category_label(c) for c in change.categories)
                            or "unclassified")
    return "minor change"


def finding_view(f: Finding) -> dict[str, Any]:
    """A finding for the page: its category in words and its sentences, changed words
    marked (<del> in the sentence before, <ins> in the one after)."""
    from monitor.differ import marked

    if f.before and f.after:
        runs_before, runs_after = marked(f.before, f.after)
    else:
        runs_before = [(False, f.before)] if f.before else []
        runs_after = [(False, f.after)] if f.after else []
    label = category_label(f.category) if f.category else "Whole text"
    return {"category": f.category, "label": label, "kind": f.kind, "section": f.section,
            "before": runs_html(runs_before, "del"), "after": runs_html(runs_after, "ins"),
            "has_before": bool(f.before), "has_after": bool(f.after)}


def runs_html(runs: list[tuple[bool, str]], tag: str) -> Markup:
    out = Markup()
    for changed, text in runs:
        if changed and text.strip():
            out += Markup(f"<{tag}>{{}}</{tag}>").format(text)
        else:
            out += text  # Markup + str escapes the str
    return out


def diff_places(before: str, after: str) -> list[dict[str, Any]]:
    """The word-level diff, one entry a changed place: its section, the statement before it,
    the ops (unchanged text squeezed), the statement after it."""
    from monitor.differ import align, diff_words

    al = align(before, after)
    places = []
    for h in al.hunks:
        section = (h.removed or h.added)[0].section
        end = h.start_before + len(h.removed)
        ops = diff_words(" ".join(u.text for u in h.removed), " ".join(u.text for u in h.added))
        places.append({
            "section": section,
            "lead": plain(al.before[h.start_before - 1].text) if h.start_before > 0 else "",
            "tail": plain(al.before[end].text) if end < len(al.before) else "",
            "html": ops_html(ops)})
    return places


def plain(statement: str) -> str:
    """A statement shown as context, its Markdown heading or list marker dropped."""
    return statement.lstrip("#").strip().removeprefix("- ")


def ops_html(ops: list[tuple[int, str]]) -> Markup:
    out = Markup()
    for op, text in ops:
        if op == 0:
            out += squeeze(text)
        else:
            out += Markup("<del>{}</del>" if op < 0 else "<ins>{}</ins>").format(text)
    return out


def squeeze(text: str) -> str:
    if len(text) <= MAX_EQUAL:
        return text
    half = MAX_EQUAL // 2
    return f"{text[:half]} … {text[-half:]}"


# --- a version ---

async def version_page(datasette: Any, request: Any) -> Response:
    site, n, raw = (request.url_vars["site"], int(request.url_vars["number"]),
                    request.url_vars.get("raw"))

    def question(b: Browse) -> tuple[Any, Any, Any]:
        return b.version(site, n), b.neighbours(site, n), b.change(site, n)

    version, (previous, following), change = await ask(datasette, question)
    if version is None:
        return await not_found(datasette, request, f"'{site}' has no version {n}.")
    if raw:
        return Response(version["text"], content_type="text/markdown; charset=utf-8",
                        headers={"X-Content-Type-Options": "nosniff"})
    return await page(datasette, request, "monitor_version.html", {
        "title": f"{site}: version {n}", "site": site, "version": version,
        "previous": previous, "following": following, "change": change,
        "change_url": change_path(site, n) if change else None,
        "feed": (f"/feeds/sites/{site}.atom", f"{site}: changes")})


# --- search ---

async def search_page(datasette: Any, request: Any) -> Response:
    words = (request.args.get("q") or "").strip()[:200]

    def question(b: Browse) -> tuple[bool, list[Change], list[dict[str, Any]]]:
        if not b.searchable() or not words:
            return b.searchable(), [], []
        return True, b.search_findings(words), b.search_versions(words)

    searchable, changes, versions = await ask(datasette, question)
    terms = [w.rstrip("*") for w in search_words(words) if len(w.rstrip("*")) > 1]
    found = [{"change": c, "url": change_path(c.site, c.to_version), "verdict": verdict(c),
              "findings": [finding_view(f) for f in c.findings if matches(f, terms)][:5]}
             for c in changes]
    texts = [{"site": v["site"], "number": v["number"], "first_seen": v["first_seen"],
              "matches": v["matches"], "snippet": snippet(v["text"], terms)} for v in versions]
    return await page(datasette, request, "monitor_search.html", {
        "title": f"Search: {words}" if words else "Search", "q": words,
        "searchable": searchable, "found": found, "texts": texts})


def matches(f: Finding, terms: list[str]) -> bool:
    text = " ".join((f.category.replace("_", " "), f.before, f.after, f.section)).lower()
    return any(t in text for t in terms)


def snippet(text: str, terms: list[str]) -> Markup:
    """The text around the first hit of any term, the terms marked."""
    import re

    low = text.lower()
    at = 0  # where the words stand together, else where the longest one is
    for probe in [" ".join(terms), *sorted(terms, key=len, reverse=True)]:
        if low.find(probe) >= 0:
            at = low.find(probe)
            break
    start, end = max(0, at - SNIPPET), min(len(text), at + SNIPPET)
    part = ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
    if not terms:
        return Markup.escape(part)
    pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)),
                         re.I)
    out, last = Markup(), 0
    for m in pattern.finditer(part):
        out += part[last:m.start()]
        out += Markup("<mark>{}</mark>").format(m.group())
        last = m.end()
    return out + part[last:]
