"""Split a policy text into statements (sentences) that carry their section heading.

Input is the normalised Markdown the extractor produces or plain text hard-wrapped at any width,
with headings numbered in many styles ("1.", "1.1", "(I)", "IV.", "1、", "1)").  Lines are joined
back into blocks before sentences are cut, so re-wrapping the same text gives the same statements
(a line that starts with a number after a line ending mid-sentence, or a short line whose next
word did not fit on it, is a wrapped line, not a list item or the end of a block).
Each statement has a comparison `key` (lower case, words only, numbering, link targets and
British spellings removed, same-meaning phrases in one form) so that formatting, quotes, case,
renumbering and rewording such as "in order to" -> "to" never count as change.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from monitor.lexicon import LEXICON


@dataclass(frozen=True)
class Unit:
    """One statement of a policy: a sentence, list item or heading."""

    text: str  # readable text, single-spaced, markup removed
    key: str  # normalised words, what comparisons use
    section: str  # heading of the section it sits in ('' before the first heading)
    heading: bool  # True for the heading line itself
    outer: tuple[str, ...] = ()  # headings of the enclosing sections, innermost first
    column: str | None = None  # in a table: the heading of the column ('' if none), else None
    item: bool = False  # in a bulleted or numbered list entry


_ZERO_WIDTH = re.compile(r"[\u200b-\u200f\u2060\ufeff\u00ad]")
_MOJIBAKE = re.compile(
    r"[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    r"\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a"
    r"\u20ac\u2122]{1,3}"
)
_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u00a0": " ",
        "\u3000": " ",
    }
)
_SPECIAL = re.compile("[" + "".join(chr(c) for c in _QUOTES) + "]")
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]*)\]\((?:[^()\s]|\([^)]*\))*(?:\s+\"[^\"]*\")?\)")
_MD_REF = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_URL = re.compile(r"(?:https?://|www\.)[^\s)\]>\"']+", re.I)
_NEW_TAB = re.compile(r"[ \t]?\(?\bopens? in (?:a )?new (?:tab|window)\s*\)?", re.I)
_EMPHASIS = re.compile(r"(?<!\w)[*_]{1,3}|[*_]{1,3}(?!\w)|`")
_CF_EMAIL = re.compile(r"\[email\s*(?:&#160;|\xa0| )?protected\]", re.I)

_HEADING_MD = re.compile(r"^\s{0,3}#{1,6}\s+")
_UNDERLINE = re.compile(r"^\s*(?:={3,}|-{3,})\s*$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_BULLET = re.compile(r"^\s*(?:[-*+\u2022\u25cf\u25aa\u00b7\u2023\u25e6]|>+)\s+")
_NUMBER = re.compile(
    r"^\s*(?:(?:\d{1,3}[)\u3001\uff0e]|\d{1,3}(?:\.\d{1,3})*\.?|[ivxlcIVXLC]{1,6}\.|[A-Za-z][.)]"
    r"|\(\s*(?:\d{1,3}|[ivxlcIVXLC]{1,6}|[a-zA-Z]|[\u4e00-\u9fff]{1,3})\s*\)"
    r"|[\uff08(][\u4e00-\u9fff]{1,3}[\uff09)]|[\u4e00-\u9fff]{1,3}[\u3001.])\s*)"
    r"|^\s*\d{1,3}\)(?=\S)"
)
_TERMINAL = re.compile(r"[.!?;:\u3002\uff01\uff1f\uff1b\uff1a]\W*$")
_ABBREV = re.compile(
    r"(?:\b(?:e\.g|i\.e|etc|inc|ltd|co|corp|no|nos|art|arts|para|sec|st|dr|mr|mrs|ms|vs|"
    r"approx|incl|u\.s|u\.k|e\.u|s\.a|b\.v|n\.v|pte|jr|sr|p|pp|fig|ref|vol|cf)|\b[a-z])\.$",
    re.I,
)
_SENTENCE_END = re.compile(
    r"(?<=[.!?;\u3002\uff01\uff1f\uff1b])[\"')\]]*\s+|(?<=[\u3002\uff01\uff1f\uff1b])"
)
_WORD = re.compile(r"[^\W_]+")
_BR = re.compile(r"<br\s*/?>", re.I)


def clean(text: str) -> str:
    """Unicode, quotes, mojibake, zero-width characters and Markdown link noise normalised."""
    text = unicodedata.normalize("NFKC", _fix_mojibake(text))
    text = _SPECIAL.sub(lambda m: _QUOTES[ord(m.group(0))], _ZERO_WIDTH.sub("", text))
    text = _MD_IMAGE.sub(r"\1", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_REF.sub(r"\1", text)
    lower = text.lower()
    if "new tab" in lower or "new window" in lower:  # (the regex alone is slow on long texts)
        text = _NEW_TAB.sub("", text)
    return _CF_EMAIL.sub("", text)


def _fix_mojibake(text: str) -> str:
    """UTF-8 read as cp1252 ('childâ€™s') turned back into what was meant."""
    text = text.replace("\u00e2\u20acTM", "'")  # 'â€™' after NFKC made its '™' into 'TM'
    if "\u00c3" not in text and "\u00e2" not in text and "\u00c2" not in text:
        return text

    def undo(m: re.Match[str]) -> str:
        raw = bytearray()
        for ch in m.group(0):
            try:
                raw += ch.encode("cp1252")
            except UnicodeEncodeError:
                if ord(ch) > 255:
                    return m.group(0)
                raw.append(ord(ch))
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return m.group(0)

    return _MOJIBAKE.sub(undo, text)


def words(text: str) -> list[str]:
    """Lower-case words of a text, link targets and British spellings normalised."""
    text = text.lower()
    if "http" in text or "www." in text:
        text = _URL.sub(" ", text)
    found = _WORD.findall(text)
    return list(map(LEXICON.spelling.get, found, found))


def key_of(text: str) -> str:
    """Comparison key: the words without marker, same-meaning phrases in one form."""
    key = " ".join(words(strip_marker(text)))
    if not LEXICON.any_equivalent.search(key):
        return key
    for pattern, canonical in LEXICON.equivalents:
        if pattern.search(key):
            key = " ".join(pattern.sub(canonical, key).split())
    return key


def strip_marker(line: str) -> str:
    """A line without its heading hashes, bullet or numbering ('1.2', '(IV)', '3)', '一、')."""
    for pattern in (_HEADING_MD, _BULLET, _NUMBER):
        m = pattern.match(line)
        if m:
            line = line[m.end() :]
    return line


Memo = dict[tuple[str, bool], list[tuple[str, str, int]]]


def units(text: str, memo: Memo | None = None) -> list[Unit]:
    """The statements of a policy in reading order, each with its section heading.

    `memo` caches the statements of each block; two versions of a policy share most of their
    blocks, so passing one memo for both sides halves the work."""
    memo = {} if memo is None else memo
    out: list[Unit] = []
    section = ""
    outline: list[tuple[int, str]] = []  # (level, heading) of the open sections, outermost first
    outer: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    in_table = False
    for block in _blocks(clean(text)):
        pieces = memo.get(block)
        if pieces is None:
            pieces = memo[block] = _statements(*block)
        heading = block[1]
        row = not heading and block[0].startswith("|")
        item = not heading and bool(_BULLET.match(block[0]) or _NUMBER.match(block[0]))
        if row and (not in_table or not any(columns)):
            columns = cells(block[0])  # the first row of a table (not empty) names its columns
        in_table = row
        for display, key, cell in pieces:
            column = (columns[cell] if cell < len(columns) else "") if cell >= 0 else None
            if heading:
                title = strip_marker(display).strip()
                if title:
                    level = heading_level(block[0])
                    while outline and outline[-1][0] >= level:
                        outline.pop()
                    outer = tuple(h for _, h in reversed(outline))
                    outline.append((level, title))
                    section = title
            out.append(Unit(display, key, section, heading, outer, column, item))
    return out


def cells(row: str) -> tuple[str, ...]:
    """The cells of a Markdown table row."""
    return tuple(c.strip() for c in row.strip().strip("|").split("|"))


_LEAF = 9  # a heading without hashes or numbering: a sub-heading of the one before


def heading_level(line: str) -> int:
    """Depth of a heading: '## x' -> 2, '1.2 x' -> 2, '3. x' -> 1; others are leaves."""
    m = _HEADING_MD.match(line)
    if m:
        return m.group(0).count("#")
    m = re.match(r"\s*(\d{1,3}(?:\.\d{1,3})*)[.)\s]", line)
    if m:
        return m.group(1).count(".") + 1
    if re.match(r"\s*[IVXLC]{1,6}\.\s", line) or line.strip().isupper():
        return 1
    return _LEAF


def _statements(block: str, heading: bool) -> list[tuple[str, str, int]]:
    """(text, key, cell) of each sentence of a block (the whole block for a heading); a table
    row is cut into its cells first (cell = its index, -1 outside tables)."""
    if not heading and block.startswith("|"):
        parts = [(c, i) for i, c in enumerate(cells(_BR.sub(" ", block)))]
    else:
        parts = [(block, -1)]
    out = []
    for part, cell in parts:
        display = " ".join(_EMPHASIS.sub("", part).split())
        if not display:
            continue
        sentences = [display] if heading else split_sentences(display)
        key = key_of if cell < 0 else (lambda x: " ".join(words(x)))  # '24 months' is no list
        out += [(x, k, cell) for x in sentences if (k := key(x)) or heading]
    return out


def split_sentences(block: str) -> list[str]:
    parts: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(block):
        piece = block[start : m.start()].rstrip()
        if not piece or _ABBREV.search(piece[-12:]):
            continue
        parts.append(block[start : m.end()].strip())
        start = m.end()
    tail = block[start:].strip()
    if tail:
        parts.append(tail)
    return parts


def _blocks(text: str) -> list[tuple[str, bool]]:
    """Lines joined into blocks: paragraphs, list items, table rows and headings."""
    lines = text.splitlines()
    width = _wrap_width(lines)
    blocks: list[tuple[str, bool]] = []
    current: list[str] = []

    def flush(heading: bool = False) -> None:
        if current:
            blocks.append((" ".join(current), heading))
            current.clear()

    for i, raw in enumerate(lines):
        line = raw.strip()
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if _UNDERLINE.match(line) and len(current) == 1:  # setext: the line above is a title
            flush(heading=True)
            continue
        if not line or _TABLE_RULE.match(line) or _UNDERLINE.match(line):
            flush()
            continue
        if _UNDERLINE.match(nxt) and not current:
            current.append(line)
            continue
        if (
            blocks
            and blocks[-1][1]
            and not current
            and len(lines[i - 1].strip()) >= width * 0.6
            and not _NUMBER.match(line)
            and not _BULLET.match(raw)
            and len(line) < width * 0.6
        ):
            blocks[-1] = (f"{blocks[-1][0]} {line}", True)  # a long heading wrapped over two lines
            continue
        wrapped = bool(_NUMBER.match(line)) and _continues(current, line)  # '...under' / '18. X'
        if _HEADING_MD.match(raw) or (_looks_like_heading(line, width) and not wrapped):
            flush()
            blocks.append((line, True))
            continue
        if _BULLET.match(raw) or line.startswith("|"):
            flush()
        elif _NUMBER.match(line) and not _continues(current, line):
            flush()
        current.append(line)
        if (
            len(line) < width * 0.6
            and not _TERMINAL.search(line)
            and not line.endswith(",")
            and not _pushed_down(line, nxt, width)
        ):
            flush()  # a short unpunctuated line ends its block (not a wrapped line)
        elif line.startswith("|"):
            flush()
    flush()
    return _rejoined(blocks, width)


def _rejoined(blocks: list[tuple[str, bool]], width: int) -> list[tuple[str, bool]]:
    """Paragraphs cut in the middle of a sentence joined back (a PDF converted to HTML gives one
    paragraph per line, and the two versions cut the same sentence at different places).  Only
    a paragraph as long as a full line can be cut so: short ones (menu entries, list items,
    labels) stay apart.  A numbered line taken for a heading ('4. Service Providers. We may
    share data with our third-' / 'party service providers') is no heading when cut so."""
    out: list[tuple[str, bool]] = []
    for text, heading in blocks:
        glue = None
        if out and not heading and len(out[-1][0]) >= width * 0.6:
            if not out[-1][1] or not _HEADING_MD.match(out[-1][0]):
                glue = _carries_on(out[-1][0], text)
        if glue is None:
            out.append((text, heading))
        else:
            out[-1] = (f"{out[-1][0]}{glue}{text}", False)
    return out


# words a sentence does not end with: the clause carries on ('... under the age of' / '16.')
_CLAUSE_WORDS = frozenset(
    "a an the and or nor but of to for from by with without in on at as than under over within "
    "about into upon via per between among including such that which who whose whom our your "
    "their its his her this these those is are was were be been may might will would shall "
    "should can could must not no any all each every if when where whether".split()
)


def _carries_on(block: str, nxt: str) -> str | None:
    """How the paragraph `nxt` carries on the sentence of `block` ('' or ' '), or None when it
    does not.  It does when `block` ends without final punctuation and `nxt` starts in lower
    case ('We will keep your verification' / 'photo to scan ...'), when `block` ends in a word
    no sentence ends with ('... under the age of' / '16.', '... shared with' / 'Google'), and,
    without a space, after a hyphen or a slash cut at the end of a line ('third-' / 'party').
    Headings, list items and table rows stay apart."""
    if block.startswith("|") or nxt.startswith("|") or _BULLET.match(nxt):
        return None
    if block[-1:] in ("-", "/") and block[-2:-1].isalnum() and nxt[:1].isalnum():
        return ""
    last = block.rsplit(None, 1)[-1]
    if last in _CLAUSE_WORDS:
        return " "
    if not re.search(r"[a-z0-9,]$", block):
        return None
    if re.match(r"\d+\s+[a-z]", nxt):  # a number in the clause: '... for' / '30 days'
        return None if block[-1].isdigit() else " "
    return " " if nxt[:1].islower() and not _NUMBER.match(nxt) else None


def _continues(current: list[str], line: str) -> bool:
    """A line starting with a number that carries on a sentence cut by wrapping ('...children
    under' / '13. Parents ...'): the (long) line before ends mid-sentence, in a lower-case word;
    a list or a numbered heading follows a full stop, a colon or a short line."""
    return bool(current) and bool(re.search(r"[a-z]$", current[-1]))


def _pushed_down(line: str, nxt: str, width: int) -> bool:
    """A short line that only ends early because the next word (a long link, say) did not fit
    on it, or whose sentence carries on in lower case on the next line: a wrapped line, not the
    end of a block."""
    nxt = nxt.strip()
    if not nxt or not line or not re.search(r"[a-z]$", line) or _BULLET.match(nxt):
        return False
    first = nxt.split()[0]
    return len(line) + 1 + len(first) > width or bool(re.match(r"(?:[a-z]|www\.|https?:)", nxt))


def _looks_like_heading(line: str, width: int) -> bool:
    """Short lines without final punctuation that are numbered or title-like."""
    if len(line) > 120 or _TERMINAL.search(line) or line.endswith(","):
        return False
    text = strip_marker(line)
    n = len(text.split())
    if not text or n > 14 or _BULLET.match(line):
        return False  # a bullet is a list item, however short
    if text != line and (n <= 10 or line.isupper()):
        return True  # numbered
    if len(line) >= width * 0.6:
        return False  # could be a wrapped line
    letters = [c for c in text if c.isalpha()]
    capitals = sum(1 for w in text.split() if w[:1].isupper())
    return bool(letters) and (text.isupper() or capitals >= max(1, n * 0.6))


def _wrap_width(lines: list[str]) -> int:
    """Typical length of full lines: long when the text is not hard-wrapped."""
    lengths = sorted(len(s) for s in lines if s.strip())
    if not lengths:
        return 80
    return max(40, lengths[int(len(lengths) * 0.9)])


def real_heading(h: str) -> bool:
    """A heading that names a section, not an address line, a phone number or a table cell."""
    from monitor import entities

    if not h or not re.search(r"[^\W\d_]{3}", h):
        return False
    e = entities.extract(h)
    if e["address"] or e["phone"] or e["email"]:
        return False
    org = max((len(o) for o in e["org"]), default=0)
    if org >= 0.6 * len(" ".join(words(h))):
        return False  # a company's name on its own line, above its address
    digits = sum(ch.isdigit() for ch in h)
    return digits <= 4 or digits < len(h) / 5


def section_of(u: Unit) -> str:
    """The nearest real heading above a statement ('' if none)."""
    for h in (u.section, *u.outer):
        if real_heading(h):
            return h
    return ""
