"""Differ and statement parsing: pure functions over text."""

from pathlib import Path

from monitor.differ import align, diff_words, render_diff
from monitor.sections import clean, split_sentences, strip_marker, units

POLICIES = Path(__file__).parent.parent / "monitor" / "data" / "policies"


def test_diff_words_rebuilds_both_sides():
    before, after = "We keep data for 30 days.", "We keep your data for 90 days."
    ops = diff_words(before, after)
    assert "".join(t for op, t in ops if op <= 0) == before
    assert "".join(t for op, t in ops if op >= 0) == after
    assert (1, "your ") in ops or any(op == 1 and "your" in t for op, t in ops)


def test_diff_words_identical_is_one_equal_op():
    assert diff_words("same text", "same text") == [(0, "same text")]


def test_render_diff_marks_only_changed_statements():
    before = "# Contact\n\nWrite to a@x.org.\n\nWe never sell data.\n"
    after = "# Contact\n\nWrite to b@x.org.\n\nWe never sell data.\n"
    out = render_diff(before, after, context=0)
    assert "[-a@x.org.-]" in out or "[-a-]" in out
    assert "{+" in out and "@@ Contact @@" in out
    assert "never sell" not in out


def test_render_diff_color_uses_ansi():
    out = render_diff("We keep data.", "We sell data.", color=True)
    assert "\x1b[31m" in out and "\x1b[32m" in out


def test_rewrapped_text_aligns_without_hunks():
    import textwrap

    text = (POLICIES / "wemet.txt").read_text()
    wrap = lambda w: "\n".join("\n".join(textwrap.wrap(line, w)) for line in text.splitlines())  # noqa: E731
    assert align(wrap(72), wrap(95)).hunks == ()


def test_moved_paragraph_is_not_a_hunk():
    a = "# A\n\nFirst point here.\n\n# B\n\nSecond point here.\n"
    b = "# B\n\nSecond point here.\n\n# A\n\nFirst point here.\n"
    al = align(a, b)
    assert al.hunks == () and al.moved > 0


def test_numbering_styles_are_stripped():
    for line in (
        "1. Scope",
        "1.1 Scope",
        "(I) Scope",
        "IV. Scope",
        "1\u3001Scope",
        "1) Scope",
        "(a) Scope",
        "# Scope",
        "- Scope",
    ):
        assert strip_marker(line).strip() == "Scope", line


def test_units_carry_section_headings():
    us = units("1. Who we are\nWe are Acme. We run the site.\n2. Your rights\nYou may ask.\n")
    assert [u.section for u in us if not u.heading] == ["Who we are", "Who we are", "Your rights"]


def test_setext_heading():
    us = units("Requests from authorities\n-------------------------\n\nWe tell you first.\n")
    assert us[0].heading and us[1].section == "Requests from authorities"


def test_sentences_do_not_split_on_abbreviations():
    assert split_sentences("We share with Acme Inc. and e.g. partners. Then stop.") == [
        "We share with Acme Inc. and e.g. partners.",
        "Then stop.",
    ]


def test_clean_fixes_mojibake_links_and_quotes():
    assert clean("childâ€™s") == "child's"
    assert clean('see [our notice](https://x.org/a "t")') == "see our notice"
    assert clean("\u201cquoted\u201d") == '"quoted"'
