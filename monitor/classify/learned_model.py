"""What a statement is about: a linear model over hashed word and character n-grams.

The same `features` function serves training (`tools/train_classifier.py`, scikit-learn) and run
time (here, numpy only): words and word pairs, and character 3- to 5-grams inside words, each
hashed with CRC-32 into `DIM` buckets, log-scaled counts, the vector L2-normalised.  Character
n-grams carry over between English and French ('conserv', 'destinat', 'transf').  The model is
one logistic regression per category (one-vs-rest), shipped as a weight matrix quantised to
16-bit integers (zlib-compressed, a JSON header line before it) in
`monitor/data/model/learned.model`; `scores` gives for each statement a probability per category.
"""

from __future__ import annotations

import json
import math
import re
import sys
import zlib
from array import array
from collections import Counter
from operator import itemgetter, mul
from pathlib import Path

PATH = Path(__file__).resolve().parent.parent / "data" / "model" / "learned.model"
RARITY_PATH = PATH.with_name("rarity.bin")
DIM = 1 << 17
_WORD = re.compile(r"[^\W_]+")
_DIGITS = re.compile(r"\d")
_MAX_CHARS = 1000  # a statement longer than this is read from its start (bounded work)


def features(text: str) -> dict[int, float]:
    """Hashed n-gram features of a statement: bucket -> value (L2-normalised)."""
    toks = [_DIGITS.sub("0", w) for w in _WORD.findall(text[:_MAX_CHARS].lower())]
    grams: Counter[str] = Counter()
    for i, w in enumerate(toks):
        grams["w " + w] += 1
        if i:
            grams[f"b {toks[i - 1]} {w}"] += 1
        padded = f"<{w}>"
        n = len(padded)
        for size in (3, 4, 5):
            for j in range(n - size + 1):
                grams["c " + padded[j : j + size]] += 1
    out: dict[int, float] = {}
    for g, c in grams.items():
        h = zlib.crc32(g.encode("utf-8")) & (DIM - 1)
        out[h] = out.get(h, 0.0) + 1.0 + math.log(c)
    norm = math.sqrt(sum(v * v for v in out.values())) or 1.0
    return {h: v / norm for h, v in out.items()}


class Model:
    """Category scores for statements, from the shipped weights (plain Python: no numpy to
    import, so `monitor compare` starts fast)."""

    def __init__(self, path: Path = PATH) -> None:
        raw = path.read_bytes()
        head, _, body = raw.partition(b"\n")
        meta = json.loads(head)
        if meta["dim"] != DIM:
            raise ValueError(f"{path}: model built for {meta['dim']} features, not {DIM}")
        self.categories: tuple[str, ...] = tuple(meta["categories"])
        self.version: str = meta["version"]
        self.bias: list[float] = [float(b) for b in meta["bias"]]
        self.scale: float = float(meta["scale"])
        weights = array("h")
        weights.frombytes(zlib.decompress(body))
        if sys.byteorder != "little":
            weights.byteswap()
        self.weights = weights  # row-major (DIM, categories), int16 times `scale`

    def raw(self, text: str) -> list[float]:
        """The linear scores (log-odds) of one text, per category."""
        k = len(self.categories)
        f = features(text)
        if not f:
            return list(self.bias)
        vals = list(f.values())
        rows = [h * k for h in f]
        w = self.weights
        out = []
        for c, b in enumerate(self.bias):  # one C-level dot product a category
            column = itemgetter(*[r + c for r in rows])(w) if len(rows) > 1 else (w[rows[0] + c],)
            out.append(sum(map(mul, vals, column)) * self.scale + b)
        return out

    def scores(self, texts: list[str]) -> list[list[float]]:
        """Probability per category (in `categories` order) of each text."""
        return [[_sigmoid(z) for z in self.raw(t)] for t in texts]


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def write(path: Path, weights, bias, categories, version: str) -> None:
    """Write a model (weights: a numpy array (DIM, categories)); used by the training tool."""
    import numpy as np

    scale = float(np.abs(weights).max()) / 32767 or 1.0
    q = np.round(weights / scale).astype("<i2")
    head = json.dumps({"version": version, "dim": DIM, "categories": list(categories),
                       "bias": [round(float(b), 6) for b in bias], "scale": scale})
    path.write_bytes(head.encode() + b"\n" + zlib.compress(q.tobytes(), 9))


def word_bucket(word: str) -> int:
    return zlib.crc32(("w " + _DIGITS.sub("0", word)).encode("utf-8")) & (DIM - 1)


class Rarity:
    """How rare a word is in real policies (inverse document frequency over the corpus's
    statements, quantised to a byte per hashed word): 'information' weighs little, 'biometric'
    much.  A rewording that swaps common policy words changes little."""

    def __init__(self, path: Path = RARITY_PATH) -> None:
        raw = path.read_bytes()
        head, _, body = raw.partition(b"\n")
        meta = json.loads(head)
        self.scale: float = float(meta["scale"])
        self.table = zlib.decompress(body)

    def weight(self, word: str) -> float:
        return self.table[word_bucket(word)] * self.scale


def write_rarity(path: Path, idf, top: float) -> None:
    """Write the rarity table (idf: a numpy array of DIM values, clipped at `top`)."""
    import numpy as np

    q = np.clip(np.round(idf / top * 255), 0, 255).astype(np.uint8)
    head = json.dumps({"dim": DIM, "scale": top / 255})
    path.write_bytes(head.encode() + b"\n" + zlib.compress(q.tobytes(), 9))


_rarity: list[Rarity] = []


def rarity() -> Rarity:
    if not _rarity:
        _rarity.append(Rarity())
    return _rarity[0]


_current: list[Model] = []


def model() -> Model:
    """The shipped model, loaded once (or the one `use` put in its place)."""
    if not _current:
        _current.append(Model())
    return _current[0]


def use(replacement: Model | None) -> None:
    """Score with `replacement` (None: the shipped model again); for the training tool."""
    _current.clear()
    if replacement is not None:
        _current.append(replacement)
