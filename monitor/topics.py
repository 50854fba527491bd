"""Section context: what a list item, table row or clause means from the heading it sits under.

Real revisions often add a kind of data as a bare bullet ("- Voice recordings") under "Information
we collect", a row to a CCPA categories table, or a new item to a list of purposes or recipients.
Such lines name no processing verb and are no sentences, so term rules alone miss them.  Here:

* `topic(unit)`: the category of the nearest heading (the statement's own section first, then the
  enclosing ones) that names one, by the `[headings]` patterns; the earliest match in a heading
  wins ("How we use the information we collect" is about purpose).
* `new_elements(before, after)`: the list elements (split at commas, semicolons, "and", "or",
  slashes, brackets and table cells) of `after` made only of content words `before` lacks:
  "name, email" -> "name, email, voice recordings" gives ["voice recordings"]; "your name" ->
  "your full name" gives nothing (the element is not entirely new).
* `content_words(text)`: words that can name something (function words, generic nouns such as
  "information" and "data", and verbs of listing such as "including" set aside).

`monitor.judge` uses them: an item added or removed under a topic heading, or an item or clause
that gains or loses a whole element, raises the topic's category when one of its content words
appears or disappears in the whole document (so moved or reworded text raises nothing).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from monitor.lexicon import LEXICON
from monitor.sections import Unit, strip_marker, words
from monitor.signals import heading_category

# Categories that a bare item may raise from its section alone.  Contact and controller are
# left to entities (e-mails, phones, organisations): their sections also host page footers.
# Only a list of data kinds may raise its category from content words alone ('- Voice
# recordings'); under other topics an item needs a lexicon term of its own.
BARE_TOPICS = frozenset({"data_types"})
ITEM_TOPICS = frozenset(
    {
        "data_types",
        "purpose",
        "recipients",
        "retention",
        "security",
        "rights",
        "transfer",
        "children",
    }
)
_SPLIT = re.compile(
    r"<br\s*/?>|[,;:/|()\[\]]"
    r"|\s(?:and|or|and/or|as well as|such as|including|e\.g\.?|i\.e\.?)\s",
    re.I,
)
_ITEM_WORDS = 12
_GLUED = re.compile(r"[a-z]{4,}[A-Z]")
_GENERIC = frozenset(
    """information data details personal personally identifiable identifying info types type
    kinds kind categories category examples example instance instances such including include
    includes like may might will can also other certain various related relating regarding
    about from when where which how what used use uses collect collected provide provided
    number numbers etc e g i""".split()
)


def item_like(u: Unit) -> bool:
    """A table cell or a short bulleted or numbered entry: the shapes of list entries.
    Unmarked short lines are not items (in crawled pages they are menus and widgets as often
    as not), nor are sentence fragments and long entries."""
    if u.column is not None:
        return True
    return u.item and len(u.text.split()) <= _ITEM_WORDS


def glued(text: str, most: int = 1) -> bool:
    """Labels of a widget run together ('Select All VendorsAll Consent Allowed',
    'descriptionView CookiesREPLACE'): crawled page chrome, not policy text."""
    return len(_GLUED.findall(text)) > most


def topic(u: Unit) -> str | None:
    """Category of a table cell's column, else of the innermost heading above that names one."""
    cat = column_topic(u)
    if cat:
        return cat
    for h in (u.section, *u.outer):
        if glued(h, 0):
            return None  # a consent widget's labels, not a section of the policy
        cat = heading_category(h)
        if cat:
            return cat
    return None


def column_topic(u: Unit) -> str | None:
    """A table cell's topic: its column's heading ('Who do we share it with?'), else None."""
    return heading_category(u.column) if u.column else None


def content_words(text: str) -> list[str]:
    return [
        w
        for w in words(text)
        if len(w) > 2 and not w.isdigit() and w not in LEXICON.filler and w not in _GENERIC
    ]


def elements(text: str) -> list[str]:
    body = strip_marker(text)
    return [e.strip() for e in _SPLIT.split(body) if e and e.strip()]


def new_elements(before: str, after: str) -> list[str]:
    """Elements of `after` whose content words are all absent from `before`."""
    known = set(content_words(before))
    out = []
    for e in elements(after):
        cw = content_words(e)
        if cw and not known.intersection(cw):
            out.append(e)
    return out


def moved_words(ws: Iterable[str], doc_words: Counter[str], sign: int) -> list[str]:
    """Words whose count in the whole document moved in the direction `sign` (+1 or -1)."""
    return [w for w in ws if doc_words[w] * sign > 0]
