"""Differ and statement parsing: pure functions over text."""

import random
from pathlib import Path

from monitor.differ import align, diff_words, kept_in_order, render_diff, word_counts
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


def test_kept_in_order_counts_statements_left_in_place():
    assert kept_in_order(list("abcde"), list("abXde")) == 4
    assert kept_in_order(list("abcde"), list("edcba")) == 1
    assert kept_in_order(list("aab"), list("aba")) == 2  # n-th occurrence matched with n-th


def test_shuffled_text_is_one_hunk_without_statement_diff():
    sentences = [f"We keep record number {i} of your data for backups." for i in range(3000)]
    shuffled = sentences[:]
    random.Random(1).shuffle(shuffled)
    al = align("\n\n".join(sentences[:2500]), "\n\n".join(shuffled))
    assert al.replaced and len(al.hunks) == 1
    assert len(al.hunks[0].added) == 500 and not al.hunks[0].removed  # the rest only moved
    assert word_counts(al.hunks)["words_added"] > 0


def test_edited_text_is_not_replaced():
    text = (POLICIES / "wemet.txt").read_text()
    al = align(text, text.replace("personal", "private", 3))
    assert not al.replaced and al.kept >= len(al.before) - 3


def test_paragraph_cut_mid_sentence_is_one_statement():
    line = "x" * 50
    text = f"{line}\n\nWe will keep your verification\n\nphoto to scan it.\n\n"
    text += "All the data we collect is shared with\n\nGoogle.\n\nShared with\n\nAcme."
    texts = [u.text for u in units(text)]
    assert "We will keep your verification photo to scan it." in texts
    assert "All the data we collect is shared with Google." in texts
    assert "Shared with" in texts  # a short paragraph (a label, a menu entry) stays apart


def test_headings_list_items_and_table_rows_stay_apart_from_cut_paragraphs():
    long = "We collect the following information about the people who use the service and"
    text = f"{long}\n\n- your name\n\n{long}\n\n| a | b |\n\n# Cookies\n\n{long}\n\n## more"
    got = [(u.text, u.heading) for u in units(text)]
    assert ("- your name", False) in got and ("# Cookies", True) in got and ("## more", True) in got
    assert sum(1 for t, _ in got if t == long) == 3
