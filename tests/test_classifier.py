"""Classifier: data-driven cases in tests/data/classify, the API contract and the entities."""

import json
from pathlib import Path

import pytest

from monitor.classify import classify
from monitor.classify.report import format_report
from monitor.entities import base_name, extract
from monitor.records import CATEGORIES, Classification, Finding

CASES = sorted((Path(__file__).parent / "data" / "classify").iterdir())


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case: Path):
    expected = json.loads((case / "expected.json").read_text())
    got = classify((case / "before.txt").read_text(), (case / "after.txt").read_text())
    assert (got.major, list(got.categories)) == (expected["major"], expected["categories"]), (
        expected["why"]
    )
    if not got.major:
        assert got.findings == ()


def test_findings_quote_both_sides_and_section():
    before = "1. Contact\nWrite to privacy@old.example for any question.\n"
    after = "1. Contact\nWrite to dpo@new.example for any question.\n"
    c = classify(before, after)
    assert c.major and c.categories == ("contact",)
    f = c.findings[0]
    assert f == Finding(
        "contact",
        "changed",
        "Write to privacy@old.example for any question.",
        "Write to dpo@new.example for any question.",
        "Contact",
    )


def test_added_and_removed_statements():
    base = "# Sharing\n\nWe use your data to run the service.\n"
    added = classify(base, base + "\nWe may sell your personal information to data brokers.\n")
    assert added.categories == ("recipients",) and added.findings[0].kind == "added"
    assert added.findings[0].before == ""
    removed = classify(base + "\nWe encrypt all data at rest and in transit.\n", base)
    assert removed.categories == ("security",) and removed.findings[0].kind == "removed"


def test_negation_flip_is_major():
    c = classify("We will not use your data for profiling.", "We may use your data for profiling.")
    assert c.major and c.categories == ("purpose",)


def test_cosmetic_changes_are_ignored_and_reported():
    c = classify(
        "Last updated: June 1, 2024\n\nWe highly value your privacy.",
        "Last updated: May 2, 2025\n\nWe greatly value your privacy.",
    )
    assert not c.major and c.ignored


def test_to_dict_and_report():
    c = classify("We keep data for 30 days.", "We keep data for 5 years.")
    d = c.to_dict()
    assert set(d) == {"major", "categories", "findings", "ignored", "stats", "classifier",
                      "classifier_version", "incomplete"}
    assert d["categories"] == ["retention"] and d["findings"][0]["category"] == "retention"
    assert "statements_judged" in d["stats"]
    assert d["classifier"] == "rules" and d["classifier_version"]
    json.dumps(d)
    report = format_report(c)
    assert (
        report.startswith("MAJOR change: Retention") and "before:" in report and "after:" in report
    )
    assert "\x1b[" in format_report(c, color=True)
    assert format_report(classify("a b c", "a b c")).startswith("No major change")


def test_categories_follow_declared_order():
    c = classify(
        "Email a@x.org. We store data in France.", "Email b@x.org. We store data in Brazil."
    )
    assert list(c.categories) == [x for x in CATEGORIES if x in c.categories]
    assert isinstance(c, Classification) and set(c.categories) == {"contact", "transfer"}


def test_entities():
    e = extract(
        "Mix Media Group, LLC. stores data in Singapore for 5 years; under 13;"
        " call +1 415 555 0100; dpo@mix.example; ISO 27001; updated 01/02/2013"
    )
    assert (
        set(e["org"]) == {"mix media group llc"} and base_name("mix media group llc") == "mix media"
    )
    assert set(e["place"]) == {"singapore"} and set(e["duration"]) == {"5 year"}
    assert set(e["age"]) == {"13"} and set(e["email"]) == {"dpo@mix.example"}
    assert set(e["phone"]) == {"14155550100"} and set(e["standard"]) == {"27001"}


def test_stats_count_words_added_and_removed_but_not_moved():
    before = "We keep data for 30 days.\n\nWe never sell data.\n\nContact us by post."
    after = "Contact us by post.\n\nWe keep data for 5 years.\n\nWe never sell data."
    stats = classify(before, after).stats
    assert (stats["words_added"], stats["words_removed"]) == (2, 2)
    assert {"statements_added", "statements_removed", "hunks", "statements_judged"} <= set(stats)


def test_postal_address_and_idioms():
    e = extract("Write to PO Box 5521, 45 Market Road, Cork or 660 4th Street, CA 94107.")
    assert {"po box 5521", "45 market road", "660 4th street", "ca 94107"} <= set(e["address"])
    polite = classify(
        "If you have questions, please feel free to contact us at any time.",
        "If you have questions, please do not hesitate to contact us at any time.",
    )
    assert not polite.major


def test_replaced_text_is_major_and_says_so():
    policies = Path(__file__).parent.parent / "monitor" / "data" / "policies"
    before = (policies / "believe.txt").read_text()
    after = (policies / "generic-services.txt").read_text()
    c = classify(before, after)
    assert c.major and c.findings[0].kind == "replaced" and c.findings[0].category == ""
    assert c.categories  # concrete evidence from the statements still names categories
    assert "text - replaced" in format_report(c)


def test_a_finding_names_its_section_by_a_heading_never_by_an_address_line():
    base = ("# Privacy Policy\n\nWe process your personal data as described below.\n\n"
            "## Contact us\n\nYou can write to our data protection officer.\n\n"
            "### Example Ltd\n\n### 1 High Street, Wilmslow, Cheshire SK9 5AF\n\n"
            "Email: {}\n")
    for backend in ("rules", "learned"):
        c = classify(base.format("dpo@example.co.uk"), base.format("privacy@example.co.uk"),
                     backend=backend)
        assert c.major and "contact" in c.categories, backend
        assert {f.section for f in c.findings} == {"Contact us"}, (backend, c.findings)
