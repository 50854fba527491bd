"""Tell whether a change between two policy versions is major, which categories it touches, and why.

The decision rests on WHAT changed, statement by statement (see `monitor.judge`): a changed entity
(e-mail, phone, postal address, organisation, place, duration, age), a lexicon term that appears or
disappears (and whose count in the whole document moves the same way, so moved text never
counts), a negation or restriction flip, or a whole statement added or removed, read through its
main verb and its section.  Only statements about personal data count; page chrome never does.
A single finding raised by section context alone (a list entry under a purpose heading, no term
of its own) is not enough for `major`; `monitor.evidence` says how much each kind of evidence
proves.
Everything else (wrapping, numbering, order, case, quotes, spelling, dates, link targets, rewording
without a new term) is reported as ignored.
A text largely replaced (few statements kept in place, see `monitor.differ`) is major in itself:
a finding of kind `replaced` (no category) says so, and the categories come from the concrete
evidence the judge finds in the new and old statements, read in turn, within a time budget.
`stats` counts statements and the words inserted and deleted by the word-level diff of the
changed statements (`words_added`, `words_removed`; for a rewrite of thousands of words, all
the words of the changed statements).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from monitor.differ import align, word_counts

CATEGORIES = (
    "purpose",
    "data_types",
    "recipients",
    "controller",
    "rights",
    "contact",
    "transfer",
    "retention",
    "children",
    "security",
)
# When judging statements stops once the verdict is major, counted from the start (whatever
# came before, judging has at least _MIN_S): any pair takes well under 2 s.
BUDGET_S = 1.3
REPLACED_BUDGET_S = 0.75  # a text largely replaced: major anyway
_MIN_S = 0.15


@dataclass(frozen=True)
class Finding:
    category: str  # one of CATEGORIES ('' for a text largely replaced)
    kind: str  # "added" | "removed" | "changed" | "replaced"
    before: str  # quoted passage before ('' when added)
    after: str  # quoted passage after ('' when removed)
    section: str  # heading of the section where it sits ('' if none)


@dataclass(frozen=True)
class Classification:
    major: bool
    categories: tuple[str, ...]  # sorted in CATEGORIES order
    findings: tuple[Finding, ...]
    ignored: tuple[str, ...]  # short descriptions of what was judged cosmetic
    stats: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "major": self.major,
            "categories": list(self.categories),
            "findings": [asdict(f) for f in self.findings],
            "ignored": list(self.ignored),
            "stats": dict(self.stats),
        }


def classify(before: str, after: str) -> Classification:
    """Classify the change from `before` to `after` (normalised Markdown or plain text)."""
    from monitor.judge import Judge  # local: judge imports Finding from here

    start = time.perf_counter()
    al = align(before, after)
    budget = REPLACED_BUDGET_S if al.replaced else BUDGET_S
    budget = max(_MIN_S, budget - (time.perf_counter() - start))
    judge = Judge(al.before, al.after, budget, replaced=al.replaced)
    if al.replaced:
        judge.findings.append(_replaced(al.before, al.after, al.kept))
    judge.prepare(al.hunks)
    for hunk in al.hunks:
        judge.hunk(hunk)
    findings = _unique(judge.findings)
    lone = findings[0] if len(findings) == 1 else None
    if lone and (lone.category, lone.after or lone.before) in judge.weak:
        # one list entry read through its section heading alone: too little for an alert
        text = lone.after or lone.before
        judge.ignored.append(f"lone entry under a {lone.category} heading: {text[:80]}")
        findings = []
    present = {f.category for f in findings}
    cats = tuple(c for c in CATEGORIES if c in present)
    stats = {
        "statements_before": len(al.before),
        "statements_after": len(al.after),
        "hunks": len(al.hunks),
        "statements_moved": al.moved,
        "statements_removed": sum(len(h.removed) for h in al.hunks),
        "statements_added": sum(len(h.added) for h in al.hunks),
        **word_counts(al.hunks),
        "elapsed_ms": round((time.perf_counter() - start) * 1000, 1),
    }
    if judge.skipped:
        judge.ignored.append(
            f"{judge.skipped} changed statement(s) not examined: time budget spent"
        )
        stats["statements_not_examined"] = judge.skipped
    if al.moved:
        judge.ignored.append(f"{al.moved} statement(s) moved or reordered without change")
    return Classification(
        bool(findings), cats, tuple(findings), tuple(_dedupe(judge.ignored)), stats
    )


def _replaced(before: tuple, after: tuple, kept: int) -> Finding:
    return Finding(
        "",
        "replaced",
        f"{len(before)} statements, {len(before) - kept} of them gone or moved",
        f"{len(after)} statements, {len(after) - kept} of them new or moved",
        "",
    )


def _unique(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str, str]] = set()
    out = []
    for f in findings:
        k = (f.category, f.before, f.after)
        if k not in seen:
            seen.add(k)
            out.append(f)
    order = {c: i for i, c in enumerate(CATEGORIES)}
    return sorted(out, key=lambda f: order.get(f.category, -1))


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


_BOLD, _RED, _GREEN, _RESET = "\x1b[1m", "\x1b[31m", "\x1b[32m", "\x1b[0m"


def format_report(c: Classification, *, color: bool = False) -> str:
    """Human report: verdict, categories, findings (before -> after, section), ignored summary."""

    def paint(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    verdict = "MAJOR change" if c.major else "No major change"
    lines = [paint(_BOLD, verdict) + (f": {', '.join(c.categories)}" if c.categories else "")]
    for f in c.findings:
        where = f" (in '{f.section}')" if f.section else ""
        lines.append(f"\n* {f.category or 'text'} - {f.kind}{where}")
        if f.before:
            lines.append("  before: " + paint(_RED, f.before))
        if f.after:
            lines.append("  after:  " + paint(_GREEN, f.after))
    if c.ignored:
        lines.append(f"\nIgnored as cosmetic ({len(c.ignored)}):")
        lines += [f"  - {d}" for d in c.ignored[:20]]
        if len(c.ignored) > 20:
            lines.append(f"  - ... and {len(c.ignored) - 20} more")
    return "\n".join(lines)
