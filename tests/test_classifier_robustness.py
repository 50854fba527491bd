"""A small deterministic sample of the robustness harness (bench/robustness.py): on the bundled
policies, cosmetic perturbations are never major and substantive edits raise their category."""

import importlib.util
import random
import re
import sys
from pathlib import Path

import pytest

from monitor.classify import classify

_PATH = Path(__file__).parent.parent / "bench" / "robustness.py"
_spec = importlib.util.spec_from_file_location("robustness", _PATH)
assert _spec and _spec.loader
rb = importlib.util.module_from_spec(_spec)
sys.modules["robustness"] = rb
_spec.loader.exec_module(rb)

POLICIES = sorted((Path(__file__).parent.parent / "monitor" / "data" / "policies").glob("*.txt"))
DOCS = {p.stem: p.read_text() for p in POLICIES}
COSMETIC = [
    "wrap60",
    "wrap72->95",
    "renumber",
    "swap_paragraphs",
    "heading_case",
    "typos",
    "date_line",
    "chrome_add",
    "synonyms",
    "pi<->pd",
    "link_churn",
]
SUBSTANTIVE = [
    "insert:purpose",
    "insert:data_types",
    "insert:recipients",
    "insert:controller",
    "insert:retention",
    "insert:security",
    "email",
    "age",
    "retention_duration",
    "company",
    "negation_flip",
]


def with_links(text: str) -> str:
    """The policy as a web page would have it: its headings and a few phrases linked."""
    text = re.sub(r"^(#+ )(.+)$", lambda m: f"{m[1]}[{m[2]}](https://example.org/"
                  f"{abs(hash(m[2])) % 1000}#{m[2][:8].lower().replace(' ', '-')})",
                  text, flags=re.M)
    for phrase in ("Privacy Policy", "privacy policy", "cookies", "Cookie Policy"):
        text = text.replace(phrase, f"[{phrase}](https://example.org/legal/"
                            f"{phrase.lower().replace(' ', '-')})", 3)
    return text


@pytest.mark.parametrize("kind", COSMETIC)
def test_cosmetic_perturbation_is_not_major(kind):
    made_any = 0
    for n, (name, text) in enumerate(sorted(DOCS.items())):
        if kind == "link_churn":
            text = with_links(text)
        made = rb.COSMETIC[kind](text, random.Random(n))
        if made is None:
            continue
        made_any += 1
        c = classify(*made)
        assert not c.major, (kind, name, [(f.category, f.before, f.after) for f in c.findings])
    assert made_any >= 2, f"{kind}: only {made_any} cases generated"


@pytest.mark.parametrize("kind", SUBSTANTIVE)
def test_substantive_edit_raises_its_category(kind):
    for n, (name, text) in enumerate(sorted(DOCS.items())):
        edit = rb.SUBSTANTIVE[kind](text, random.Random(n))
        if edit is None:
            continue
        c = classify(edit.before, edit.after)
        assert c.major and edit.category in c.categories, (kind, name, c.categories)


@pytest.mark.parametrize(
    "before, after",
    [
        # a number starting a re-wrapped line is no list item
        (
            "We do not knowingly collect personal information from children under the age of 16. "
            "Parents should supervise their children.",
            "We do not knowingly collect personal information from children under the age of\n"
            "16. Parents should supervise their children.",
        ),
        # a cookie banner and a copyright footer are page chrome
        (
            "We collect your name.",
            "We collect your name.\n\nBy continuing to browse the site, you are agreeing to our "
            "use of cookies.\n\nCopyright \u00a9 2025 Acme Inc. | Terms | Privacy",
        ),
        # rewording with the same meaning
        (
            "We highly value your privacy. We store your data in order to provide the service.",
            "We greatly value your privacy. We store your data to provide the service.",
        ),
    ],
)
def test_cosmetic_mechanisms(before, after):
    c = classify(before, after)
    assert not c.major and not c.findings, c.findings


@pytest.mark.parametrize(
    "before, after, category",
    [
        # a negation flip in a sentence ending with a '(read more)' link
        (
            "We do not and will not sell your data (read more).",
            "We may sell your data (read more).",
            "recipients",
        ),
        # a declarative sentence without pronoun or modal is a statement
        ("", "Solara Technologies LLC is the controller of the personal data.", "controller"),
        # a company named as the policy's author ('We, X, provide ...') is the controller
        (
            "We, Acme, Inc., provide this policy to explain how we use your personal data.",
            "We, Brightwave Media GmbH, provide this policy to explain how we use your "
            "personal data.",
            "controller",
        ),
        # a duration in a sentence about keeping data is retention, whatever the section
        (
            "## Respond to your request\n\nWe retain your account data for 30 days.",
            "## Respond to your request\n\nWe retain your account data for 2 years.",
            "retention",
        ),
    ],
)
def test_substantive_mechanisms(before, after, category):
    c = classify(before, after)
    assert c.major and category in c.categories, c.findings
