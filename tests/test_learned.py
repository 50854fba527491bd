"""The learned classifier: its model, its languages and its verdicts on real files.

Cases in `tests/data/learned/<case>/` (before.md, after.md, expected.json), in English, French and
German; German has no model training behind it, only `monitor/data/lang/de.toml`: adding a
language is adding data.
"""

from __future__ import annotations

import json
import lzma
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from monitor.classify import classify, load
from monitor.classify.learned import LearnedClassifier, section_of
from monitor.classify.learned_lang import detect, languages
from monitor.classify.learned_model import DIM, Model, features, model
from monitor.records import CATEGORIES
from monitor.sections import units

ROOT = Path(__file__).parent.parent
DATA = Path(__file__).parent / "data" / "learned"
CASES = sorted(p for p in DATA.iterdir() if (p / "expected.json").exists())
CORPUS = ROOT.parent / "shared" / "corpus" / "policies.jsonl.xz"


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_cases(case: Path) -> None:
    want = json.loads((case / "expected.json").read_text())
    before = (case / "before.md").read_text()
    after = (case / "after.md").read_text()
    got = classify(before, after, "learned")
    assert got.major is want["major"], got.findings
    assert list(got.categories) == [c for c in CATEGORIES if c in want["categories"]]
    assert got.stats["language"] == want["language"]
    assert got.classifier == "learned" and got.classifier_version.startswith("1.")
    for f in got.findings:  # whole sentences, and a heading for a section
        assert f.before or f.after
        for text in (f.before, f.after):
            assert not text or text in before + after or text in _texts(before, after)
        assert f.section and "@" not in f.section


def _texts(before: str, after: str) -> str:
    return "\n".join(u.text for u in units(before) + units(after))


def test_backend_is_registered() -> None:
    judge = load("learned")
    assert isinstance(judge, LearnedClassifier)
    assert judge.name == "learned"


def test_language_detection() -> None:
    assert detect("We collect your data and we share it with our partners.").code == "en"
    assert detect("Nous collectons vos données et nous les partageons avec nos partenaires.").code \
        == "fr"
    assert detect("Wir erheben Ihre Daten und geben sie nicht an Dritte weiter.").code == "de"
    assert set(languages()) >= {"en", "fr", "de"}


def test_heading_cues_are_data() -> None:
    de = languages()["de"]
    assert de.heading_categories("Speicherdauer") == ("retention",)
    assert languages()["fr"].heading_categories("Vos droits") == ("rights",)
    assert languages()["en"].heading_categories("Cookies") == ()  # off-topic
    assert languages()["en"].heading_categories("Wilmslow, Cheshire") is None


def test_section_is_a_real_heading_not_an_address_line() -> None:
    text = "# Contact us\n\nAcme Ltd\n\nWilmslow, Cheshire SK9 5AF\n\nWrite to privacy@acme.com.\n"
    last = units(text)[-1]
    assert section_of(last) == "Contact us"


def test_runtime_scores_match_a_reference_computation() -> None:
    """The plain-Python scoring equals a direct computation from the weights file with numpy
    (the same computation scikit-learn's decision_function does)."""
    np = pytest.importorskip("numpy")
    m = model()
    body = _model_path().read_bytes().partition(b"\n")[2]
    w = np.frombuffer(zlib.decompress(body), dtype="<i2").astype(np.float64)
    w = w.reshape(DIM, len(m.categories)) * m.scale
    for text in ("We may sell your personal information to data brokers.",
                 "Vos données sont conservées pendant trois ans.",
                 "Contact our Data Protection Officer at dpo@example.com."):
        f = features(text)
        x = np.zeros(DIM)
        for h, v in f.items():
            x[h] = v
        want = 1 / (1 + np.exp(-(x @ w + np.array(m.bias))))
        assert np.allclose(m.scores([text])[0], want, atol=1e-6)


def _model_path() -> Path:
    from monitor.classify import learned_model

    return learned_model.PATH


def test_model_knows_both_languages() -> None:
    m = model()
    idx = {c: i for i, c in enumerate(m.categories)}
    s = m.scores([
        "We may share your personal information with advertising partners.",
        "Vos données sont conservées pendant 3 ans après votre dernière commande.",
        "Our services are not directed to children under 13.",
        "Vos données peuvent être transférées vers des pays hors de l'Union européenne.",
    ])
    assert max(s[0], key=float) == s[0][idx["recipients"]]
    assert max(s[1], key=float) == s[1][idx["retention"]]
    assert max(s[2], key=float) == s[2][idx["children"]]
    assert max(s[3], key=float) == s[3][idx["transfer"]]


@pytest.mark.skipif(not CORPUS.exists(), reason="the corpus is not beside the repository")
def test_rebuild_command_on_a_slice_matches_training(tmp_path: Path) -> None:
    """The one training command rebuilds a model (here from 12 policies, without refitting the
    decision), and the model read back at run time gives scikit-learn's own probabilities."""
    pytest.importorskip("sklearn")
    out = tmp_path / "slice.model"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "train_classifier.py"), "--limit", "12",
         "--no-fit", "--out", str(out)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "model version 1." in proc.stdout
    rebuilt = Model(out)
    assert rebuilt.categories == CATEGORIES
    # the same slice trained in process with scikit-learn: its probabilities, our scores
    sys.path.insert(0, str(ROOT / "tools"))
    import numpy as np
    import train_classifier as tc

    examples = tc.corpus_examples(12) + tc.evidence_examples()
    texts = [t for t, _, _ in examples][:40]
    x = tc.matrix([t for t, _, _ in examples])
    weights, bias = tc.train(x, examples)
    logits = tc.matrix(texts) @ weights + bias
    want = 1 / (1 + np.exp(-np.clip(logits, -50, 50)))
    got = np.array(rebuilt.scores(texts))
    assert np.abs(got - want).max() < 0.01  # 16-bit weights


def test_same_verdict_every_time() -> None:
    case = DATA / "fr_retention"
    before, after = (case / "before.md").read_text(), (case / "after.md").read_text()
    first = LearnedClassifier().classify(before, after)
    assert all(LearnedClassifier().classify(before, after) == first for _ in range(3))


def test_corpus_slice_is_quiet_when_rewrapped_and_dated() -> None:
    """Real policies from the corpus, re-wrapped and with a new date line: no alert."""
    if not CORPUS.exists():
        pytest.skip("the corpus is not beside the repository")
    import textwrap

    with lzma.open(CORPUS, "rt", encoding="utf-8") as f:
        docs = [json.loads(next(f))["text"] for _ in range(10)]
    for text in docs:
        text = text[:20000]
        paras = text.split("\n\n")
        # plain paragraphs re-wrapped at 72 columns (Markdown structure and links left as
        # they are: a link cut over two lines is another text for the statement splitter)
        wrapped = "\n\n".join(
            p if p.lstrip().startswith(("#", "|", "-", "*")) or "](" in p
            else textwrap.fill(p, 72, break_long_words=False, break_on_hyphens=False)
            for p in paras
        )
        got = classify("Last updated: May 1, 2023\n\n" + text,
                       "Last updated: June 2, 2024\n\n" + wrapped, "learned")
        assert not got.major, got.findings[:3]


def test_an_edit_after_hundreds_of_typo_fixes_is_still_found():
    """The work bound never hides a major change: when the first statements show nothing, the
    rest is read too."""
    from monitor.classify import classify as run

    lines = [f"Nous utilisons vos donnees pour le service numero {i} de la plateforme."
             for i in range(450)]
    before = "# Politique de confidentialité\n\n" + "\n\n".join(lines) + \
        "\n\n## Partage\n\nNous ne partageons pas vos données personnelles avec des tiers.\n"
    fixed = [line.replace("donnees", "données") for line in lines]
    after = "# Politique de confidentialité\n\n" + "\n\n".join(fixed) + \
        "\n\n## Partage\n\nNous vendons vos données personnelles à des courtiers en données.\n"
    result = run(before, after, backend="learned")
    assert result.major
