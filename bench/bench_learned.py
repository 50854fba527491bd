"""The learned classifier's speed: a 50 KB pair with 10 scattered edits (median of 5, in
process, model already loaded), 1 MB pairs (40 scattered edits; unrelated texts where no
paragraph repeats: every statement new, the most work), the model's loading, and `monitor
compare` as a command (median of 3).

usage: uv run python bench/bench_learned.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_compare import corpus, edited  # noqa: E402

from monitor.classify import classify  # noqa: E402

ROOT = Path(__file__).parent.parent


def timed(before: str, after: str) -> float:
    start = time.perf_counter()
    classify(before, after, "learned")
    return (time.perf_counter() - start) * 1000


def main() -> None:
    start = time.perf_counter()
    from monitor.classify.learned_model import model

    model()
    print(f"model load: {(time.perf_counter() - start) * 1000:.0f} ms")
    small = corpus(50_000)
    small_after = edited(small, 10)
    timed(small, small_after)  # warm the caches (regexes, lexicon)
    runs = [timed(small, small_after) for _ in range(5)]
    print(f"50 KB, 10 edits: {statistics.median(runs):.0f} ms (median of 5; target <= 50 ms)")
    big = corpus(1_000_000)
    print(f"1 MB, 40 edits: {timed(big, edited(big, 40)):.0f} ms (target <= 2000 ms)")
    print(f"1 MB, unrelated, every statement new: "
          f"{timed(corpus(1_000_000, 3, 'one'), corpus(1_000_000, 4, 'two')):.0f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        b, a = Path(tmp) / "before.md", Path(tmp) / "after.md"
        b.write_text(small)
        a.write_text(small_after)
        cmd = [str(Path(sys.executable).parent / "monitor"), "compare", str(b), str(a), "--json",
               "--classifier", "learned"]
        times = []
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run(cmd, capture_output=True, cwd=ROOT)
            times.append(time.perf_counter() - start)
        print(f"monitor compare (50 KB pair): {statistics.median(times):.2f} s "
              f"(median of 3; target <= 0.6 s)")


if __name__ == "__main__":
    main()
