"""Properties of classify that must hold for any text."""

import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.classify import classify

POLICY = (
    Path(__file__).parent.parent / "monitor" / "data" / "policies" / "wigo-live.txt"
).read_text()
PARAGRAPHS = [p for p in POLICY.splitlines() if p.strip()]
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

excerpts = st.integers(0, len(PARAGRAPHS) - 8).map(lambda i: "\n".join(PARAGRAPHS[i : i + 8]))


@FAST
@given(st.one_of(st.text(max_size=400), excerpts))
def test_identical_texts_have_no_findings(text):
    c = classify(text, text)
    assert not c.major and c.findings == ()


@FAST
@given(excerpts, st.integers(0, 2**32))
def test_whitespace_perturbation_is_never_major(text, seed):
    rnd = random.Random(seed)
    spaced = "".join(
        ch + (" " * rnd.randint(1, 3) if ch == " " and rnd.random() < 0.3 else "") for ch in text
    )
    spaced = spaced.replace("\n", "\n\n" if rnd.random() < 0.5 else "\n")
    assert not classify(text, spaced).major


@FAST
@given(excerpts, st.sampled_from([str.upper, str.lower, str.title]))
def test_case_perturbation_is_never_major(text, change):
    assert not classify(text, change(text)).major


@FAST
@given(st.text(max_size=300), st.text(max_size=300))
def test_arbitrary_unicode_never_crashes(a, b):
    c = classify(a, b)
    assert isinstance(c.major, bool) and c.to_dict()["categories"] == list(c.categories)
