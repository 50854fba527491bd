"""Judge each place of change (hunk) statement by statement: findings or cosmetic notes.

Rules, in the order they apply (vocabulary in `monitor/data/lexicon.toml`):

1. Statements are paired across the hunk by similarity; unpaired ones are whole additions or
   removals.  A pair that differs only by typo-level edits is cosmetic.
2. A signal only counts when it moved at three levels: in the statement, in the hunk (so a
   sentence split in two or merged is not a change) and in the whole document (so text moved from
   another section is not a change).
3. Entities: e-mail, phone or postal address -> contact (unless the other version still gives
   it); age -> children; certification -> security; organisation -> controller when one replaces
   another, else recipients when the sentence is about sharing; place -> transfer when the
   sentence or its section is about storage or transfer; duration -> rights when it is a response
   time, else retention when the sentence or its section is about keeping or storing.  Ages,
   organisations, places and durations only count in a sentence about data (a data noun or a
   processing verb, see [practice]); nothing counts in page chrome (times, prices, webinars,
   copyright lines).  A company newly named where the statement says who runs the service
   ('X ("we")', 'We, X, provide', 'operated by X', 'X is the controller') is controller.
4. Terms, only in statements about data: a strong term that appears or disappears raises the
   ONE best category of the statement (its changed terms, its main verb and its section heading
   vote); a KEY term (data brokers, biometrics, SCCs, profiling) raises its own category too, so
   one sentence may raise several.  Headlines, fragments and "we updated this policy" banners
   raise nothing.
5. A negation or restriction inserted or deleted ("will not share" -> "may share", "we keep" ->
   "we only keep") raises the category of the verb it governs; idioms such as "do not hesitate"
   are set aside.
6. Section context (`monitor.topics`): a table cell is read through its column's heading, any
   other statement through the innermost heading above it that names a topic ("Information we
   collect" -> data_types, "How long we keep" -> retention).  A short list entry or table cell
   added or removed there raises that topic when one of its content words appears or
   disappears in the whole document and the same entry is not listed elsewhere; an entry, cell
   or clause (in a sentence whose verb does what its section is about) that gains or loses a
   whole element of its list ("name, email" -> "name, email, voice recordings") does too.  Only
   under a data-collection topic do bare noun phrases count; elsewhere the entry needs a
   lexicon term.  Widget labels run together ("VendorsAll") are page chrome.
7. A company newly named in the opening paragraph (before or under the title) is a change of
   controller, even when the old name still appears further down.
8. Evidence strength (`monitor.evidence`): a statement states a practice only when it speaks of
   people's data or a practice on it (not merely "data": job ads, blog teasers); `recipients`
   needs a recipient named (or a sale), so sharing as a product feature raises nothing; a data
   kind raises `data_types` only in a statement about getting data; a weak term or the main
   verb adds no category to a statement that raises a key one or sits in a large rewrite.  A
   lone finding raised by section context alone, with no strong term, is not major.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial

from monitor import entities, evidence, signals, topics
from monitor.differ import Hunk, pair_statements, typo_only, word_changes
from monitor.lexicon import KEY, LEXICON, Term
from monitor.records import Finding
from monitor.sections import Unit, section_of, words

_QUOTE_MAX = 360
# Work bounds, counted in statements judged (never in seconds, so the verdict is the same on
# any machine): once the verdict is major, judging goes on for at most MAX_WORK statements
# (REPLACED_WORK for a text largely replaced, whose statements are major anyway).
MAX_WORK = 1500
REPLACED_WORK = 600
WATCHDOG_S = 60.0  # only a guard against a runaway: a result it cuts is marked incomplete
_HEADING_ENTITIES = frozenset(
    {"email", "phone", "org", "address"}
)  # places, ages in headings only name topics
_WHOLE_DOC_KINDS = frozenset({"email", "phone", "org", "address"})
_CHANNELS = entities.CHANNELS
_NEGATION = frozenset({"not", "never", "no", "cannot", "nor", "neither", "t"})
_FLIPS = _NEGATION | LEXICON.restrictions  # 'we keep' -> 'we only keep' narrows a promise


class Judge:
    """Collects findings and ignored notes over the hunks of one comparison."""

    def __init__(
        self,
        before: Sequence[Unit],
        after: Sequence[Unit],
        *,
        replaced: bool = False,
        max_work: int | None = None,
    ) -> None:
        self.max_work = max_work if max_work is not None else \
            (REPLACED_WORK if replaced else MAX_WORK)
        self.done = 0  # statements judged
        self.skipped = 0  # statements left unjudged once the work bound was reached
        self.watchdog = time.perf_counter() + WATCHDOG_S
        self.incomplete = False  # the watchdog fired: a runaway, cut short
        self.replaced = replaced  # most of the text is new: the new statements are read first
        self._entities: dict[str, entities.Entities] = {}
        self.docs = (signals.plain(_joined(before)), signals.plain(_joined(after)))
        self._lower: tuple[str, str] | None = None
        self.keys = ({u.key for u in before}, {u.key for u in after})
        self.findings: list[Finding] = []
        self.ignored: list[str] = []
        self.weak: set[tuple[str, str]] = set()  # (category, text) raised by section context alone
        self._doc_digits: tuple[str, ...] | None = None
        self._doc_words: tuple[str, str] | None = None
        self._doc_vocab: tuple[set[str], set[str]] | None = None
        # the opening: text before the first section heading, or under the title
        self.titles = {
            "",
            *(next((u.section for u in us if u.heading), "") for us in (before, after)),
        }

    # -- hunk ---------------------------------------------------------------------------------
    def prepare(self, hunks: Sequence[Hunk]) -> None:
        """Terms and entities of every hunk, and their net change over the whole document.

        Text outside the hunks is the same on both sides (moved statements included), so the
        document-level change of a count is the sum of its changes over the hunks."""
        self._prepared: dict[int, tuple] = {}
        self.doc_terms: Counter[Term] = Counter()
        self.doc_ents: Counter[tuple[str, str]] = Counter()
        self.doc_words: Counter[str] = Counter()
        for h in hunks:
            text_r, text_a = _joined(h.removed), _joined(h.added)
            words_r, words_a = topics.content_words(text_r), topics.content_words(text_a)
            self.doc_words.update(words_a)
            self.doc_words.subtract(words_r)
            tr, ta = signals.terms(text_r), signals.terms(text_a)
            er, ea = entities.extract(text_r), entities.extract(text_a)
            self.doc_terms.update(ta)
            self.doc_terms.subtract(tr)
            for kind in er:
                self.doc_ents.update({(kind, v): n for v, n in ea[kind].items()})
                self.doc_ents.subtract({(kind, v): n for v, n in er[kind].items()})
            self._prepared[id(h)] = (text_r, text_a, tr, ta, er, ea, set(words_r), set(words_a))

    def hunk(self, h: Hunk) -> None:
        if id(h) not in getattr(self, "_prepared", {}):
            self.prepare([h])
        text_r, text_a, tr, ta, er, ea, *hunk_words = self._prepared[id(h)]
        self.hunk_words = tuple(hunk_words)
        self.ent_delta = self._entity_delta(er, ea)
        self.gone = {t for t in tr if tr[t] > ta[t] and self.doc_terms[t] < 0}
        self.new = {t for t in ta if ta[t] > tr[t] and self.doc_terms[t] > 0}
        self._texts = (text_r, text_a)
        self._negation_moved: bool | None = None
        self.large = len(h.removed) + len(h.added) >= evidence.LARGE_HUNK
        pairs, lone_r, lone_a = pair_statements(list(h.removed), list(h.added))
        work: list[Callable[[], None]] = [partial(self._changed, b, a) for b, a in pairs]
        wholes = [partial(self._whole, u, "removed") for u in lone_r]
        wholes += [partial(self._whole, u, "added") for u in lone_a]
        if self.replaced:  # within the work bound, new and old statements in turn
            wholes = _interleave(wholes[len(lone_r) :], wholes[: len(lone_r)])
        work += wholes
        for n, judge in enumerate(work):
            if self.findings and self.done >= self.max_work:
                # The verdict is already major; a whole rewrite must not take minutes.
                self.skipped += len(work) - n
                break
            if time.perf_counter() > self.watchdog:
                self.incomplete = True
                self.skipped += len(work) - n
                break
            judge()
            self.done += 1

    @property
    def negation_moved(self) -> bool:
        """A negation or restriction word more or fewer in the hunk (counted when first needed)."""
        if self._negation_moved is None:
            self._negation_moved = _negations(self._texts[0]) != _negations(self._texts[1])
        return self._negation_moved

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
            if self._lower is None:
                self._lower = (self.docs[0].lower(), self.docs[1].lower())
            return value in self._lower[side]
        if kind == "phone":
            if self._doc_digits is None:
                self._doc_digits = tuple("".join(re.findall(r"\d+", d)) for d in self.docs)
            return value in self._doc_digits[side]
        if kind == "address":
            return f" {value} " in self._words(side)
        return self._known_org(value, side)

    def _words(self, side: int) -> str:
        """The words of one version, a space before and after each."""
        if self._doc_words is None:
            before, after = (words(d) for d in self.docs)
            self._doc_words = (f" {' '.join(before)} ", f" {' '.join(after)} ")
            self._doc_vocab = (set(before), set(after))
        return self._doc_words[side]

    # -- a changed statement ------------------------------------------------------------------
    def _changed(self, b: Unit, a: Unit) -> None:
        wb, wa = words(b.text), words(a.text)
        dele, ins = word_changes(wb, wa)
        if signals.is_banner(b.text) and signals.is_banner(a.text):
            self.ignored.append(f"date or notice about the policy: {_short(a.text)}")
            return
        if typo_only(dele, ins):
            self.ignored.append(f"spelling, case or punctuation: {_short(a.text)}")
            return
        section = a.section or b.section
        cats = self._entity_categories(
            b.text,
            a.text,
            both=True,
            heading=b.heading or a.heading,
            section=f"{section} {a.column or ''}",  # a table cell is read with its column
            intro=self._intro(b) or self._intro(a),
        )
        if _states(b) or _states(a):
            tb, ta = (signals.terms(u.text) if _states(u) else Counter() for u in (b, a))
            moved = Counter({t: n - tb[t] for t, n in ta.items() if n > tb[t] and t in self.new})
            moved.update({t: n - ta[t] for t, n in tb.items() if n > ta[t] and t in self.gone})
            keyed = evidence.keyed(moved)
            best = evidence.best(
                moved, f"{b.text} {a.text}", section, a.column or b.column or "",
                raised=keyed, large=self.large,
            )  # fmt: skip
            cats.update(keyed | ({best} if best else set()))
            if not cats and self.negation_moved and _negation_changed(b.text, a.text):
                cat = _flip_category(b.text, a.text)
                if cat:
                    cats.add(cat)
        if not cats:
            cats.update(self._new_elements(b, a))
            self.weak.update((c, a.text) for c in cats if _context_only(c, a.text))
        if not cats:
            what = "date" if signals.is_banner(a.text) else "reworded without new substance"
            self.ignored.append(f"{what}: {_short(a.text)}")
            return
        qb, qa = _quotes(b.text, a.text)
        for cat in cats:
            self.findings.append(Finding(cat, "changed", qb, qa, section_of(a) or section_of(b)))

    # -- a statement added or removed -----------------------------------------------------------
    def _whole(self, u: Unit, kind: str) -> None:
        if signals.is_banner(u.text):
            self.ignored.append(f"notice about the policy itself {kind}: {_short(u.text)}")
            return
        cats = self._entity_categories(
            u.text,
            u.text,
            both=False,
            side=kind,
            heading=u.heading,
            section=f"{u.section} {u.column or ''}",
            intro=self._intro(u),
        )
        if _states(u):
            found = signals.terms(u.text)
            moved_terms = self.new if kind == "added" else self.gone
            moved = Counter({t: n for t, n in found.items() if t in moved_terms})
            if self._same_channels(u, kind):  # the addresses it gives are no news
                moved = Counter({t: n for t, n in moved.items() if t.category != "contact"})
            keyed = evidence.keyed(moved)
            best = None
            if not cats:
                best = evidence.best(
                    moved, u.text, u.section, u.column or "", raised=keyed, large=self.large
                )
            cats.update(keyed | ({best} if best else set()))
        elif not cats:
            cats.update(self._new_item(u, kind))
            self.weak.update((c, u.text) for c in cats if _context_only(c, u.text))
            if not cats:
                what = "heading" if u.heading else "fragment or page chrome"
                self.ignored.append(f"{what} {kind}: {_short(u.text)}")
                return
        if not cats:
            self.ignored.append(f"statement {kind} without new substance: {_short(u.text)}")
            return
        quote = _clip(u.text, 0)
        for cat in cats:
            before, after = (quote, "") if kind == "removed" else ("", quote)
            self.findings.append(Finding(cat, kind, before, after, section_of(u)))

    def _intro(self, u: Unit) -> bool:
        return (
            not u.heading
            and not u.outer
            and u.section in self.titles
            and not signals.heading_category(u.section)
        )

    def _extract(self, text: str) -> entities.Entities:
        """The entities of a statement (read only: shared by the rules that look at them)."""
        found = self._entities.get(text)
        if found is None:
            found = self._entities[text] = entities.extract(text)
        return found

    def _same_channels(self, u: Unit, kind: str) -> bool:
        """A statement naming only addresses the other version still gives: no contact change."""
        found = self._extract(u.text)
        values = [("email", v) for v in found["email"]] + [("phone", v) for v in found["phone"]]
        other = 1 if kind == "removed" else 0
        return bool(values) and all(self._present(k, v, other) for k, v in values)

    # -- section context (see monitor.topics) ---------------------------------------------------
    def _new_item(self, u: Unit, kind: str) -> set[str]:
        """A bare list item or table row added or removed under a heading that names a topic."""
        cat = topics.topic(u)
        if u.heading or cat not in topics.ITEM_TOPICS or not topics.item_like(u):
            return set()
        if LEXICON.chrome.search(u.text) or topics.glued(u.text):
            return set()
        if cat not in topics.BARE_TOPICS and not any(t.weight > 1 for t in signals.terms(u.text)):
            return set()
        side, other = (1, 0) if kind == "added" else (0, 1)
        if u.key in self.keys[other]:
            return set()  # the same entry is listed elsewhere (another row, another list)
        fresh = set(topics.content_words(u.text)) - self.hunk_words[other]
        if not topics.moved_words(fresh, self.doc_words, 1 if side else -1):
            return set()
        found = self._element_category(u.text, cat)
        return {found} if evidence.recipient_ok(found, u.text) else set()

    def _new_elements(self, b: Unit, a: Unit) -> set[str]:
        """An item, table cell or clause that gains (or loses) a whole element of a list under
        a topic (a table cell's topic is its column's heading, else the section's)."""
        cat = topics.topic(a) or topics.topic(b)
        both = f"{b.text} {a.text}"
        if cat not in topics.ITEM_TOPICS or LEXICON.chrome.search(both) or topics.glued(both):
            return set()
        items = topics.item_like(b) and topics.item_like(a)
        if not items and signals.frame(a.text.lower()) != cat:
            return set()  # a clause only counts in a sentence doing what its section is about
        added, gone = topics.new_elements(b.text, a.text), topics.new_elements(a.text, b.text)
        if added and gone:
            return set()  # one element replaced by another: a rewording as often as not
        sign = 1 if added else -1
        return {
            self._element_category(e, cat)
            for e in added or gone
            if topics.moved_words(topics.content_words(e), self.doc_words, sign)
            and evidence.recipient_ok(self._element_category(e, cat), e)
        }

    @staticmethod
    def _element_category(text: str, topic: str) -> str:
        """The section's category, unless the element has a key term of one other category
        (data brokers in a row of a data-categories table)."""
        keyed = sorted({t.category for t in signals.terms(text) if t.weight >= KEY} - {topic})
        return keyed[0] if len(keyed) == 1 else topic

    # -- entities -------------------------------------------------------------------------------
    def _known_org(self, org: str, side: int) -> bool:
        """An organisation whose name (without legal suffix) the other version already uses."""
        # 'Privacy Policy of Replacements Ltd' is known when 'replacements ltd' is: try the
        # name's tails, suffix kept, so that words caught before the name do not matter.
        tokens = org.split()
        base = entities.base_name(org).split()
        suffix = tokens[len(base) :]
        text = self._words(side)
        assert self._doc_vocab is not None
        if not self._doc_vocab[side].issuperset(base[-1:]):
            return False  # (the last word of the name is nowhere: spares long searches)
        for k in range(1, len(base) + 1):
            tail = " ".join(base[-k:] + suffix)
            if len(tail) >= 4 and (suffix or k == len(base)) and f" {tail} " in text:
                return True
        return False

    def _entity_categories(
        self,
        tb: str,
        ta: str,
        *,
        both: bool,
        side: str = "",
        heading: bool = False,
        section: str = "",
        intro: bool = False,
    ) -> set[str]:
        eb, ea = self._extract(tb), self._extract(ta)
        context = f"{tb} {ta} {section}".lower()  # a table row's meaning is in its section
        chrome = bool(LEXICON.chrome.search(f"{tb} {ta}"))
        about_data = not chrome and bool(LEXICON.practice.search(context))
        cats: set[str] = set()
        for kind, (gone, new) in self.ent_delta.items():
            if heading and kind not in _HEADING_ENTITIES:
                continue
            if chrome or (kind not in _CHANNELS and not about_data):
                continue  # an age or a company named in an article, a time in an event listing
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
                # a company newly named in the opening paragraph is who runs the service
                replaced = replaced or (kind == "org" and intro and bool(mine_new))
                cat = entities.category_of(kind, replaced, context, f"{tb} {ta}".lower())
                if cat:
                    cats.add(cat)
        return cats


def _interleave(first: list, second: list) -> list:
    out = [x for pair in zip(first, second, strict=False) for x in pair]
    n = min(len(first), len(second))
    return out + first[n:] + second[n:]


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
    """Headings name topics; only statements about data or practices state practices."""
    return (
        not u.heading
        and signals.is_statement(u.text)
        and signals.is_practice(u.text)
        and evidence.about_personal(u.text)
    )


def _context_only(category: str, text: str) -> bool:
    """A finding of a section's topic with no strong term of its own (data kinds set aside:
    a bare '- Voice recordings' under 'Information we collect' is news)."""
    return category != "data_types" and not any(
        t.category == category and t.weight > 1 for t in signals.terms(text)
    )


# a word of _FLIPS, as `words` cuts words (runs of letters and digits)
_FLIP_WORD = re.compile(
    r"(?<![^\W_])(?:" + "|".join(sorted(w for w in _FLIPS if w.isalnum())) + r")(?![^\W_])"
)


def _negations(text: str) -> int:
    """How many negation or restriction words a text has (`words` of it that are in _FLIPS)."""
    return len(_FLIP_WORD.findall(signals.plain(signals.without_idioms(text)).lower()))


def _negation_changed(before: str, after: str) -> bool:
    """A negation word inserted or deleted, idioms ('do not hesitate') set aside."""
    dele, ins = word_changes(
        words(signals.without_idioms(before)), words(signals.without_idioms(after))
    )
    return bool(_FLIPS & (set(dele) | set(ins)))


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
