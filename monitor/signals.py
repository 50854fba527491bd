"""What a statement is about: lexicon terms, its frame (main verb), polarity, statement-likeness."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from monitor.lexicon import LEXICON, Term

_STATEMENT = re.compile(
    r"\b(?:we|us|our|you|your|its|their|may|might|will|shall|must|can|cannot|could|would|not|never|"
    r"undertakes?|commits?|ensures?|agrees?)\b",
    re.I,
)
_NOT = re.compile(r"\b(?:not|never|no|cannot|can't|won't|don't|doesn't|nor|neither)\b|n't\b", re.I)
_MODAL_MAY = re.compile(r"\b(?:may|might|can|could)\b", re.I)
_DECLARATIVE = re.compile(
    r"\b(?:is|are|was|were|has|have|had|does|do|remains?|acts?|determines?|applies|apply)\b", re.I
)
_FULL_STOP = re.compile(r"[a-z0-9)\]\"'][.!?][\"')\]]*\s*$")
_CTA = re.compile(
    r"\(\s*(?:read|learn|see|find out) more\s*\)|\b(?:read|learn) more\W*$", re.I
)


_URL = re.compile(r"(?:https?://|www\.)[^\s)\]>\"']+", re.I)


def plain(text: str) -> str:
    """Text without link targets: their words are not statements."""
    return _URL.sub(" ", text)


def terms(text: str) -> Counter[Term]:
    """Lexicon terms found in a text, in one pass: at each place the longest pattern wins."""
    found: Counter[Term] = Counter()
    text = plain(text).lower()
    candidates = LEXICON.candidates
    for m in LEXICON.all_terms.finditer(text):
        regex, table = candidates.get(text[m.start()], candidates[""])
        which = regex.match(text, m.start())
        if which and which.lastgroup:
            found[table[int(which.lastgroup[1:])]] += 1
    return found


def frame(text: str) -> str | None:
    """Category of the earliest data-practice verb of a sentence ('we may share' -> recipients)."""
    return earliest(LEXICON.frames, text)


def frames(text: str) -> set[str]:
    return {category for category, regex in LEXICON.frames if regex.search(text)}


def heading_category(heading: str) -> str | None:
    """Category a heading names; the earliest match wins ('How we use the data we collect')."""
    return earliest(LEXICON.headings, heading)


def earliest(patterns: Any, text: str) -> str | None:
    """The category of whichever (category, regex) pattern matches earliest in `text`."""
    best: tuple[int, str] | None = None
    for category, regex in patterns:
        m = regex.search(text)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), category)
    return best[1] if best else None


def is_statement(text: str) -> bool:
    """A sentence that states a practice (not a headline, menu entry or stray fragment): one
    with a pronoun or modal, or a full declarative sentence ('Access to personal data is
    restricted to ...', 'X LLC is the controller ...'): finite verb and final full stop."""
    n = len(text.split())
    if n >= 4 and _STATEMENT.search(text):
        return True
    return n >= 6 and bool(_DECLARATIVE.search(text)) and bool(_FULL_STOP.search(text))


def is_practice(text: str) -> bool:
    """A statement about personal data or the service's practices, not page chrome: it names a
    data noun or a processing verb, and no event time, price or call to action (a link such as
    '(read more)' closing a statement is no call to action of the page)."""
    return bool(LEXICON.practice.search(text)) and not LEXICON.chrome.search(_CTA.sub(" ", text))


def without_idioms(text: str) -> str:
    """Text without negations that state nothing ('do not hesitate to contact us')."""
    return LEXICON.idioms.sub(" ", text)


def is_banner(text: str) -> bool:
    """A notice about the policy itself ('Last updated ...', 'We've updated our policy ...')."""
    return bool(LEXICON.banners.search(text))


def polarity(text: str) -> tuple[bool, bool]:
    """(negated, permissive) of a sentence: 'we will not share' -> (True, False)."""
    return bool(_NOT.search(text)), bool(_MODAL_MAY.search(text))
