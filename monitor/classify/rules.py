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
evidence the judge finds in the new and old statements, read in turn, within a work bound
(statements judged, see `monitor.judge.MAX_WORK`: never the clock).
`stats` counts statements and the words inserted and deleted by the word-level diff of the
changed statements (`words_added`, `words_removed`; for a rewrite of thousands of words, all
the words of the changed statements).
"""

from __future__ import annotations

from monitor.differ import align, word_counts
from monitor.records import CATEGORIES, Classification, Finding


class RulesClassifier:
    """The hand-written rules: concrete evidence read statement by statement."""

    name = "rules"
    version = "1.0"

    def classify(self, before: str, after: str) -> Classification:
        return classify(before, after)


def classify(before: str, after: str) -> Classification:
    """Classify the change from `before` to `after` (normalised Markdown or plain text)."""
    from monitor.judge import Judge

    al = align(before, after)
    judge = Judge(al.before, al.after, replaced=al.replaced)
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
        "statements_judged": judge.done,
    }
    if judge.skipped:
        why = "the watchdog stopped a runaway judgement" if judge.incomplete else \
            f"the verdict was major after {judge.done} statements"
        judge.ignored.append(f"{judge.skipped} changed statement(s) not examined: {why}")
        stats["statements_not_examined"] = judge.skipped
    if al.moved:
        judge.ignored.append(f"{al.moved} statement(s) moved or reordered without change")
    return Classification(
        bool(findings), cats, tuple(findings), tuple(_dedupe(judge.ignored)), stats,
        incomplete=judge.incomplete,
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
