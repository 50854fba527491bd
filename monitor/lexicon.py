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
    all_terms: re.Pattern[str]  # one alternation, longest patterns first; group t<i> = terms[i]
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
    places: re.Pattern[str]


def _alternation(patterns: list[str]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(f"(?:{p})" for p in patterns) + r")\b", re.I)


def _combined(terms: list[Term]) -> re.Pattern[str]:
    """One regex for all terms, branches grouped by first letter: Python's re tries the
    alternatives one by one, so a lookahead on the first letter saves most of the attempts."""
    groups: dict[str, list[str]] = {}
    for i, t in enumerate(terms):
        first = t.name[0].lower()
        literal = first.isalnum() and t.name[1:2] not in ("?", "*", "{", "|")
        groups.setdefault(first if literal else "", []).append(f"(?P<t{i}>{t.name})")
    branches = [f"(?={re.escape(c)})(?:{'|'.join(alts)})" for c, alts in groups.items() if c]
    branches += ["|".join(groups.get("", []))] if groups.get("") else []
    return re.compile(r"\b(?:" + "|".join(branches) + r")\b", re.I)


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
    places = re.compile(r"\b(?:" + "|".join(re.escape(n) for n in reversed(names)) + r")\b")
    terms.sort(key=lambda t: (-len(t.name), -t.weight))
    return Lexicon(
        terms=tuple(terms),
        all_terms=_combined(terms),
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
        places=places,
    )


LEXICON = load()
