"""Rebuild the zstd dictionary the store compresses policy texts with.

    uv run python tools/train_dictionary.py [--check]

Trained on every other policy of ../shared/corpus (the 1st, 3rd, ...); the others are kept out
and the compression ratio on both halves is printed (zlib level 1, the store's old format, for
comparison). The dictionary ships in monitor/data/zstd/policies.dict; the same corpus gives the
same bytes.
"""

from __future__ import annotations

import argparse
import json
import lzma
import zlib
from pathlib import Path

import zstandard

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "policies.jsonl.xz"
OUT = ROOT / "monitor" / "data" / "zstd" / "policies.dict"
SIZE = 64 * 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="report only; write nothing")
    a = ap.parse_args()
    with lzma.open(CORPUS, "rt", encoding="utf-8") as f:
        docs = [json.loads(line)["text"].encode("utf-8") for line in f]
    trained, kept = docs[0::2], docs[1::2]
    dictionary = zstandard.train_dictionary(SIZE, trained, level=19, threads=1, dict_id=0x504D3031)
    if not a.check:
        OUT.write_bytes(dictionary.as_bytes())
        print(f"wrote {OUT.relative_to(ROOT)} ({len(dictionary.as_bytes())} bytes)")
    compressor = zstandard.ZstdCompressor(level=3, dict_data=dictionary)
    for name, half in (("trained on", trained), ("kept out", kept)):
        raw = sum(map(len, half))
        ours = sum(len(compressor.compress(d)) for d in half)
        old = sum(len(zlib.compress(d, 1)) for d in half)
        print(f"{name:10} {len(half)} policies, {raw / len(half) / 1024:.1f} KB each: "
              f"zstd+dictionary {ours / raw:.3f} of the size, zlib-1 {old / raw:.3f}")


if __name__ == "__main__":
    main()
