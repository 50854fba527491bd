"""Turn fetched bytes into normalized policy text (Markdown), as pure functions.

    extract(body, content_type, select=, remove=)
      ├── sniff_type            'html' | 'pdf' | 'text'
      ├── html: decode ─► drop junk tags ─► drop chrome ─► main content ─► Markdown
      ├── pdf:  pypdf page text
      └── text: decode
    ─► normalize                the same text always gives the same bytes

Determinism matters more than anything here: a version is recorded whenever the output differs
by one byte, so everything that varies between two fetches of an unchanged policy (banners,
clocks, nonces, markup details) must vanish before the text is returned.
"""

from __future__ import annotations

import codecs
import io
import re
import unicodedata

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from monitor.errors import ExtractError

# Bump when a change here alters extracted texts: the next crawl then records a technical
# change (never alerted) instead of a policy change; `monitor reextract` rebuilds history.
VERSION = 1

__all__ = ["check_selector", "extract", "normalize", "sniff_type"]


def extract(body: bytes, content_type: str | None = None, *, select: str | None = None,
            remove: tuple[str, ...] | list[str] = (), url: str | None = None) -> str:
    """Return the policy text held in `body` as normalized Markdown.

    `select` (CSS) picks the policy's content and `remove` drops parts of it; without `select`
    the main content is found by heuristics. `url` only makes error messages clearer.
    Raises ExtractError when no text is left.
    """
    kind = sniff_type(body, content_type)
    if kind == "pdf":
        text = _pdf_text(body)
    elif kind == "html":
        text = _html_text(_decode(body, content_type, html=True), select, tuple(remove))
    else:
        text = _plain_text(body, content_type)
    text = normalize(text)
    if not text:
        where = f" at {url}" if url else ""
        raise ExtractError(f"no text{where} ({kind})")
    return text


# ---------------------------------------------------------------------------------- sniffing

# Types that say nothing about the content: look at the bytes instead.
_GENERIC_TYPES = {"", "application/octet-stream", "binary/octet-stream", "application/unknown",
                  "application/download", "application/force-download", "application/x-download"}
_HTML_TYPES = {"text/html", "application/xhtml+xml"}
_TEXT_TYPES = {"text/plain", "text/markdown", "text/x-markdown"}
_HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<meta", b"<div", b"<p>",
                 b"<h1", b"<title")


def sniff_type(body: bytes, content_type: str | None) -> str:
    """Say how to read `body`: 'html', 'pdf' or 'text'.

    The PDF signature wins over any declared type (a PDF read as HTML is always garbage);
    otherwise a specific declared type is trusted and a missing or generic one is sniffed.
    """
    if body[:1024].lstrip().startswith(b"%PDF-"):
        return "pdf"
    mime = _mime(content_type)
    if mime == "application/pdf":
        return "pdf"
    if mime in _HTML_TYPES:
        return "html"
    if mime in _TEXT_TYPES:
        return "text"
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<") and any(marker in head for marker in _HTML_MARKERS):
        return "html"
    return "text"


def _mime(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


# ---------------------------------------------------------------------------------- decoding

_CHARSET_PARAM = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([\w.:-]+)", re.I)


def _decode(body: bytes, content_type: str | None, *, html: bool = False) -> str:
    """Decode with the declared charset, a BOM, a <meta> charset, else UTF-8 with replacement."""
    if body.startswith(codecs.BOM_UTF8):
        return body[3:].decode("utf-8", "replace")
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return body.decode("utf-16", "replace")
    found = _CHARSET_PARAM.search(content_type or "")
    name = found.group(1) if found else None
    if name is None and html:
        meta = _META_CHARSET.search(body[:4096])
        name = meta.group(1).decode("ascii", "replace") if meta else None
    return body.decode(_codec(name), "replace")


def _codec(name: str | None) -> str:
    """A usable codec name; browsers read 'iso-8859-1' and 'ascii' as windows-1252."""
    try:
        codec = codecs.lookup(name or "utf-8").name
    except LookupError:
        return "utf-8"
    return "cp1252" if codec in ("latin-1", "iso8859-1", "ascii") else codec


def _plain_text(body: bytes, content_type: str | None) -> str:
    if b"\x00" in body[:4096] and not body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ExtractError(f"binary content, not text ({_mime(content_type) or 'no type'})")
    return _decode(body, content_type)


# ---------------------------------------------------------------------------------- PDF

# A line holding only a page number ("3", "Page 3 of 12", "- 3 -") moves whenever text
# reflows across pages, so it is dropped.
_PAGE_NUMBER = re.compile(
    r"^[ \t]*(?:page[ \t]+)?-?[ \t]*\d+[ \t]*(?:(?:/|of)[ \t]*\d+)?[ \t]*-?[ \t]*(?:\n|$)",
    re.I | re.M)


def _pdf_text(body: bytes) -> str:
    from pypdf import PdfReader  # lazy: pypdf is slow to import and rarely needed

    try:
        pages = [(page.extract_text() or "").rstrip("\n")
                 for page in PdfReader(io.BytesIO(body)).pages]
    except Exception as error:  # pypdf raises many unrelated types on broken files
        raise ExtractError(f"unreadable PDF: {error}") from error
    return _PAGE_NUMBER.sub("", "\n".join(pages))


# ---------------------------------------------------------------------------------- HTML

# Never policy text, wherever they are.
_JUNK_TAGS = ("script", "style", "noscript", "template", "svg", "math", "iframe", "object",
              "embed", "canvas", "video", "audio", "input", "select", "textarea",
              "link", "meta", "dialog", "head", "title")
# Site chrome by tag or ARIA role; header and footer only outside the document's own
# article/main, where they hold its title and date.
_CHROME_SELECTOR = ", ".join((
    "nav", "aside", "[role=navigation]", "[role=banner]", "[role=contentinfo]",
    "[role=complementary]", "[role=dialog]", "[role=alertdialog]", "[role=search]",
    "[role=menu]", "[role=menubar]", "[role=toolbar]", "[aria-modal=true]", "header", "footer",
    "form",
))
# Class or id words of consent managers and cookie banners. Policies have sections named
# 'cookies' or 'consent', so bare words are not enough: vendor names or compounds only.
_CONSENT_NAMES = re.compile(
    r"onetrust|optanon|didomi|usercentrics|cookiebot|truste|osano|qc-cmp|sp_message|iubenda|"
    r"termly|cookieyes|cky-|cmplz|borlabs|klaro|moove_gdpr|cc-window|cc-banner|cookie-?law|"
    r"(?:cookie|consent|gdpr)s?[-_]?(?:banner|bar|notice|popup|pop-up|modal|box|wall|message|"
    r"alert|overlay|dialog|settings|preferences|prompt|manager|cent(?:er|re)|container|layer)|"
    r"\bcmp\b", re.I)
# Class or id words of other page furniture; dropped only when small (see _is_chrome).
_FURNITURE_NAMES = re.compile(
    r"\b(?:banner|modal|popup|pop-up|overlay|promo|promotion|toast|skip-link|breadcrumbs?)\b",
    re.I)
# Words that may start a match of the two patterns above: Lexbor finds the candidates in C,
# which is much faster than running the patterns on every element's attributes.
_NAME_WORDS = ("cookie", "consent", "gdpr", "cmp", "onetrust", "optanon", "didomi",
               "usercentrics", "truste", "osano", "sp_message", "iubenda", "termly", "cky-",
               "klaro", "borlabs", "cc-window", "cc-banner", "banner", "modal", "popup", "pop-up",
               "overlay", "promo", "toast", "skip-link", "breadcrumb")
_CHROME_SELECTOR += "".join(f", [class*={word} i], [id*={word} i]" for word in _NAME_WORDS)
_SEMANTIC_CHROME = {"nav", "aside"}
_CHROME_ROLES = {"navigation", "banner", "contentinfo", "complementary", "dialog",
                 "alertdialog", "search", "menu", "menubar", "toolbar"}


def _html_text(html: str, select: str | None, remove: tuple[str, ...]) -> str:
    tree = LexborHTMLParser(html)
    root = tree.body or tree.root
    if root is None:
        return ""
    _drop(_matches(tree, ", ".join(_JUNK_TAGS)))
    _drop([button for button in tree.css("button") if not _is_accordion_title(button)])
    _decode_cloudflare_emails(tree)
    for selector in remove:
        _drop(_matches(tree, selector))
    if select:
        chosen = _matches(tree, select)
        if not chosen:
            raise ExtractError(f"selector {select!r} matches nothing")
        return "\n\n".join(_markdown(node) for node in _outermost(chosen))
    page_mass = _mass(root)
    _drop([node for node in _matches(tree, _CHROME_SELECTOR) if _is_chrome(node, page_mass)])
    return _markdown(_main_content(root))


def _matches(tree: LexborHTMLParser, selector: str) -> list[LexborNode]:
    try:
        return list(tree.css(selector))
    except SelectolaxError as error:
        raise ExtractError(f"invalid CSS selector {selector!r}") from error


def _drop(nodes: list[LexborNode]) -> None:
    """Remove nodes from the tree; only the outermost ones, as removing a node frees its subtree."""
    for node in _outermost(nodes):
        node.decompose()


def _outermost(nodes: list[LexborNode]) -> list[LexborNode]:
    """The nodes that have no ancestor among `nodes` (which are in document order)."""
    ids = {node.mem_id for node in nodes}
    kept = []
    for node in nodes:
        parent = node.parent
        while parent is not None and parent.mem_id not in ids:
            parent = parent.parent
        if parent is None:
            kept.append(node)
    return kept


def _is_chrome(node: LexborNode, page_mass: int) -> bool:
    tag, attrs = node.tag, node.attributes
    if tag in ("header", "footer"):
        return not _inside(node, ("article", "main"))
    if tag in _SEMANTIC_CHROME or attrs.get("aria-modal") == "true":
        return True
    if attrs.get("role") in _CHROME_ROLES:
        return True
    names = f"{attrs.get('id') or ''} {attrs.get('class') or ''}"
    if _CONSENT_NAMES.search(names):
        return True
    if tag != "form" and not _FURNITURE_NAMES.search(names):
        return False
    # A wrapper named 'modal-open' or an ASP.NET page-wide <form> holds the policy itself.
    return tag not in ("body", "html", "main", "article") and _mass(node) < page_mass / 3


def _is_accordion_title(button: LexborNode) -> bool:
    """Accordion titles are often buttons: they are policy text, unlike 'Accept all'."""
    attrs = button.attributes
    return "aria-expanded" in attrs or "aria-controls" in attrs or _inside(button, _HEADING_TAGS)


def _inside(node: LexborNode, tags: tuple[str, ...]) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.tag in tags:
            return True
        parent = parent.parent
    return False


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


# ---------------------------------------------------------------------------------- main content

_MAIN_SHARE = 0.5  # <main>/<article> must hold this share of the page's text to be trusted
_DESCEND_SHARE = 0.75  # a child holding this share of the page's text is the content


def _main_content(root: LexborNode) -> LexborNode:
    """The element holding the policy: a <main>/<article> holding most of the text, else
    the deepest element that still holds most of it (the rest is chrome, cut away)."""
    total = _mass(root)
    if not total:
        return root
    candidates = root.css("main, [role=main], article")
    best = max(candidates, key=_mass, default=None)
    if best is not None and _mass(best) >= _MAIN_SHARE * total:
        return best
    return _descend(root, total)


def _descend(node: LexborNode, total: int) -> LexborNode:
    node_mass = total
    while True:
        masses = [(_mass(child), child) for child in node.iter() if child.tag not in _INLINE_TAGS]
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


# ---------------------------------------------------------------------------------- Markdown

_INLINE_TAGS = {"-text", "-comment", "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data",
                "del", "dfn", "em", "font", "i", "img", "ins", "kbd", "label", "mark", "q", "s",
                "samp", "small", "span", "strike", "strong", "sub", "sup", "time", "tt", "u",
                "var", "wbr", "nobr", "br"}
_HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6", "summary", "dt")
_HEADING_SELECTOR = "h1, h2, h3, h4, h5, h6"
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BREAK = "\x00"  # marks a <br> in inline text; NUL never survives HTML parsing
_LINE_JOINED = {"li", "row"}  # consecutive list items and table rows sit on adjacent lines


def _markdown(node: LexborNode) -> str:
    writer = _Writer()
    writer.walk(node)
    writer.flush()
    return writer.text()


class _Writer:
    """Walks a DOM subtree and writes Markdown blocks: inline text flows into the current
    block; each block element ends the current block and starts a new one."""

    def __init__(self) -> None:
        self.blocks: list[tuple[str, str]] = []
        self.inline: list[str] = []
        self.prefix = ""

    def walk(self, node: LexborNode) -> None:
        for child in node.iter(include_text=True):
            tag = child.tag or ""
            if tag == "-text":
                self.inline.append(child.text_content or "")
            elif tag == "br":
                self.inline.append(_BREAK)
            elif tag in _INLINE_TAGS:
                if tag != "-comment":
                    self.walk(child)
            else:
                self.block(child, tag)

    def block(self, node: LexborNode, tag: str) -> None:
        self.flush()
        if tag in _HEADINGS:
            self.emit("h", "#" * _HEADINGS[tag] + " " + _flat_text(node))
        elif tag == "tr":
            cells = [_flat_text(cell) for cell in node.iter() if cell.tag in ("td", "th")]
            self.emit("row", " | ".join(cell for cell in cells if cell))
        elif tag == "pre":  # line breaks are meaningful here
            self.inline.append((node.text() or "").replace("\n", _BREAK))
            self.flush()
        elif tag == "li":
            self.prefix = "- "
            self.walk(node)
            self.flush("li")
            self.prefix = ""
        else:
            self.walk(node)
            self.flush()

    def flush(self, kind: str = "p") -> None:
        if not self.inline:
            return
        lines = (" ".join(line.split()) for line in "".join(self.inline).split(_BREAK))
        self.inline.clear()
        self.emit(kind, "\n".join(line for line in lines if line))

    def emit(self, kind: str, text: str) -> None:
        if not text.strip("# -|"):
            return
        if self.prefix:  # the first block of a list item carries its marker
            text, kind, self.prefix = self.prefix + text, "li", ""
        self.blocks.append((kind, text))

    def text(self) -> str:
        parts: list[str] = []
        for index, (kind, text) in enumerate(self.blocks):
            if index:
                joined = kind in _LINE_JOINED and self.blocks[index - 1][0] == kind
                parts.append("\n" if joined else "\n\n")
            parts.append(text)
        return "".join(parts)


def _flat_text(node: LexborNode) -> str:
    """Text of a heading or table cell on one line; block children are separated by spaces."""
    parts: list[str] = []
    for child in node.iter(include_text=True):
        tag = child.tag
        if tag == "-text":
            parts.append(child.text_content or "")
        elif tag != "-comment":
            inner = _flat_text(child)
            parts.append(inner if tag in _INLINE_TAGS and tag != "br" else f" {inner} ")
    return " ".join("".join(parts).split())


# ---------------------------------------------------------------------------------- normalize

_CHARACTER_MAP = {
    "\u00ad": "", "\u200b": "", "\u200c": "", "\u200d": "", "\u2060": "", "\ufeff": "",
    "\u180e": "",  # soft hyphen and zero-width characters
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\r": "\n", "\u2028": "\n", "\u2029": "\n", "\x0b": "\n", "\x0c": "\n", "\x85": "\n",
}
# A regex finds the few mapped characters much faster than str.translate walks the text.
_MAPPED = re.compile("[" + "".join(_CHARACTER_MAP) + "]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_CLOUDFLARE = re.compile(r"\[email\s*(?:&#160;|&nbsp;)?\s*protected\]", re.I)


def normalize(text: str) -> str:
    """Give equal bytes to texts a reader cannot tell apart (see module docstring). Idempotent."""
    text = _map_characters(text.replace("\r\n", "\n"))
    # Map before NFKC so that removing a zero-width character cannot create a new composition.
    text = _map_characters(unicodedata.normalize("NFKC", text))
    text = _CONTROL.sub("", text)
    if "protected]" in text.lower():  # the regex is slow on long texts: only when it can match
        text = _CLOUDFLARE.sub("[email protected]", text)
    lines: list[str] = []
    for raw in text.split("\n"):
        line = " ".join(raw.split())  # every run of white space to one space, at C speed
        if line or (lines and lines[-1]):
            lines.append(line)
    return "\n".join(lines).strip("\n")


def _map_characters(text: str) -> str:
    if text.isascii():  # fast path: only the ASCII line breaks can need mapping
        return text.replace("\r", "\n").replace("\x0b", "\n").replace("\x0c", "\n")
    return _MAPPED.sub(lambda match: _CHARACTER_MAP[match.group()], text)


def check_selector(selector: str) -> None:
    """Raise ValueError with a short reason if `selector` is not a valid CSS selector."""
    if not selector or not selector.strip():
        raise ValueError("empty selector")
    try:
        _SELECTOR_PROBE.css(selector)
    except SelectolaxError:
        raise ValueError(f"not a valid CSS selector: {selector!r}") from None


_SELECTOR_PROBE = LexborHTMLParser("<p></p>")
