"""The same text always gives the same bytes: NFKC, quotes, white space, control characters."""

from __future__ import annotations

import re
import unicodedata

from selectolax.lexbor import LexborHTMLParser, SelectolaxError

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
    if not text.isascii():  # NFKC leaves ASCII as it is
        # Map before NFKC so that removing a zero-width character cannot create a new
        # composition.
        text = _map_characters(unicodedata.normalize("NFKC", text))
    # Control characters go at C speed: in UTF-8 their bytes are never part of another
    # character's.
    text = text.encode("utf-8").translate(None, _CONTROL_BYTES).decode("utf-8")
    if "protected]" in text.lower():  # the regex is slow on long texts: only when it can match
        text = _CLOUDFLARE.sub("[email protected]", text)
    if "\u1680" in text:  # every run of white space to one space, at C speed
        raw_lines = [" ".join(raw.split()) for raw in text.split("\n")]
    else:  # after the mapping and NFKC, the only white space left is spaces, tabs, newlines
        if "  " in text or "\t" in text:  # the regex is slow; most texts need none of it
            text = _SPACE_RUNS.sub(" ", text)
        raw_lines = [line.strip(" ") for line in text.split("\n")]
    lines: list[str] = []
    for line in raw_lines:
        if line or (lines and lines[-1]):
            lines.append(line)
    return "\n".join(lines).strip("\n")


_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F])
_SPACE_RUNS = re.compile(r"[ \t]{2,}|\t")


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
