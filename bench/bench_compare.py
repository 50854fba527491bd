"""Classifier speed: a 50 KB pair with 10 scattered edits (median, in process) and 1 MB pairs:
40 scattered edits, unrelated texts (the same paragraphs in another order and mix), and unrelated
texts where no paragraph repeats (every statement new: nothing cached, the most work).

usage: uv run python bench/bench_compare.py
"""

from __future__ import annotations

import random
import statistics
import time
from pathlib import Path

from monitor.classify import classify

POLICIES = Path(__file__).parent.parent / "monitor" / "data" / "policies"
EDITS = [
    ("third party", "data broker"),
    ("30 days", "5 years"),
    ("we will not", "we may"),
    ("personal information", "personal data"),
    ("email", "e-mail"),
]


def corpus(size: int, seed: int = 1, unique: str = "") -> str:
    """Paragraphs of the bundled policies, shuffled and repeated up to `size` characters (each
    marked '(unique 1)', '(unique 2)', ... when `unique` is given, so that none repeats)."""
    paragraphs = [
        p for f in sorted(POLICIES.glob("*.txt")) for p in f.read_text().splitlines() if p.strip()
    ]
    rnd = random.Random(seed)
    out: list[str] = []
    total = 0
    while total < size:
        p = rnd.choice(paragraphs)
        if unique:
            p = f"{p} ({unique} {len(out)})"
        out.append(p)
        total += len(p) + 2
    return "\n\n".join(out)


def edited(text: str, n: int, seed: int = 2) -> str:
    """`n` edits at scattered places: a replaced phrase or a new sentence in a paragraph."""
    rnd = random.Random(seed)
    paragraphs = text.split("\n\n")
    for i in rnd.sample(range(len(paragraphs)), n):
        old, new = rnd.choice(EDITS)
        p = paragraphs[i]
        paragraphs[i] = p.replace(old, new, 1) if old in p else p + " We may sell your data."
    return "\n\n".join(paragraphs)


def timed(before: str, after: str) -> float:
    start = time.perf_counter()
    classify(before, after)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    small = corpus(50_000)
    small_after = edited(small, 10)
    runs = [timed(small, small_after) for _ in range(15)]
    print(
        f"50 KB pair, 10 scattered edits: median {statistics.median(runs):.1f} ms "
        f"(min {min(runs):.1f}, max {max(runs):.1f}, {len(runs)} runs)"
    )
    big = corpus(1_000_000, seed=3)
    big_after = edited(big, 40, seed=4)
    print(f"1 MB pair, 40 scattered edits: {timed(big, big_after):.0f} ms")
    rewrite = edited(corpus(1_000_000, seed=5), 40)
    print(f"1 MB pair, unrelated texts (worst case): {timed(big, rewrite):.0f} ms")
    fresh = corpus(1_000_000, seed=6, unique="see note"), corpus(1_000_000, seed=7, unique="cf.")
    print(f"1 MB pair, unrelated texts, no paragraph repeated: {timed(*fresh):.0f} ms")


if __name__ == "__main__":
    main()
