"""HTML policies: junk and page chrome dropped, the main content found with the text that
continues around it, repeated copies written once; then written as Markdown (`markdown`).

Every walk over the tree is iterative and bounded by work done."""

from __future__ import annotations

import re
from collections.abc import Callable

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from monitor.errors import ExtractError
from monitor.extract.dropped import Dropped, _note
from monitor.extract.markdown import (
    _HEADING_SELECTOR,
    _HEADING_TAGS,
    _HEADINGS,
    _INLINE_TAGS,
    _markdown,
)

# Never policy text, wherever they are.
_JUNK_TAGS = ("script", "style", "noscript", "template", "svg", "math", "iframe", "object",
              "embed", "canvas", "video", "audio", "input", "select", "textarea",
              "link", "meta", "dialog:not([open])", "head", "title")
# Site chrome by tag or ARIA role; header and footer only outside the document's own
# article/main, where they hold its title and date.
# An open <dialog> is shown, so it is chrome (a consent prompt) unless it is all there is.
_CHROME_TAGS = ("nav", "aside", "header", "footer", "form", "dialog")
_CHROME_ROLES = {"navigation", "banner", "contentinfo", "complementary", "dialog",
                 "alertdialog", "search", "menu", "menubar", "toolbar"}

# Class and id names are read as words: `sticky-top` is (sticky, top), never the consent
# manager CookieYes (`cky-`); `cmp-text` is Adobe Experience Manager's text component, not a
# consent-management platform. Words are split at -, _, digits and camelCase humps.
_NAME_SPLIT = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
# Consent managers by vendor name: always chrome (their banners and preference centres).
_CONSENT_VENDORS = {
    "onetrust", "optanon", "didomi", "usercentrics", "cookiebot", "truste", "trustarc",
    "osano", "iubenda", "termly", "cookieyes", "cky", "cmplz", "borlabs", "klaro",
    "tarteaucitron", "axeptio", "cookiefirst", "cookiehub", "cookielaw", "cmpbox", "moove",
    "cookiescript", "consentmanager", "sourcepoint", "quantcast", "cookieinformation"}
_VENDOR_PAIRS = ({"qc", "cmp"}, {"sp", "message"}, {"cc", "window"}, {"cc", "banner"},
                 {"cybot", "cookiebot"})
# Otherwise a consent word together with a word of a widget: `cookie-banner`,
# `consentBox`, `gdpr-popup`. A bare `cookies` or `consent` is a section of the policy.
_CONSENT_WORDS = {"cookie", "consent", "gdpr", "ccpa"}
_WIDGET_WORDS = {"banner", "bar", "notice", "popup", "pop", "modal", "box", "wall", "message",
                 "alert", "overlay", "dialog", "prompt", "layer", "container", "wrapper", "sdk",
                 "widget", "btn", "button", "toggle", "revoke", "floating", "manager", "root",
                 "host", "ui", "consent", "law", "accept", "preferences", "settings"}
# Vendors also render the policy's own cookie table or declaration into the page: content.
_EMBED_WORDS = {"policy", "declaration", "document", "statement", "table", "list", "audit"}
# Other page furniture: dropped only when small and not holding the page's title.
# Only words of the user interface: a policy's sections are anchored by their topic
# (`#cookies`, `#social-sharing`, `#newsletter`, `#copyright`, `#feedback`), never by these.
_FURNITURE_WORDS = {"banner", "modal", "popup", "overlay", "promo", "promotion", "toast",
                    "skip", "breadcrumb", "sidebar", "nav", "navbar", "navigation", "menu",
                    "masthead", "topbar", "helpful", "lightbox", "drawer", "offcanvas"}
# Widgets around an article whose text changes by itself (votes, comment counts) or is never
# the document's. Only in class names: an id is the anchor of a section, named by its topic
# (`#comments`, `#social-sharing`), and a section may be about any of these.
# (Not `share` nor `subscription`: "Sharing your data" and "Subscriptions" are sections of
# policies and terms, whatever their markup; a row of share links is stable text anyway.)
_WIDGET_CLASS_WORDS = {"vote", "voting", "rating", "comment", "related", "pagination", "pager"}
_OVERLAY_WORDS = {"modal", "popup", "overlay", "toast", "lightbox", "drawer", "offcanvas"}
# Layout words of site headers and footers that are plain <div>s.
_EDGE_WORDS = {"header", "footer"}
# Lexbor finds the candidates in C, by these substrings of their names; the words are then
# checked in Python on those only.
_NAME_PROBES = ("cookie", "consent", "gdpr", "ccpa", "cmp", "onetrust", "optanon", "didomi",
                "usercentrics", "trust", "osano", "iubenda", "termly", "cky", "klaro",
                "borlabs", "tarteaucitron", "axeptio", "moove", "message", "cc-", "banner",
                "modal", "popup", "overlay", "promo", "toast", "skip", "breadcrumb",
                "sidebar", "nav", "menu", "masthead", "topbar", "helpful", "lightbox",
                "drawer", "offcanvas", "header", "footer", "vote", "voting", "rating",
                "comment", "related", "paginat", "pager")
_CHROME_SELECTOR = ", ".join(
    [*_CHROME_TAGS, *(f"[role={role}]" for role in sorted(_CHROME_ROLES)), "[aria-modal=true]"]
    + [f"[class*={word} i], [id*={word} i]" for word in _NAME_PROBES])


def _name_words(node: LexborNode) -> set[str]:
    """The words of `node`'s id and class names, singular. A name that tells a state of the
    page (`modal-open`, `has-sidebar`, `cookie-banner-visible`) says nothing of the element."""
    attrs = node.attributes
    return _words_of(attrs.get("id") or "") | _words_of(attrs.get("class") or "")


def _class_words(node: LexborNode) -> set[str]:
    return _words_of(node.attributes.get("class") or "")


def _words_of(names: str) -> set[str]:
    words: set[str] = set()
    for name in names.split():
        parts = [part.lower() for part in _NAME_SPLIT.findall(name)]
        if not parts or parts[0] in _STATE_FIRST or parts[-1] in _STATE_LAST:
            continue
        words.update(parts)  # and their singular: `modals`, `banners`, `cookies`
        words.update(part[:-1] for part in parts
                     if len(part) > 4 and part.endswith("s") and not part.endswith("ss"))
    return words


_STATE_FIRST = {"is", "has", "with", "no", "show", "hide"}
_STATE_LAST = {"open", "opened", "visible", "active", "shown", "enabled", "accepted", "hidden",
               "closed", "displayed", "locked"}


def _chrome_reason(node: LexborNode, page: _Page) -> str | None:
    """Why `node` is page chrome, or None when it may hold policy text."""
    tag, attrs = node.tag, node.attributes
    if tag in ("body", "html", "main", "article"):
        return None
    if tag in ("nav", "aside", "dialog"):
        return f"<{tag}>"
    if attrs.get("aria-modal") == "true" or attrs.get("role") in _CHROME_ROLES:
        return f"role {attrs.get('role') or 'modal'}"
    words = _name_words(node)
    vendor = words & _CONSENT_VENDORS or next(
        (pair for pair in _VENDOR_PAIRS if pair <= words), set())
    if vendor and not words & _EMBED_WORDS:
        return f"consent manager ({'-'.join(sorted(vendor))})"
    consent = words & _CONSENT_WORDS
    if consent and (words - consent) & _WIDGET_WORDS and not words & _EMBED_WORDS:
        # Banners sit outside the document; inside its <main>/<article>, such a name is a
        # part of the policy (`cookie-consent-info`). A big block without a button or a
        # toggle is the cookie policy itself (`<div id="cookie-consent">` around it).
        if page.in_document.inside(node):
            return None
        if node.mem_id in page.controlled or page.small(node):
            return "cookie or consent banner"
        return None
    edge = tag in ("header", "footer") or words & _EDGE_WORDS
    if edge and not page.in_document.inside(node):
        if tag == "header" or "header" in words:
            return None if _holds_title(node) else "page header"
        return "page footer" if tag == "footer" or page.small(node) else None
    widget = _class_words(node) & _WIDGET_CLASS_WORDS
    if widget == {"related"} and not _link_heavy(node):  # "Related companies" is a section
        widget = set()
    furniture = words & _FURNITURE_WORDS | widget
    if (furniture or tag == "form") and page.small(node):
        # A page banner may hold the document's title; a modal or a pop-up never does.
        if words & _OVERLAY_WORDS or not node.css_first("h1"):
            return f"page furniture ({', '.join(sorted(furniture)) or 'form'})"
    return None


class _Ancestry:
    """Answers "is this node inside a marked one?" for many nodes of one tree in linear time:
    each answer is remembered for every node on the way up, so 20,000 nested elements cost
    20,000 steps, not 200 million. Nodes must be asked about in page order when marks are
    added on the way (an ancestor is always decided before its descendants)."""

    def __init__(self, is_mark: Callable[[LexborNode], bool]) -> None:
        self.is_mark = is_mark
        self.memo: dict[int, bool] = {}

    def inside(self, node: LexborNode) -> bool:
        path: list[int] = []
        parent, answer = node.parent, False
        while parent is not None:
            known = self.memo.get(parent.mem_id)
            if known is not None:
                answer = known
                break
            if self.is_mark(parent):
                answer = True
                break
            path.append(parent.mem_id)
            parent = parent.parent
        for mem_id in path:
            self.memo[mem_id] = answer
        return answer


class _Page:
    """What the chrome rules ask of the whole page, within a bounded amount of work."""

    def __init__(self, root: LexborNode, controlled: set[int]) -> None:
        self.controlled = controlled
        self.mass = _mass(root)
        self.budget = _CHROME_WORK * self.mass + 100_000
        self.in_document = _Ancestry(lambda node: node.tag in ("article", "main"))

    def small(self, node: LexborNode) -> bool:
        """Whether `node` holds under a third of the page's text. Past the budget (a page of
        thousands of nested named elements) nothing more is called small: kept, not lost."""
        if self.budget <= 0:
            return False
        mass = _mass(node)
        self.budget -= mass
        return mass < self.mass / 3


_CHROME_WORK = 20  # characters weighed by the chrome rules per character of the page's text


def _chrome(tree: LexborHTMLParser, root: LexborNode,
            controlled: set[int]) -> list[tuple[LexborNode, str]]:
    """The outermost chrome elements and why, in page order."""
    page = _Page(root, controlled)
    found: dict[int, str] = {}
    covered = _Ancestry(lambda node: node.mem_id in found)
    chrome = []
    for node in _matches(tree, _CHROME_SELECTOR):
        if covered.inside(node):
            continue
        reason = _chrome_reason(node, page)
        if reason:
            found[node.mem_id] = reason
            chrome.append((node, reason))
    return chrome


def _link_heavy(node: LexborNode) -> bool:
    text = len(node.text(strip=True))
    return sum(len(link.text(strip=True)) for link in node.css("a")) > text / 2


def _holds_title(node: LexborNode) -> bool:
    """A page header that holds the document's title (h1 text that is not a logo link), or
    the heading of a section (`section-header`, `accordion-header`)."""
    if node.tag in _HEADINGS:
        return True
    for heading in node.css("h1, h2, h3, h4, h5, h6"):
        if _mass(heading) > 0:
            return True
    return False


def _html_text(html: str, select: str | None, remove: tuple[str, ...],
               log: list[Dropped] | None) -> tuple[str, bool]:
    tree, controlled = _prepared(html, remove, log)
    root = tree.body or tree.root
    if root is None:
        return "", False
    if select:
        chosen = _matches(tree, select)
        if not chosen:
            raise ExtractError(f"selector {select!r} matches nothing")
        return "\n\n".join(_markdown([node], inner=True) for node in _outermost(chosen)), False
    page_mass = _mass(root)
    for node, reason in _chrome(tree, root, controlled):
        if log is not None:
            _note(log, node, reason)
        node.decompose()
    _drop(_tables_of_contents(root), log, "table of contents (links to this page)")
    nodes, core = _main_content(root, log)
    text = _markdown(nodes, core=core, log=log)
    if _words(text) < _FALLBACK_WORDS and page_mass >= _FALLBACK_MASS:
        # The rules dropped what holds the policy (a page built inside a dialog, a form or a
        # consent-named wrapper): take the main content without them rather than no text.
        retry_log: list[Dropped] | None = None if log is None else []
        retry = _text_without_chrome_rules(html, remove, retry_log)
        if _words(retry) > 2 * _words(text):
            if log is not None and retry_log is not None:
                log[:] = retry_log
            return retry, True
    return text, False


def _text_without_chrome_rules(html: str, remove: tuple[str, ...],
                               log: list[Dropped] | None) -> str:
    tree, _ = _prepared(html, remove, log)
    root = tree.body or tree.root
    if root is None:
        return ""
    _drop(root.css("nav, aside"), log, "<nav> or <aside>")
    nodes, core = _main_content(root, log)
    return _markdown(nodes, core=core, log=log)


_FALLBACK_WORDS = 30  # fewer words than this cannot be a policy...
_FALLBACK_MASS = 1000  # ...on a page with this many characters of text


def _prepared(html: str, remove: tuple[str, ...],
              log: list[Dropped] | None) -> tuple[LexborHTMLParser, set[int]]:
    """The parsed page without junk tags, action buttons and the user's `remove` rules; and
    the elements that held form controls before they went (see `_controlled`)."""
    tree = LexborHTMLParser(html)
    controlled = _controlled(tree)
    _drop(_matches(tree, ", ".join(_JUNK_TAGS)), None, "")
    in_heading = _Ancestry(lambda node: node.tag in _HEADING_TAGS)
    _drop([button for button in tree.css("button")
           if not _is_accordion_title(button, in_heading)], None, "")
    _decode_cloudflare_emails(tree)
    _fix_relative_times(tree)
    for selector in remove:
        _drop(_matches(tree, selector), log, f"remove rule {selector!r}")
    return tree, controlled


_CONTROLS = ("button, input, select, textarea, [role=button], [role=switch], [role=checkbox], "
             "[role=radio]")


def _controlled(tree: LexborHTMLParser) -> set[int]:
    """The mem_ids of elements holding a button, a checkbox or a switch: a consent prompt has
    them ("Accept", a toggle a purpose); the text of a cookie policy has none. Each ancestor
    is marked once, so the work is linear in the page."""
    marked: set[int] = set()
    for control in tree.css(_CONTROLS):
        parent = control.parent
        while parent is not None and parent.mem_id not in marked:
            marked.add(parent.mem_id)
            parent = parent.parent
    return marked


def _words(text: str) -> int:
    return len(text.split())


def _matches(tree: LexborHTMLParser, selector: str) -> list[LexborNode]:
    try:
        return list(tree.css(selector))
    except SelectolaxError as error:
        raise ExtractError(f"invalid CSS selector {selector!r}") from error


def _drop(nodes: list[LexborNode], log: list[Dropped] | None, reason: str) -> None:
    """Remove nodes from the tree; only the outermost ones, as removing a node frees its subtree."""
    for node in _outermost(nodes):
        if log is not None:
            _note(log, node, reason)
        node.decompose()


def _outermost(nodes: list[LexborNode]) -> list[LexborNode]:
    """The nodes that have no ancestor among `nodes` (which are in document order)."""
    ids = {node.mem_id for node in nodes}
    ancestry = _Ancestry(lambda node: node.mem_id in ids)
    return [node for node in nodes if not ancestry.inside(node)]


def _is_accordion_title(button: LexborNode, in_heading: _Ancestry) -> bool:
    """Accordion titles are often buttons: they are policy text, unlike 'Accept all'."""
    attrs = button.attributes
    return "aria-expanded" in attrs or "aria-controls" in attrs or in_heading.inside(button)


_RELATIVE_TIME = re.compile(
    r"\b(?:ago|yesterday|today|just now|il y a|hier|aujourd'hui|gestern|heute|hace|ayer|hoy)\b|"
    r"\bvor \d|\d+\s+\w+\s+fa\b", re.I)


def _fix_relative_times(tree: LexborHTMLParser) -> None:
    """"Updated 3 months ago" turns into "4 months ago" with no edit: when a <time> says a
    relative time, its machine-readable date is written instead."""
    for node in tree.css("time[datetime]"):
        if _RELATIVE_TIME.search(node.text() or ""):
            node.replace_with((node.attributes.get("datetime") or "")[:10])


def _decode_cloudflare_emails(tree: LexborHTMLParser) -> None:
    """Cloudflare hides e-mail addresses as '[email protected]' + a hex string XORed with a
    random key per response; decode them so the address itself is versioned."""
    for node in tree.css("[data-cfemail]"):
        encoded = node.attributes.get("data-cfemail") or ""
        try:
            key, data = int(encoded[:2], 16), bytes.fromhex(encoded[2:])
            node.replace_with(bytes(byte ^ key for byte in data).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue  # leave the placeholder: normalize keeps it recognisable


_TOC_LINKS = 3


def _tables_of_contents(root: LexborNode) -> list[LexborNode]:
    """Lists made of links to places in this page: they repeat the headings (kept once)."""
    lists: dict[int, LexborNode] = {}
    for link in root.css('a[href^="#"]'):
        parent, steps = link.parent, 0
        while parent is not None and steps < 4 and parent.tag not in ("ul", "ol"):
            parent, steps = parent.parent, steps + 1
        if parent is not None and parent.tag in ("ul", "ol"):
            lists.setdefault(parent.mem_id, parent)
    found = []
    for candidate in lists.values():
        links = candidate.css('a[href^="#"]')
        text = len(candidate.text(strip=True))
        inner = sum(len(link.text(strip=True)) for link in links)
        if len(links) >= _TOC_LINKS and text and inner >= 0.8 * text:
            found.append(candidate)
    return found


# ---------------------------------------------------------------------------------- main content

_MAIN_SHARE = 0.5  # <main>/<article> must hold this share of the page's text to be trusted
_DESCEND_SHARE = 0.75  # a child holding this share of the page's text is the content
_DESCEND_WORK = 60  # levels of (nearly) the whole text weighed, at most


def _main_content(root: LexborNode,
                  log: list[Dropped] | None) -> tuple[list[LexborNode], LexborNode]:
    """The elements holding the policy, in page order: a <main>/<article> holding most of the
    text, else the deepest element that still holds most of it; then the text that continues
    around it (a title and date before, an annex or a representative's address after)."""
    total = _mass(root)
    if not total:
        return [root], root
    candidates = root.css("main, [role=main], article")
    best = max(candidates, key=_mass, default=None)
    core = best if best is not None and _mass(best) >= _MAIN_SHARE * total else \
        _descend(root, total)
    return _extend(core, root, log), core


def _descend(node: LexborNode, total: int) -> LexborNode:
    node_mass = total
    budget = _DESCEND_WORK * total  # characters weighed: deep nesting stops here, not hangs
    while True:
        children = [child for child in node.iter() if child.tag not in _INLINE_TAGS]
        if len(children) == 1 and not _has_loose_text(node):  # a wrapper: no need to weigh
            node = children[0]
            continue
        budget -= node_mass
        if budget < 0:
            return node
        masses = [(_mass(child), child) for child in children]
        mass, best = max(masses, key=lambda pair: pair[0], default=(0, None))
        if best is None or mass < _DESCEND_SHARE * total:
            return node
        # Stop before cutting away loose text or a titled text: the policy's title and date,
        # or an intro. Chrome headings are logos or top a menu of links: no text of their own.
        loose = node_mass - sum(pair[0] for pair in masses)
        if loose > 0 or any(_is_titled_text(child, child_mass)
                            for child_mass, child in masses if child is not best):
            return node
        node, node_mass = best, mass


def _has_loose_text(node: LexborNode) -> bool:
    for child in node.iter(include_text=True):
        if child.tag in _INLINE_TAGS and child.tag != "-comment":
            if child.tag == "-text" and not (child.text_content or "").strip():
                continue
            return True
    return False


def _extend(core: LexborNode, root: LexborNode,
            log: list[Dropped] | None) -> list[LexborNode]:
    """`core` and the siblings of it and of its ancestors that read as text of the document,
    in page order. In each direction, the first block of links or chrome ends the document."""
    before: list[LexborNode] = []
    after: list[LexborNode] = []
    open_before = open_after = True
    node = core
    while node.mem_id != root.mem_id and node.parent is not None:
        if open_before:
            open_before = _collect(node, before, "prev", log)
        if open_after:
            open_after = _collect(node, after, "next", log)
        node = node.parent
    return [*reversed(before), core, *after]


def _collect(node: LexborNode, into: list[LexborNode], direction: str,
             log: list[Dropped] | None) -> bool:
    """Add the text siblings of `node` in `direction`; False once a chrome block ends them."""
    sibling = getattr(node, direction)
    while sibling is not None:
        verdict = _sibling_verdict(sibling)
        if verdict == "stop":
            if log is not None:
                _note_rest(log, sibling, direction)
            return False
        if verdict == "keep" or (verdict == "skip" and direction == "prev" and
                                 _is_title(sibling)):
            into.append(sibling)
        elif log is not None and verdict == "skip":
            _note(log, sibling, "outside the main content (too short to be the document's)")
        sibling = getattr(sibling, direction)
    return True


def _is_title(node: LexborNode) -> bool:
    """A short heading before the document (its title, in a banner of its own)."""
    if node.tag in _HEADINGS:
        return _mass(node) > 0
    heading = node.css_first(_HEADING_SELECTOR) if node.tag != "-text" else None
    return heading is not None and _mass(heading) > 0


def _note_rest(log: list[Dropped], sibling: LexborNode | None, direction: str) -> None:
    while sibling is not None:
        _note(log, sibling, "outside the main content")
        sibling = getattr(sibling, direction)


_SIBLING_MIN = 20  # characters of text (not links) for a block to be read at all
_SIBLING_LONG = 100  # ...for a block to be kept without looking like a sentence
_SENTENCE = re.compile(r"[.:;@]|\d")
_WORD = re.compile(r"\b[^\W\d_]{2,}\b")  # a word of letters: not a token, a clock or a count
_COPYRIGHT = re.compile(r"^(?:©|\(c\)|copyright\b)|all rights reserved", re.I)


def _sibling_verdict(node: LexborNode) -> str:
    """'keep' a block that reads as the document's text, 'skip' a short neutral one, 'stop'
    at links and chrome: text after a footer-like block is not the document's any more."""
    tag = node.tag
    if tag == "-comment":
        return "none"
    if tag == "-text":
        text = (node.text_content or "").strip()
        if not text:
            return "none"
        return "keep" if len(text) >= _SIBLING_LONG else "skip"
    text = node.text(strip=True)
    if not text:
        return "none"
    links = len(text) if tag == "a" else sum(len(link.text(strip=True)) for link in node.css("a"))
    mass = len(text) - links
    if links >= _SIBLING_MIN and links > 0.5 * len(text):
        return "stop"
    if _COPYRIGHT.search(text[:200]) and mass < 400:
        return "stop"
    if _name_words(node) & (_FURNITURE_WORDS | _EDGE_WORDS) or \
            _class_words(node) & _WIDGET_CLASS_WORDS:
        return "stop"
    if mass < _SIBLING_MIN:
        return "skip"
    if mass >= _SIBLING_LONG or (_SENTENCE.search(text) and len(_WORD.findall(text)) >= 3):
        return "keep"
    return "skip"


def _is_titled_text(node: LexborNode, mass: int) -> bool:
    """Whether `node` is a heading, or holds one and some text (not links) besides."""
    if node.tag in _HEADINGS:
        return mass > 0
    headings = sum(_mass(heading) for heading in node.css(_HEADING_SELECTOR))
    return 0 < headings < mass


def _mass(node: LexborNode) -> int:
    """Characters of text outside links: link lists are chrome. (Inner white space counts;
    text(strip=True) is several times faster than splitting and ranks nodes the same.)"""
    links = sum(len(link.text(strip=True)) for link in node.css("a"))
    return len(node.text(strip=True)) - links
