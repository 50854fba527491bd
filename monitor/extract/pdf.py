"""PDF policies: pypdf's text, bounded in pages and characters (a PDF bomb is refused)."""

from __future__ import annotations

import io
import re
from typing import Any

from monitor.errors import ExtractError

# Bounds on what one page may become. The longest real policies are ~150,000 words
# (~1 MB of text); a PDF of 300 pages is a book, not a policy. Past these, the page is
# recorded as suspect (ExtractError) instead of becoming a 100 MB version.
MAX_CHARS = 2_000_000
MAX_PDF_PAGES = 300

# A line holding only a page number ("3", "Page 3 of 12", "- 3 -") moves whenever text
# reflows across pages, so it is dropped.
_PAGE_NUMBER = re.compile(
    r"^[ \t]*(?:page[ \t]+)?-?[ \t]*\d+[ \t]*(?:(?:/|of)[ \t]*\d+)?[ \t]*-?[ \t]*(?:\n|$)",
    re.I | re.M)
# Text of an honest PDF takes a few times its compressed size; a small file that draws the
# same text form thousands of times is an attack on memory and time, stopped early.
_PDF_CHARS_PER_BYTE = 40
_PDF_MIN_BOUND = 100_000


# A page of an honest PDF draws a few images or forms and holds some KB of drawing
# operators; pypdf parses all of them before the text callback can stop anything.
_PDF_PAGE_BYTES = 4 * 1024 * 1024
_PDF_PAGE_DRAWINGS = 2000


def _check_pdf_page(page: Any, number: int, where: str) -> None:
    contents = page.get("/Contents")
    if contents is None:
        return
    contents = contents.get_object()
    streams = list(contents) if isinstance(contents, list) else [contents]
    data = b"".join(stream.get_object().get_data() for stream in streams)
    if len(data) > _PDF_PAGE_BYTES or data.count(b"Do") > _PDF_PAGE_DRAWINGS:
        raise ExtractError(
            f"PDF page {number}{where} is built of {len(data):,} bytes of drawing operators "
            f"({data.count(b'Do'):,} drawn forms or images), far beyond any policy page (a "
            f"bound against files that repeat their text); check the document with "
            f"`monitor extract URL`")


class _TooLong(BaseException):
    """Raised from pypdf's text callback: a BaseException, as pypdf goes on after an
    Exception raised inside a form (and would draw the next copy of it)."""


def _pdf_text(body: bytes, where: str = "") -> str:
    from pypdf import PdfReader  # lazy: pypdf is slow to import and rarely needed

    bound = min(MAX_CHARS, max(_PDF_MIN_BOUND, _PDF_CHARS_PER_BYTE * len(body)))
    total = 0

    def count(text: str, *_: object) -> None:
        nonlocal total
        total += len(text)
        if total > bound:
            raise _TooLong

    try:
        reader = PdfReader(io.BytesIO(body))
        if len(reader.pages) > MAX_PDF_PAGES:
            raise ExtractError(
                f"PDF too long{where}: {len(reader.pages):,} pages (the bound is "
                f"{MAX_PDF_PAGES}); a policy is rarely a tenth of that: check the URL")
        pages = []
        for number, page in enumerate(reader.pages, 1):
            _check_pdf_page(page, number, where)
            pages.append((page.extract_text(visitor_text=count) or "").rstrip("\n"))
    except _TooLong:
        raise ExtractError(
            f"PDF text too long{where}: over {bound:,} characters from a file of "
            f"{len(body):,} bytes, far more than a policy (a bound against files that "
            f"repeat their text); check the document with `monitor extract URL`") from None
    except ExtractError:
        raise
    except Exception as error:  # pypdf raises many unrelated types on broken files
        raise ExtractError(f"unreadable PDF: {error}") from error
    return _PAGE_NUMBER.sub("", "\n".join(pages))

