"""Diff two policy versions: statement alignment, word-level diff and its rendering.

Statements (see `monitor.sections`) are compared by their normalised keys. A sequence diff over
statement keys finds the changed places (hunks); statements that only moved (their key is as
frequent on both sides) are taken out, so reordered sections and paragraphs never count as
change. Inside a hunk, words are diffed with diff-match-patch in its line mode, one token a
"line", so the cost grows with the number of tokens, never with characters squared. Work is
bounded by work, never by the clock (dmp's `Diff_Timeout` is never reached, so the same pair
always gives the same diff): when the edits between two sequences may exceed _MAX_EDITS (the
count of tokens not kept in order is an upper bound of them), the diff is coarse: common head
and tail, the rest removed and added. Before the statement diff, the statements kept in the same
order on both sides are counted (occurrences matched in turn, longest increasing run, O(n log
n)): when thousands of statements are out of place (a text reordered or replaced), the diff
would only run too long, so it is skipped and the changed statements form one hunk
(`Alignment.kept`; `Alignment.replaced` when under a quarter of the text stayed in place).
`pair_statements` pairs the removed and added statements of a hunk by similarity (rapidfuzz);
`word_changes` and `typo_only` tell what changed inside a pair.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter, defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass

from diff_match_patch import diff_match_patch
from rapidfuzz import fuzz, process

from monitor.sections import Unit, units, words

Op = tuple[int, str]
_PAIR_CUTOFF = 55.0
_MAX_PAIRING = 250_000
_MAX_EDITS = 2000  # statements or words out of place beyond which a diff would take seconds
_MAX_WORDS = 2000  # changed words beyond which they are counted without a diff (a second at most)
_SPACED = re.compile(r"\S+|\s+")
_RED, _GREEN, _DIM, _RESET = "\x1b[31m", "\x1b[32m", "\x1b[2m", "\x1b[0m"


@dataclass(frozen=True)
class Hunk:
    """One place of change: statements removed from `before` and added in `after`."""

    removed: tuple[Unit, ...]
    added: tuple[Unit, ...]
    start_before: int  # index of the first statement of the hunk (or insertion point)
    start_after: int


@dataclass(frozen=True)
class Alignment:
    before: tuple[Unit, ...]
    after: tuple[Unit, ...]
    hunks: tuple[Hunk, ...]
    moved: int  # statements found elsewhere on the other side
    kept: int = 0  # statements kept in the same order on both sides (at least)

    @property
    def replaced(self) -> bool:
        """Most of the text is new or shuffled: under a quarter of the longer version, and under
        half of the shorter one, stayed in place."""
        longer = max(len(self.before), len(self.after))
        shorter = min(len(self.before), len(self.after))
        return longer >= 20 and self.kept < longer / 4 and self.kept < shorter / 2


def _dmp() -> diff_match_patch:
    dmp = diff_match_patch()
    # No clock: the bound is _MAX_EDITS, checked before diffing. A timeout that is never
    # reached (rather than 0) keeps dmp's half-match speed-up, which is deterministic.
    dmp.Diff_Timeout = 1e9
    return dmp


def diff_sequences(
    a: Sequence[str], b: Sequence[str], *, semantic: bool = False
) -> list[tuple[int, list[str]]]:
    """Diff two token sequences (dmp line mode: each distinct token becomes one character)."""
    table: dict[str, str] = {}
    back: list[str] = []

    def encode(tokens: Sequence[str]) -> str:
        chars = []
        for t in tokens:
            c = table.get(t)
            if c is None:
                n = len(back) + 1
                c = chr(n + 0x800 if n + 0x800 < 0xD800 else n + 0x1000)
                table[t] = c
                back.append(t)
            chars.append(c)
        return "".join(chars)

    if len(a) + len(b) - 2 * kept_in_order(a, b) > _MAX_EDITS:
        return _coarse(a, b)
    dmp = _dmp()
    ops = dmp.diff_main(encode(a), encode(b), False)
    if semantic:
        dmp.diff_cleanupSemantic(ops)
    lookup = {c: t for t, c in table.items()}
    return [(op, [lookup[c] for c in chars]) for op, chars in ops]


def _coarse(a: Sequence[str], b: Sequence[str]) -> list[tuple[int, list[str]]]:
    """Common head and tail kept, everything between removed and added: a diff with no search."""
    head = _common(a, b)
    tail = _common(a[head:][::-1], b[head:][::-1])
    ops = [(0, list(a[:head])), (-1, list(a[head:len(a) - tail])),
           (1, list(b[head:len(b) - tail])), (0, list(a[len(a) - tail:]))]
    return [(op, tokens) for op, tokens in ops if tokens]


def diff_words(before: str, after: str) -> list[Op]:
    """dmp-style ops (-1, 0, 1) at word granularity after semantic cleanup; a word is what
    white space delimits, so an e-mail address or a number changes whole."""
    ops = diff_sequences(_SPACED.findall(before), _SPACED.findall(after), semantic=True)
    return [(op, "".join(tokens)) for op, tokens in ops if tokens]


Run = tuple[bool, str]  # (changed?, text)


def marked(before: str, after: str) -> tuple[list[Run], list[Run]]:
    """Two versions of a sentence as runs of text, the words that changed flagged: in
    `before` the words removed, in `after` the words added (for "changed" findings). A word
    is what white space delimits, so an e-mail address or a number is marked whole."""
    ops = diff_words(before, after)
    return (_runs([(op < 0, t) for op, t in ops if op <= 0]),
            _runs([(op > 0, t) for op, t in ops if op >= 0]))


def _runs(parts: list[Run]) -> list[Run]:
    out: list[Run] = []
    for changed, text in parts:
        if out and out[-1][0] == changed:
            out[-1] = (changed, out[-1][1] + text)
        else:
            out.append((changed, text))
    return out


def align(before: str | Sequence[Unit], after: str | Sequence[Unit]) -> Alignment:
    """Changed places between two versions, moved statements taken out."""
    memo: dict = {}
    ub = tuple(units(before, memo) if isinstance(before, str) else before)
    ua = tuple(units(after, memo) if isinstance(after, str) else after)
    kb, ka = [u.key for u in ub], [u.key for u in ua]
    kept = kept_in_order(kb, ka)
    if len(kb) + len(ka) - 2 * kept > _MAX_EDITS:  # reordered or replaced: one hunk
        head = _common(kb, ka)
        tail = _common(kb[head:][::-1], ka[head:][::-1])
        ops = [(0, kb[:head]), (-1, kb[head : len(kb) - tail]), (1, ka[head : len(ka) - tail])]
        ops.append((0, kb[len(kb) - tail :]))
    else:
        ops = diff_sequences(kb, ka)
    spare_b = Counter(u.key for u in ub) - Counter(u.key for u in ua)
    spare_a = Counter(u.key for u in ua) - Counter(u.key for u in ub)
    hunks: list[Hunk] = []
    moved = ib = ia = 0
    removed: list[Unit] = []
    added: list[Unit] = []
    start = (0, 0)
    for op, keys in ops:
        if op == 0:
            if removed or added:
                hunks.append(Hunk(tuple(removed), tuple(added), *start))
                removed, added = [], []
            ib += len(keys)
            ia += len(keys)
            start = (ib, ia)
            continue
        side, spare, out = (ub, spare_b, removed) if op < 0 else (ua, spare_a, added)
        pos = ib if op < 0 else ia
        for j in range(len(keys)):
            unit = side[pos + j]
            if spare[unit.key] > 0:
                spare[unit.key] -= 1
                out.append(unit)
            else:
                moved += 1
        if op < 0:
            ib += len(keys)
        else:
            ia += len(keys)
    if removed or added:
        hunks.append(Hunk(tuple(removed), tuple(added), *start))
    return Alignment(ub, ua, tuple(hunks), moved, kept)


def kept_in_order(a: Sequence[str], b: Sequence[str]) -> int:
    """How many items of `a` are found in `b` in the same order: the n-th occurrence of an item
    matched with its n-th occurrence on the other side, the longest increasing run of their
    places (a lower bound of the longest common subsequence, near it for edited texts)."""
    places: defaultdict[str, deque[int]] = defaultdict(deque)
    for j, x in enumerate(b):
        places[x].append(j)
    tails: list[int] = []
    for x in a:
        if places[x]:
            j = places[x].popleft()
            i = bisect.bisect_left(tails, j)
            tails[i : i + 1] = [j]
    return len(tails)


def _common(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the common prefix."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def word_counts(hunks: Sequence[Hunk]) -> dict[str, int]:
    """Words inserted and deleted by the word-level diff of the changed statements (statements
    that only moved are not in any hunk, so moved text is never counted); for many words, those
    not kept in order (`kept_in_order`), and for a rewrite all of them, with no diff."""
    # the statements' keys are their words (markers and same-meaning phrases aside): enough to
    # tell a rewrite (thousands of words without a counterpart), whose words all count
    gone = Counter(w for h in hunks for u in h.removed for w in u.key.split())
    new = Counter(w for h in hunks for u in h.added for w in u.key.split())
    if (new - gone).total() + (gone - new).total() > _MAX_EDITS:
        return {"words_added": new.total(), "words_removed": gone.total()}
    removed_words = words(" ".join(_joined(h.removed) for h in hunks))
    added_words = words(" ".join(_joined(h.added) for h in hunks))
    if len(removed_words) + len(added_words) > _MAX_WORDS:  # no diff: the words kept in order
        kept = kept_in_order(removed_words, added_words)
        return {"words_added": len(added_words) - kept, "words_removed": len(removed_words) - kept}
    counts = {-1: 0, 0: 0, 1: 0}
    for op, tokens in diff_sequences(removed_words, added_words):  # across hunks: a statement
        counts[op] += len(tokens)  # both moved and edited is diffed with its old self
    return {"words_added": counts[1], "words_removed": counts[-1]}


def render_diff(before: str, after: str, *, color: bool = False, context: int = 2) -> str:
    """Changed statements only, word by word, with `context` unchanged statements around them."""
    al = align(before, after)
    parts: list[str] = []
    for h in al.hunks:
        lead = al.before[max(0, h.start_before - context) : h.start_before]
        end_b = h.start_before + len(h.removed)
        tail = al.before[end_b : end_b + context]
        section = (h.removed or h.added)[0].section
        lines = [f"@@ {section} @@" if section else "@@"]
        lines += [_dim(u.text, color) for u in lead]
        lines.append(_render_ops(diff_words(_joined(h.removed), _joined(h.added)), color))
        lines += [_dim(u.text, color) for u in tail]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def _joined(us: Sequence[Unit]) -> str:
    return " ".join(u.text for u in us)


def _dim(text: str, color: bool) -> str:
    return f"{_DIM}  {text}{_RESET}" if color else f"  {text}"


def _render_ops(ops: list[Op], color: bool) -> str:
    out = []
    for op, text in ops:
        if op == 0:
            out.append(text)
        elif color:
            out.append(f"{_RED if op < 0 else _GREEN}{text}{_RESET}")
        else:
            out.append(f"[-{text}-]" if op < 0 else f"{{+{text}+}}")
    return "  " + "".join(out)


def pair_statements(
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


def word_changes(wb: list[str], wa: list[str]) -> tuple[list[str], list[str]]:
    dele: list[str] = []
    ins: list[str] = []
    for op, tokens in diff_sequences(wb, wa):
        (dele if op < 0 else ins if op > 0 else []).extend(tokens)
    return dele, ins


def typo_only(dele: list[str], ins: list[str]) -> bool:
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
