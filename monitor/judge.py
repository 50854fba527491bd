"""Judge each place of change (hunk) statement by statement: findings or cosmetic notes.

Rules, in the order they apply (vocabulary in `monitor/data/lexicon.toml`):

1. Statements are paired across the hunk by similarity; unpaired ones are whole additions or
   removals.  A pair that differs only by typo-level edits is cosmetic.
2. A signal only counts when it moved at three levels: in the statement, in the hunk (so a
   sentence split in two or merged is not a change) and in the whole document (so text moved from
   another section is not a change).
3. Entities: e-mail or phone -> contact; age -> children; certification -> security;
   organisation -> controller when one replaces another or the sentence is about who operates the
   service, else recipients; place -> transfer when the sentence is about storage or transfer;
   duration -> rights when it is a response time, else retention.
4. Terms: a strong lexicon term that appears or disappears in a changed statement raises its
   category.  A whole statement added or removed raises ONE category: the best score of its changed
   terms, its main verb (frame) and its section heading; headlines, fragments and "we updated this
   policy" banners raise nothing.
5. A negation that appears or disappears ("will not share" -> "may share") raises the category of
   the statement's main verb.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Sequence

from rapidfuzz import fuzz, process

from monitor import entities, signals
from monitor.classifier import Finding
from monitor.differ import Hunk, diff_sequences
from monitor.lexicon import LEXICON, Term
from monitor.sections import Unit, words

_QUOTE_MAX = 360
_PAIR_CUTOFF = 55.0
_MAX_PAIRING = 250_000
_HEADING_ENTITIES = frozenset(
    {"email", "phone", "org"}
)  # places, ages in headings only name topics
_WHOLE_DOC_KINDS = frozenset({"email", "phone", "org"})
_NEGATION = frozenset({"not", "never", "no", "cannot", "nor", "neither", "t"})


class Judge:
    """Collects findings and ignored notes over the hunks of one comparison."""

    def __init__(
        self, before: Sequence[Unit], after: Sequence[Unit], budget_s: float = 1.0
    ) -> None:
        self.deadline = time.perf_counter() + budget_s
        self.skipped = 0
        self.docs = (signals.plain(_joined(before)), signals.plain(_joined(after)))
        self.findings: list[Finding] = []
        self.ignored: list[str] = []
        self._doc_digits: tuple[str, ...] | None = None
        self._doc_words: tuple[str, str] | None = None

    # -- hunk ---------------------------------------------------------------------------------
    def prepare(self, hunks: Sequence[Hunk]) -> None:
        """Terms and entities of every hunk, and their net change over the whole document.

        Text outside the hunks is the same on both sides (moved statements included), so the
        document-level change of a count is the sum of its changes over the hunks."""
        self._prepared: dict[int, tuple] = {}
        self.doc_terms: Counter[Term] = Counter()
        self.doc_ents: Counter[tuple[str, str]] = Counter()
        for h in hunks:
            text_r, text_a = _joined(h.removed), _joined(h.added)
            tr, ta = signals.terms(text_r), signals.terms(text_a)
            er, ea = entities.extract(text_r), entities.extract(text_a)
            self.doc_terms.update(ta)
            self.doc_terms.subtract(tr)
            for kind in er:
                self.doc_ents.update({(kind, v): n for v, n in ea[kind].items()})
                self.doc_ents.subtract({(kind, v): n for v, n in er[kind].items()})
            self._prepared[id(h)] = (text_r, text_a, tr, ta, er, ea)

    def hunk(self, h: Hunk) -> None:
        if id(h) not in getattr(self, "_prepared", {}):
            self.prepare([h])
        text_r, text_a, tr, ta, er, ea = self._prepared[id(h)]
        self.ent_delta = self._entity_delta(er, ea)
        self.gone = {t for t in tr if tr[t] > ta[t] and self.doc_terms[t] < 0}
        self.new = {t for t in ta if ta[t] > tr[t] and self.doc_terms[t] > 0}
        self.negation_moved = _negations(text_r) != _negations(text_a)
        pairs, lone_r, lone_a = _pair(list(h.removed), list(h.added))
        work = [(self._changed, p) for p in pairs]
        work += [(self._whole, (u, "removed")) for u in lone_r]
        work += [(self._whole, (u, "added")) for u in lone_a]
        for n, (judge, args) in enumerate(work):
            if self.findings and time.perf_counter() > self.deadline:
                # The verdict is already major; a whole rewrite must not take minutes.
                self.skipped += len(work) - n
                break
            judge(*args)

    def _entity_delta(self, er: entities.Entities, ea: entities.Entities) -> dict:
        out = {}
        raw = entities.changed(er, ea)
        self.org_appeared = bool(raw.get("org", (set(), set()))[1])
        for kind, (gone, new) in raw.items():
            if kind in _WHOLE_DOC_KINDS:  # an address still given elsewhere has not changed
                gone = {v for v in gone if not self._present(kind, v, 1)}
                new = {v for v in new if not self._present(kind, v, 0)}
            else:
                gone = {v for v in gone if self.doc_ents[(kind, v)] < 0}
                new = {v for v in new if self.doc_ents[(kind, v)] > 0}
            if gone or new:
                out[kind] = (gone, new)
        return out

    def _present(self, kind: str, value: str, side: int) -> bool:
        """Whether one version mentions an e-mail, phone or organisation anywhere."""
        if kind == "email":
            return value in self.docs[side].lower()
        if kind == "phone":
            if self._doc_digits is None:
                self._doc_digits = tuple(re.sub(r"\D", "", d) for d in self.docs)
            return value in self._doc_digits[side]
        return self._known_org(value, side)

    # -- a changed statement ------------------------------------------------------------------
    def _changed(self, b: Unit, a: Unit) -> None:
        wb, wa = words(b.text), words(a.text)
        dele, ins = _word_changes(wb, wa)
        if signals.is_banner(b.text) and signals.is_banner(a.text):
            self.ignored.append(f"date or notice about the policy: {_short(a.text)}")
            return
        if _typo_only(dele, ins):
            self.ignored.append(f"spelling, case or punctuation: {_short(a.text)}")
            return
        cats = self._entity_categories(b.text, a.text, both=True, heading=b.heading or a.heading)
        if _states(b) or _states(a):
            tb, ta = signals.terms(b.text), signals.terms(a.text)
            moved = Counter({t: n - tb[t] for t, n in ta.items() if n > tb[t] and t in self.new})
            moved.update({t: n - ta[t] for t, n in tb.items() if n > ta[t] and t in self.gone})
            best = _best(moved, f"{b.text} {a.text}", a.section or b.section)
            if best:
                cats.add(best)
            if not cats and self.negation_moved and _NEGATION & (set(dele) | set(ins)):
                cat = _flip_category(b.text, a.text)
                if cat:
                    cats.add(cat)
        if not cats:
            what = "date" if signals.is_banner(a.text) else "reworded without new substance"
            self.ignored.append(f"{what}: {_short(a.text)}")
            return
        qb, qa = _quotes(b.text, a.text)
        for cat in cats:
            self.findings.append(Finding(cat, "changed", qb, qa, a.section or b.section))

    # -- a statement added or removed -----------------------------------------------------------
    def _whole(self, u: Unit, kind: str) -> None:
        if signals.is_banner(u.text):
            self.ignored.append(f"notice about the policy itself {kind}: {_short(u.text)}")
            return
        cats = self._entity_categories(u.text, u.text, both=False, side=kind, heading=u.heading)
        if not cats and _states(u):  # entities say it best: one category
            best = self._best_category(u, self.new if kind == "added" else self.gone)
            if best == "contact" and self._same_channels(u, kind):
                best = None
            if best:
                cats.add(best)
        elif not cats:
            what = "heading" if u.heading else "fragment or page chrome"
            self.ignored.append(f"{what} {kind}: {_short(u.text)}")
            return
        if not cats:
            self.ignored.append(f"statement {kind} without new substance: {_short(u.text)}")
            return
        quote = _clip(u.text, 0)
        for cat in cats:
            before, after = (quote, "") if kind == "removed" else ("", quote)
            self.findings.append(Finding(cat, kind, before, after, u.section))

    def _same_channels(self, u: Unit, kind: str) -> bool:
        """A statement naming only addresses the other version still gives: no contact change."""
        found = entities.extract(u.text)
        values = [("email", v) for v in found["email"]] + [("phone", v) for v in found["phone"]]
        other = 1 if kind == "removed" else 0
        return bool(values) and all(self._present(k, v, other) for k, v in values)

    def _best_category(self, u: Unit, moved_terms: set[Term]) -> str | None:
        found = signals.terms(u.text)
        return _best(
            Counter({t: n for t, n in found.items() if t in moved_terms}), u.text, u.section
        )

    # -- entities -------------------------------------------------------------------------------
    def _known_org(self, org: str, side: int) -> bool:
        """An organisation whose name (without legal suffix) the other version already uses."""
        if self._doc_words is None:
            self._doc_words = (" ".join(words(self.docs[0])), " ".join(words(self.docs[1])))
        # 'Privacy Policy of Replacements Ltd' is known when 'replacements ltd' is: try the
        # name's tails, suffix kept, so that words caught before the name do not matter.
        tokens = org.split()
        base = entities.base_name(org).split()
        suffix = tokens[len(base) :]
        text = f" {self._doc_words[side]} "
        for k in range(1, len(base) + 1):
            tail = " ".join(base[-k:] + suffix)
            if len(tail) >= 4 and (suffix or k == len(base)) and f" {tail} " in text:
                return True
        return False

    def _entity_categories(
        self, tb: str, ta: str, *, both: bool, side: str = "", heading: bool = False
    ) -> set[str]:
        eb, ea = entities.extract(tb), entities.extract(ta)
        context = f"{tb} {ta}".lower()
        cats: set[str] = set()
        for kind, (gone, new) in self.ent_delta.items():
            if heading and kind not in _HEADING_ENTITIES:
                continue
            mine_gone = gone & set(eb[kind]) if both or side == "removed" else set()
            mine_new = new & set(ea[kind]) if both or side == "added" else set()
            if both:
                mine_gone -= set(ea[kind])
                mine_new -= set(eb[kind])
            if kind == "org":
                mine_new = {v for v in mine_new if not self._known_org(v, 0)}
                mine_gone = {v for v in mine_gone if not self._known_org(v, 1)}
            if mine_gone or mine_new:
                # an organisation vanishing where another one appears: a change of control
                replaced = bool(gone and (new or (kind == "org" and self.org_appeared)))
                cat = _entity_category(kind, replaced, context)
                if cat:
                    cats.add(cat)
        return cats


def _best(moved: Counter[Term], text: str, section: str) -> str | None:
    """The one category a changed statement is about: its changed strong terms, its main verb
    and its section heading vote; None when no strong term changed."""
    score: Counter[str] = Counter()
    strong: set[str] = set()
    for t, n in moved.items():
        score[t.category] += t.weight * min(n, 2)
        if t.weight > 1:
            strong.add(t.category)
    if not strong:
        return None
    main = signals.frame(text.lower())
    if main and score[main]:
        strong.add(main)  # 'we share X with' is about recipients even if X is a data kind
    if main:
        score[main] += 4
    topic = signals.heading_category(section.lower())
    if topic:
        score[topic] += 2
    return max(sorted(strong), key=lambda c: (score[c], c == main))


_RECIPIENT_CONTEXT = re.compile(
    r"\b(?:shar\w*|disclos\w*|sell|sold|sale|provided? to|partners?|third[- ]part\w*|vendors?|"
    r"providers?|processors?|support|access to|managed by|advertis\w*|analytics|recipients?)\b"
)


def _entity_category(kind: str, replaced: bool, context: str) -> str | None:
    if kind in ("email", "phone"):
        return "contact"
    if kind == "age":
        return "children"
    if kind == "standard":
        return "security"
    present = signals.frames(context)
    if kind == "org":
        if replaced:
            return "controller"
        return "recipients" if _RECIPIENT_CONTEXT.search(context) else None
    if kind == "place":
        if "transfer" in present:
            return "transfer"
        return "rights" if "rights" in present else None
    if kind == "duration":
        if re.search(r"\b(?:respond\w*|reply|response)\b", context):
            return "rights"
        return "retention" if "retention" in present or "transfer" in present else None
    return None


def _pair(
    removed: list[Unit], added: list[Unit]
) -> tuple[list[tuple[Unit, Unit]], list[Unit], list[Unit]]:
    """Pair removed and added statements of a hunk by similarity of their keys."""
    if not removed or not added:
        return [], removed, added
    if len(removed) == 1 and len(added) == 1:
        return [(removed[0], added[0])], [], []
    if len(removed) * len(added) > _MAX_PAIRING:
        return [], removed, added
    choices = {i: u.key for i, u in enumerate(added)}
    pairs, lone_r = [], []
    for u in removed:
        match = process.extractOne(u.key, choices, scorer=fuzz.ratio, score_cutoff=_PAIR_CUTOFF)
        if match:
            pairs.append((u, added[match[2]]))
            del choices[match[2]]
        else:
            lone_r.append(u)
    lone_a = [added[i] for i in sorted(choices)]
    return pairs, lone_r, lone_a


def _word_changes(wb: list[str], wa: list[str]) -> tuple[list[str], list[str]]:
    dele: list[str] = []
    ins: list[str] = []
    for op, tokens in diff_sequences(wb, wa):
        (dele if op < 0 else ins if op > 0 else []).extend(tokens)
    return dele, ins


def _typo_only(dele: list[str], ins: list[str]) -> bool:
    """Every changed word has a near twin on the other side (spelling fix, split word)."""
    if "".join(dele) == "".join(ins):
        return True
    if len(dele) != len(ins):
        return False
    return all(
        x == y
        or (
            not x.isdigit()
            and not y.isdigit()
            and min(len(x), len(y)) >= 4
            and fuzz.ratio(x, y) >= 80
        )
        for x, y in zip(dele, ins, strict=True)
    )


def _flip_category(before: str, after: str) -> str | None:
    """The verb the negation governs: the first frame from where the two sides start to differ."""
    i = len(_common_prefix(before.lower(), after.lower()))
    i = before.rfind(" ", 0, i) + 1
    return (
        signals.frame(after[i:].lower())
        or signals.frame(before[i:].lower())
        or signals.frame(after.lower())
    )


def _common_prefix(x: str, y: str) -> str:
    n = 0
    for cx, cy in zip(x, y, strict=False):
        if cx != cy:
            break
        n += 1
    return x[:n]


def _states(u: Unit) -> bool:
    """Headings name topics; only statements state practices."""
    return not u.heading and signals.is_statement(u.text)


def _negations(text: str) -> int:
    return sum(1 for w in words(text) if w in _NEGATION)


def _joined(us: Sequence[Unit]) -> str:
    return " ".join(u.text for u in us)


def _short(text: str, n: int = 80) -> str:
    return text if len(text) <= n else text[: n - 3].rstrip() + "..."


def _quotes(before: str, after: str) -> tuple[str, str]:
    """Both sides clipped around where they start to differ."""
    i = len(_common_prefix(before, after))
    return _clip(before, i), _clip(after, i)


def _clip(text: str, at: int) -> str:
    if len(text) <= _QUOTE_MAX:
        return text
    start = max(0, min(at - _QUOTE_MAX // 3, len(text) - _QUOTE_MAX))
    start = text.rfind(" ", 0, start) + 1 if start else 0
    piece = text[start : start + _QUOTE_MAX].rsplit(" ", 1)[0]
    return ("..." if start else "") + piece + ("..." if start + len(piece) < len(text) else "")


__all__ = ["Judge", "LEXICON"]
