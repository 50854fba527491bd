"""The classifier's vocabulary, loaded once from `monitor/data/lexicon.toml` (documented there)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

PATH = Path(__file__).parent / "data" / "lexicon.toml"
KEY = 5  # weight of `key` terms: they raise their category in any changed statement


@dataclass(frozen=True)
class Term:
    category: str
    weight: int
    name: str  # the pattern, used to tell terms apart
    regex: re.Pattern[str]


@dataclass(frozen=True)
class Lexicon:
    terms: tuple[Term, ...]
    all_terms: re.Pattern[str]  # all terms in one alternation, for lower-case text
    # by first character: a regex of the terms that may match there (group t<i>) and the terms
    candidates: dict[str, tuple[re.Pattern[str], tuple[Term, ...]]]
    frames: tuple[tuple[str, re.Pattern[str]], ...]  # in order of precedence
    headings: tuple[tuple[str, re.Pattern[str]], ...]
    banners: re.Pattern[str]
    practice: re.Pattern[str]  # a data noun or processing verb: the sentence is about data
    chrome: re.Pattern[str]  # event listings, times, prices, calls to action
    parties: re.Pattern[str]  # who receives data (third parties, advertisers), or a sale
    idioms: re.Pattern[str]  # negations that state nothing ('do not hesitate')
    date_word: re.Pattern[str]
    filler: frozenset[str]
    negations: frozenset[str]
    permissions: frozenset[str]
    restrictions: frozenset[str]
    spelling: dict[str, str]
    equivalents: tuple[tuple[re.Pattern[str], str], ...]  # same-meaning phrases, canonical form
    any_equivalent: re.Pattern[str]  # any of them (most keys have none: one search, not 15)
    places: re.Pattern[str]


def _alternation(patterns: list[str]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(f"(?:{p})" for p in patterns) + r")\b", re.I)


def _combined(
    terms: list[Term],
) -> tuple[re.Pattern[str], dict[str, tuple[re.Pattern[str], tuple[Term, ...]]]]:
    """One regex for all terms, to run on lower-case text, and by first character the terms
    that may match there.  Python's re tries alternatives one by one but skips at once one whose
    first item is a literal that does not match: so the terms are grouped by their first letter
    (`d(?:ata brokers?|...)`), with no group per term; which term matched is then found by the
    candidates' own regex, in the same order (longest first)."""
    groups: dict[str, list[Term]] = {}
    others: list[Term] = []  # terms that do not start with a plain letter: '(?:data )?con...'
    for t in terms:
        if re.search(r"(?<!\\)[A-Z]", t.name):
            raise ValueError(f"lexicon: write term patterns in lower case: {t.name!r}")
        first = t.name[0]
        if first.isalnum() and t.name[1:2] not in ("?", "*", "{", "+"):
            groups.setdefault(first, []).append(t)
        else:
            others.append(t)
    branches = [f"{c}(?:{'|'.join(f'(?:{t.name[1:]})' for t in ts)})" for c, ts in groups.items()]
    branches += [f"(?:{t.name})" for t in others]

    def which(ts: tuple[Term, ...]) -> tuple[re.Pattern[str], tuple[Term, ...]]:
        alternatives = "|".join(f"(?P<t{i}>{t.name})" for i, t in enumerate(ts))
        return re.compile(rf"(?:{alternatives})\b"), ts

    candidates = {c: which((*ts, *others)) for c, ts in groups.items()}
    candidates[""] = which(tuple(others))
    return re.compile(r"\b(?:" + "|".join(branches) + r")\b"), candidates


def _literals(names: list[str]) -> re.Pattern[str]:
    """Any of the names (in this order of preference), grouped by first character (see
    `_combined`: re skips a group whose first letter does not match)."""
    groups: dict[str, list[str]] = {}
    for n in names:
        groups.setdefault(n[0], []).append(re.escape(n[1:]))
    branches = [f"{re.escape(c)}(?:{'|'.join(rest)})" for c, rest in groups.items()]
    return re.compile(r"\b(?:" + "|".join(branches) + r")\b")


def load(path: Path = PATH) -> Lexicon:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    terms = []
    for category, lists in data["terms"].items():
        seen: set[str] = set()
        for kind, weight in (("key", KEY), ("strong", 3), ("weak", 1)):
            for p in lists.get(kind, []):
                if p not in seen:  # a key pattern need not be repeated as strong
                    seen.add(p)
                    terms.append(Term(category, weight, p, re.compile(rf"\b(?:{p})\b", re.I)))
    cosmetic = data["cosmetic"]
    spelling = {uk: us for uk, us in cosmetic["spelling"]}
    names = sorted({n.strip() for n in data["places"]["names"].split(",") if n.strip()}, key=len)
    places = _literals(list(reversed(names)))
    terms.sort(key=lambda t: (-len(t.name), -t.weight))
    all_terms, candidates = _combined(terms)
    return Lexicon(
        terms=tuple(terms),
        all_terms=all_terms,
        candidates=candidates,
        frames=tuple((c, _alternation(p)) for c, p in data["frames"].items()),
        headings=tuple((c, _alternation(p)) for c, p in data["headings"].items()),
        banners=_alternation(cosmetic["banners"]),
        practice=_alternation(data["practice"]["subjects"] + data["practice"]["verbs"]),
        chrome=_alternation(data["practice"]["chrome"]),
        parties=_alternation(data["practice"]["parties"]),
        idioms=_alternation(cosmetic["negation_idioms"]),
        date_word=re.compile(r"(?:" + "|".join(cosmetic["date_words"]) + r")$"),
        filler=frozenset(cosmetic["filler"]),
        negations=frozenset(cosmetic["negations"]),
        permissions=frozenset(cosmetic["permissions"]),
        restrictions=frozenset(cosmetic["restrictions"]),
        spelling=spelling,
        equivalents=tuple(
            (re.compile(rf"(?<!\w)(?:{p})(?!\w)"), c)
            for p, c in cosmetic.get("equivalents", [])
        ),
        any_equivalent=re.compile(
            r"(?<!\w)(?:" + "|".join(f"(?:{p})" for p, _ in cosmetic.get("equivalents", []))
            + r")(?!\w)"
        ),
        places=places,
    )


LEXICON = load()
