"""Turn fetched bytes into normalized policy text (Markdown), as pure functions.

    extract(body, content_type, select=, remove=)     the text only
    explain(...)                                       the text, and what was dropped and why
      ├── sniff_type            'html' | 'pdf' | 'text'
      ├── html: decode ─► drop junk tags ─► drop chrome ─► main content (+ the text that
      │         continues around it) ─► Markdown, repeated copies written once
      ├── pdf:  pypdf page text, bounded in pages and characters
      └── text: decode
    ─► normalize                the same text always gives the same bytes

Determinism matters more than anything here: a version is recorded whenever the output differs
by one byte, so everything that varies between two fetches of an unchanged policy (banners,
clocks, nonces, markup details) must vanish before the text is returned.

Every walk over the tree is iterative: a page of 50,000 nested elements must not be able to
make itself unmonitorable with a RecursionError.

The package: this module (the API, sniffing, decoding), `html` (chrome, main content),
`markdown` (blocks to Markdown, repeated copies once), `pdf`, `normalize`, and `dropped` (what
was left out, and why).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser

from monitor.errors import ExtractError
from monitor.extract.dropped import Dropped
from monitor.extract.html import _JUNK_TAGS, _drop, _html_text, _matches
from monitor.extract.normalize import check_selector, normalize
from monitor.extract.pdf import MAX_CHARS, MAX_PDF_PAGES, _pdf_text

# Bump when a change here alters extracted texts: the next crawl then records a technical
# change (never alerted) instead of a policy change; `monitor reextract` rebuilds history.
VERSION = 2


__all__ = ["MAX_CHARS", "MAX_PDF_PAGES", "Dropped", "Extraction", "check_selector", "explain",
           "extract", "normalize", "page_words", "sniff_type"]


@dataclass(frozen=True)
class Extraction:
    """What `explain` found: the text that would be stored, and what was left out."""

    text: str
    kind: str  # 'html' | 'pdf' | 'text'
    dropped: tuple[Dropped, ...] = ()
    fallback: bool = False  # the chrome rules would have left no policy: they were not used


def extract(body: bytes, content_type: str | None = None, *, select: str | None = None,
            remove: tuple[str, ...] | list[str] = (), url: str | None = None) -> str:
    """Return the policy text held in `body` as normalized Markdown.

    `select` (CSS) picks the policy's content and `remove` drops parts of it; without `select`
    the main content is found by heuristics. `url` only makes error messages clearer.
    Raises ExtractError when no text is left or the text is beyond the bounds (MAX_CHARS).
    """
    return _run(body, content_type, select, tuple(remove), url, None).text


def explain(body: bytes, content_type: str | None = None, *, select: str | None = None,
            remove: tuple[str, ...] | list[str] = (), url: str | None = None) -> Extraction:
    """Like `extract`, and also say which blocks were dropped and why (slower)."""
    return _run(body, content_type, select, tuple(remove), url, [])


def _run(body: bytes, content_type: str | None, select: str | None, remove: tuple[str, ...],
         url: str | None, log: list[Dropped] | None) -> Extraction:
    where = f" at {url}" if url else ""
    kind = sniff_type(body, content_type)
    fallback = False
    if kind == "pdf":
        text = _pdf_text(body, where)
    elif kind == "html":
        text, fallback = _html_text(_decode(body, content_type, html=True), select, remove, log)
    else:
        text = _plain_text(body, content_type)
    _check_size(len(text), kind, where)
    text = normalize(text)
    if not text:
        raise ExtractError(f"no text{where} ({kind})")
    return Extraction(text, kind, tuple(log or ()), fallback)


def page_words(body: bytes, content_type: str | None = None) -> int:
    """Words of the whole page, scripts and styles aside: what an extracted text is compared
    with when it looks too short ("the text shrank from 4,210 to 12 words")."""
    kind = sniff_type(body, content_type)
    if kind == "pdf":
        return 0  # the text of a PDF is all there is
    if kind == "text":
        return len(_decode(body, content_type).split())
    tree = LexborHTMLParser(_decode(body, content_type, html=True))
    _drop(_matches(tree, ", ".join(_JUNK_TAGS)), None, "")
    root = tree.body or tree.root
    return len(root.text(separator=" ").split()) if root is not None else 0


def _check_size(chars: int, kind: str, where: str) -> None:
    if chars > MAX_CHARS:
        raise ExtractError(
            f"text too long{where}: over {MAX_CHARS:,} characters ({kind}), far more than any "
            f"policy; if the page really holds the policy, give the site a `select` rule for "
            f"its part of the page (try `monitor extract URL --select CSS`)")
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
