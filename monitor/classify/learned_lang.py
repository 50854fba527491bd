"""Per-language data for the learned classifier: one TOML file a language in `monitor/data/lang/`.

A language is data, not code: its stop words (to tell the language of a document), filler
words, negations and modals, date words and "last updated" banners (cosmetic), the heading cues
that give weak labels when the model is trained and a prior when it runs, and extra entity
patterns (a French phone number, a DPO, the CNIL).  Adding German is adding `de.toml`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from monitor.records import CATEGORIES

DIR = Path(__file__).resolve().parent.parent / "data" / "lang"
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    stopwords: frozenset[str]
    filler: frozenset[str]
    negations: frozenset[str]
    modals: frozenset[str]
    subjects: frozenset[str]  # words of a policy's statements: we, you, data, information
    date_words: frozenset[str]  # months, weekdays, ordinal suffixes
    banner: re.Pattern[str] | None  # a "last updated" line
    headings: tuple[tuple[str, re.Pattern[str]], ...]  # (category or 'none', cue)
    entities: tuple[tuple[str, re.Pattern[str]], ...]  # (kind, pattern): dpo, authority, ...
    respond: re.Pattern[str] | None

    def heading_categories(self, heading: str) -> tuple[str, ...] | None:
        """Categories a heading names (in CATEGORIES order), () for an off-topic heading
        ('Cookies', 'Changes to this policy'), None when it names nothing known."""
        text = heading.lower()
        found = [c for c, rx in self.headings if c != "none" and rx.search(text)]
        if found:
            return tuple(c for c in CATEGORIES if c in found)
        if any(rx.search(text) for c, rx in self.headings if c == "none"):
            return ()
        return None


def _alternation(patterns: list[str], flags: int = re.I) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(f"(?:{p})" for p in patterns) + r")(?!\w)", flags)


def _load(path: Path) -> Language:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    words = lambda key: frozenset(str(data.get(key, "")).split())  # noqa: E731
    heads = []
    for cat, cues in data.get("headings", {}).items():
        if cat != "none" and cat not in CATEGORIES:
            raise ValueError(f"{path.name}: unknown category {cat!r} in [headings]")
        rx = _alternation(cues)
        if rx is not None:
            heads.append((cat, rx))
    ents = []
    extra = dict(data.get("entities", {}))
    respond = _alternation(extra.pop("respond", []))
    for kind, patterns in extra.items():
        # phones and addresses keep their case (a city starts with a capital)
        rx = _alternation(patterns, 0 if kind in ("phone", "address") else re.I)
        if rx is not None:
            ents.append((kind, rx))
    return Language(
        code=path.stem,
        name=str(data.get("name", path.stem)),
        stopwords=words("stopwords"),
        filler=words("filler"),
        negations=words("negations"),
        modals=words("modals"),
        subjects=words("subjects"),
        date_words=words("months") | words("weekdays") | words("ordinals"),
        banner=_alternation(list(data.get("banners", []))),
        headings=tuple(heads),
        entities=tuple(ents),
        respond=respond,
    )


@cache
def languages() -> dict[str, Language]:
    """Every language with a data file, by code ('en', 'fr', 'de')."""
    return {p.stem: _load(p) for p in sorted(DIR.glob("*.toml"))}


@cache
def date_words() -> frozenset[str]:
    """Month and weekday names of every language: a date is cosmetic whatever its language."""
    return frozenset().union(*(lang.date_words - lang.filler for lang in languages().values()))


def detect(text: str, limit: int = 20000) -> Language:
    """The language whose stop words are most frequent in (the start of) `text`; English when
    none is found."""
    langs = languages()
    counts = {code: 0 for code in langs}
    for w in _WORD.findall(text[:limit].lower()):
        for code, lang in langs.items():
            if w in lang.stopwords:
                counts[code] += 1
    best = max(sorted(counts), key=lambda c: counts[c])
    return langs[best] if counts[best] else langs.get("en", next(iter(langs.values())))


def heading_label(lang: Language, headings: tuple[str, ...]) -> tuple[str, ...] | None:
    """The weak label of a statement under `headings` (innermost first): the categories the
    innermost heading that names anything names; () when it is off-topic; None when no
    heading says."""
    for h in headings:
        found = lang.heading_categories(h)
        if found is not None:
            return found
    return None
