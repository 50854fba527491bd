"""How much a changed statement's terms prove, and for which category (used by `monitor.judge`).

Real revisions rewrite whole sections and crawled pages carry news, feature lists and help text;
read term by term, they would raise a category for every word.  The rules here keep the evidence
honest:

* `best`: the ONE category a changed statement is about, from its changed strong terms, its main
  verb and its section heading.  A weak term only counts for the main verb's category when the
  statement raises no key category and its hunk is no large rewrite (then each category needs
  a strong term of its own).
* Recipients need a recipient: sharing and disclosure verbs ("share with", "for sharing",
  "disclose to") raise `recipients` only when the statement names who receives the data (third
  parties, partners, affiliates, advertisers, service providers, authorities, other users, the
  public, a named company; `[practice] parties` in the lexicon) or a sale.  Sharing as a product
  feature (photos shared with friends, a "Share" button) is no recipient.
* `large(hunk)`: a hunk with many changed statements is a rewrite: there, a statement under a
  heading that names a topic raises another category only with a key term (or an entity, a
  negation flip: those are judged elsewhere).
"""

from __future__ import annotations

import re
from collections import Counter

from monitor import signals
from monitor.lexicon import KEY, LEXICON, Term

LARGE_HUNK = 8  # changed statements (removed + added) from which a hunk is a rewrite
# a company named as who receives: 'with Google', 'to Acme'; pronouns and articles set aside
_NAMED = re.compile(
    r"\b(?:with|to)\s+(?!(?:You|Your|Us|Our|We|The|This|These|Those|Them|It|Its|Their|Friends?"
    r"|Family|Other|Any|All|Each|Such|A|An)\b)[A-Z][\w&.'-]*[A-Za-z]"
)


# a statement about getting data: what it names is collected ('we collect', 'you provide us',
# 'we may access your camera', 'such as your name'); elsewhere a data kind is only the object of
# another practice ('photos are resized', 'we share your data through cookies')
_COLLECTS = re.compile(
    r"\b(?:collect\w*|obtain\w*|gather\w*|receiv\w*|access\w*|record\w*|captur\w*|scan\w*|"
    r"infer\w*|deriv\w*|includ\w*|such as|e\.g|log(?:s|ged)?|track\w*|monitor\w*|sources?|"
    r"ask\w* (?:you )?for|request\w*|you (?:\w+ ){0,3}(?:provide|give|submit|enter|send|share)"
    r"|(?:provide|give|submit|send)\w* (?:us|to us)|when you)\b",
    re.I,
)


# what makes a statement speak about personal data or a practice on it, beyond naming "data":
# a person's data, a data kind or identifier, a protection, a person whose data it is
_PERSONAL = re.compile(
    r"\b(?:your|yours|personal\w*|privacy|profil\w*|automated|cookies?|identifi\w*|consent\w*|accounts?|profiles?|"
    r"(?:your|their|his|her|its|users?'?|customers?'?|members?'?|visitors?'?|such|this|that|the|"
    r"these|those|any|all|our|of|no|which|what|collected|stored|shared)\s+(?:\w+\s+){0,2}"
    r"(?:data|information|info|details|content|records?|files?|messages?|communications?)|"
    r"(?:data|information) (?:about|from|on|of|relating to|regarding|we|you|that|which)|"
    r"secur\w*|encrypt\w*|breach\w*|protect\w*|child\w*|minors?|parent\w*|guardians?|teen\w*|"
    r"under (?:the age of )?\d+|years? (?:old|of age)|contact\w*|e-?mail\w*|request\w*|rights?|"
    r"opt\w*|controller|processor|responsible|retain\w*|retention|delet\w*|stor\w*|transfer\w*|"
    r"servers?|disclos\w*|sell|sold|sale|third[- ]part\w*|partners?|advertis\w*|track\w*|"
    r"location|device\w*|ip address\w*|usage|logs?)\b",
    re.I,
)


def about_personal(text: str) -> bool:
    """A statement about people's data or a practice on it, not one that merely says "data"
    ('We are hiring a Senior Data Engineer', 'how our engineers use machine learning models to
    recommend playlists'): used with the lexicon's `[practice]` gate."""
    if _PERSONAL.search(text):
        return True
    return any(t.category == "data_types" and t.weight > 1 for t in signals.terms(text))


def collects(text: str) -> bool:
    return bool(_COLLECTS.search(text))


def has_party(text: str) -> bool:
    """Whether a statement names who receives data, or a sale (see the module docstring)."""
    return bool(LEXICON.parties.search(text) or _NAMED.search(text))


def keyed(moved: Counter[Term]) -> set[str]:
    """Categories of key terms (data brokers, biometrics, SCCs) that appeared or disappeared:
    they are raised whatever else the statement is about."""
    return {t.category for t in moved if t.weight >= KEY}


def best(
    moved: Counter[Term],
    text: str,
    section: str,
    column: str = "",
    *,
    raised: set[str] | frozenset[str] = frozenset(),
    large: bool = False,
) -> str | None:
    """The one category a changed statement is about: its changed strong terms, its main verb
    and its section heading vote (a table cell's column heading outvotes the verb: a cell is
    read through its column); None when no strong term changed.  `raised`: categories the
    statement already raises (key terms); `large`: the statement is part of a rewrite."""
    party = has_party(text)
    cell_topic = signals.heading_category(column.lower()) if column else None
    topic = cell_topic or signals.heading_category(section.lower())
    gets = topic == "data_types" or collects(text)
    score: Counter[str] = Counter()
    strong: set[str] = set()
    anchored = any(t.weight > 1 for t in moved)  # a strong term moved, whatever it names
    for t, n in moved.items():
        if t.category == "recipients" and not party:
            continue  # shared with friends, 'for sharing': no recipient
        if t.category == "data_types" and t.weight < KEY and not gets:
            continue  # 'photos are resized': a data kind named, none collected
        score[t.category] += t.weight * min(n, 2)
        if t.weight > 1:
            strong.add(t.category)
    main = signals.frame(text.lower())
    if main == "recipients" and not party:
        main = None
    if not strong and not (anchored and main and score[main] and not raised and not large):
        return None
    if main and score[main] and not raised and not large:
        strong.add(main)  # 'we share X with' is about recipients even if X is a data kind
    if main:
        score[main] += 4
    if topic:
        score[topic] += 5 if cell_topic else 2
    return max(sorted(strong), key=lambda c: (score[c], c == main))


def recipient_ok(category: str, text: str) -> bool:
    """A recipients finding from section context needs a party named in the entry itself."""
    return category != "recipients" or has_party(text)
