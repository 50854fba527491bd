"""Extraction: data-driven cases, determinism across page chrome, and the real dev_html pages."""

from __future__ import annotations

import html
import json
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.errors import ExtractError
from monitor.extract import check_selector, extract, normalize, sniff_type

ROOT = Path(__file__).resolve().parent.parent
CASES = sorted(path for path in (ROOT / "tests/data/extract").iterdir() if path.is_dir())
POLICIES = sorted((ROOT / "monitor/data/policies").glob("*.txt"))
DEV_HTML = Path("/work/shared/eval/dev_html")


# ------------------------------------------------------------------ data-driven cases

@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_case(case: Path) -> None:
    """Each folder holds input.* (+ options.json: content_type, select, remove) and expected.md."""
    options_file = case / "options.json"
    options = json.loads(options_file.read_text()) if options_file.exists() else {}
    body = next(case.glob("input.*")).read_bytes()
    text = extract(body, options.get("content_type"), select=options.get("select"),
                   remove=options.get("remove", ()))
    assert text + "\n" == (case / "expected.md").read_text(encoding="utf-8")


# ------------------------------------------------------------------ the same policy, other chrome

def policy_blocks(text: str) -> list[tuple[str, str]]:
    """Read a sample policy as (tag, text) blocks: title, numbered headings, bullets, paragraphs."""
    lines = [line for line in (normalize(raw) for raw in text.splitlines()) if line]
    blocks = [("h1", lines[0])]
    for line in lines[1:]:
        if line.startswith(("•", "- ")):
            blocks.append(("li", line.lstrip("•- ")))
        elif len(line) < 90 and not line.endswith((".", ";", ":", ",")):
            blocks.append(("h3" if re.match(r"\d+\.\d+", line) else "h2", line))
        else:
            blocks.append(("p", line))
    return blocks


def policy_html(blocks: list[tuple[str, str]], *, sections: bool, indent: str) -> str:
    """The policy as HTML; `sections` wraps each h2 part in <section>, `indent` spaces tags."""
    out, in_list, in_section = [], False, False
    for tag, text in blocks:
        if in_list and tag != "li":
            out.append("</ul>")
            in_list = False
        if tag == "h2" and sections:
            out.append("</section>" if in_section else "")
            out.append(f'<section data-id="{len(out)}" class="policy-section">')
            in_section = True
        if tag == "li" and not in_list:
            out.append('<ul class="list">')
            in_list = True
        out.append(f"<{tag}>{html.escape(text)}</{tag}>")
    out.append("</ul>" if in_list else "")
    out.append("</section>" if in_section else "")
    return indent.join(out)


def expected_markdown(blocks: list[tuple[str, str]]) -> str:
    parts = []
    for index, (tag, text) in enumerate(blocks):
        if index:
            parts.append("\n" if tag == "li" and blocks[index - 1][0] == "li" else "\n\n")
        parts.append({"h1": "# ", "h2": "## ", "h3": "### ", "li": "- ", "p": ""}[tag] + text)
    return "".join(parts)


def chrome_pages(policy: str, rng: random.Random) -> list[str]:
    """The same policy in five page designs, with a clock, tokens and promotions that vary."""
    clock = f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
    token, nonce = f"{rng.getrandbits(64):016x}", f"{rng.getrandbits(32):08x}"
    promo = rng.choice(["50% off today only!", "Free shipping this week", "New: dark mode"])
    year = rng.choice([2023, 2024, 2025])
    script = f'<script nonce="{nonce}">window.__t="{token}";</script>'
    return [
        f"<!doctype html><html><head><title>Privacy</title></head><body><main>{policy}</main>"
        "</body></html>",
        f'<html lang="en"><head><title>Privacy Policy | Example {year}</title>{script}'
        f"<style>.x{{color:red}}</style></head><body>"
        f'<header class="site-header"><a href="/">Example</a><span class="clock">{clock}</span>'
        '<form action="/search"><input type="hidden" name="csrf" value="' + token + '">'
        '<input name="q"><button>Search</button></form></header>'
        '<nav><ul><li><a href="/">Home</a></li><li><a href="/blog">Blog</a></li></ul></nav>'
        f'<div class="promo-banner">{promo}</div>'
        f'<div id="content" class="container">{policy}</div>'
        f"<aside><h3>Related</h3><p>Read our terms, updated at {clock}.</p></aside>"
        f"<footer><p>© {year} Example Inc. All rights reserved.</p></footer>"
        f'<div id="onetrust-banner-sdk"><p>We use cookies. Session {token}.</p>'
        "<button>Accept all</button></div>"
        f"{script}</body></html>",
        f'<html><head><title>Example — privacy</title>{script}</head>\n<body class="page">\n'
        f'  <article>\n<nav class="toc"><a href="#a">Jump to section</a></nav>\n{policy}\n'
        "  </article>\n"
        '  <div role="dialog" aria-modal="true" class="settings">'
        + "<p>Our partners store and access information on your device. </p>" * 40
        + f'</div>\n<div id="didomi-host"><p>Your choices, {clock}</p></div>\n'
        f'<div class="modal" hidden><h2>Join our newsletter</h2><p>{promo}</p></div>\n'
        f"<footer>Copyright {year}</footer></body></html>",
        f'<html><body><div class="wrapper"><div class="top"><h1 class="logo"><a href="/">Ex</a>'
        '</h1><ul class="menu"><li><a href="/p">Products</a></li><li><a href="/c">Company</a>'
        f'</li></ul><span>{clock}</span></div><div class="body"><div class="rich">{policy}'
        f'</div></div><div class="bottom"><ul><li><a href="/t">Terms</a></li></ul>'
        f"<p>Session {token}</p></div></div></body></html>",
        f'<html><body class="modal-open"><form id="aspnetForm" method="post">'
        f'<input type="hidden" name="__VIEWSTATE" value="{token}">'
        f'<div class="qc-cmp2-container"><p>We and our {rng.randint(100, 900)} partners'
        " process data.</p></div>"
        f'<main><div class="promo-strip">{promo}</div>{policy}</main></form>{script}'
        "</body></html>",
    ]


@pytest.mark.parametrize("path", POLICIES, ids=[path.stem for path in POLICIES])
def test_same_policy_in_any_chrome_gives_identical_text(path: Path) -> None:
    blocks = policy_blocks(path.read_text(encoding="utf-8"))
    expected = expected_markdown(blocks)
    pages = []
    for seed, (sections, indent) in enumerate([(False, ""), (True, "\n    ")]):
        policy = policy_html(blocks, sections=sections, indent=indent)
        pages += chrome_pages(policy, random.Random(seed))
    texts = [extract(page.encode(), "text/html; charset=utf-8") for page in pages]
    for index, text in enumerate(texts):
        assert text == expected, f"page design {index % 5} (variant {index // 5}) differs"


def test_attribute_order_and_markup_spelling_do_not_matter() -> None:
    one = '<html><body><main><p class="a" id="b">We collect data.</p><br/><img src=x /></main>'
    two = "<HTML><BODY>\n<MAIN>\n<P id='b'   class='a'>We collect\n data.</P><br><IMG SRC=x></MAIN>"
    assert extract(one.encode()) == extract(two.encode()) == "We collect data."


# ------------------------------------------------------------------ the real pages

def dev_case(name: str) -> tuple[str, str]:
    folder = DEV_HTML / name
    if not folder.exists():
        pytest.skip(f"{folder} not available")
    return tuple(extract((folder / f"{side}.html").read_bytes(), "text/html")  # type: ignore
                 for side in ("before", "after"))


@pytest.mark.parametrize("name", ["h01", "h02", "h03", "h04", "h05", "h06", "h08", "h09", "h12"])
def test_dev_html_chrome_only_changes_give_identical_text(name: str) -> None:
    before, after = dev_case(name)
    assert before == after
    assert len(before) > 10_000


def test_dev_html_policy_changes_are_visible() -> None:
    before, after = dev_case("h07")
    assert "Effective Date: The earlier of 2023-06-22" in before
    assert "Effective Date: The earlier of 2024-09-15" in after
    assert "grindrbloop.com" in before and "grindrbloop.com" not in after
    before, after = dev_case("h10")
    intro = "The purpose of this Privacy Policy is to inform you about how HAPPN uses"
    assert intro in before and intro not in after
    before, after = dev_case("h11")
    assert "Last update: 16 February 2024" in before and "Last update: 16 July 2024" in after


def test_dev_html_text_is_the_policy_without_chrome() -> None:
    before, _ = dev_case("h01")
    assert before.startswith("## GRINDR PRIVACY AND COOKIE POLICY\n\nEffective Date:")
    assert before.endswith("(e.g., within the Services or via email).")
    assert "Accept All" not in before and "Cookie Notice" not in before
    happn, _ = dev_case("h06")
    assert happn.startswith("# Privacy policy") and "Was this article helpful" not in happn
    assert "dpo@happn.fr" in happn
    adopte, _ = dev_case("h08")
    assert adopte.startswith("à jour du 10/12/2021\n\n## Politique de confidentialité")


# ------------------------------------------------------------------ types, charsets, errors

@pytest.mark.parametrize(("body", "content_type", "kind"), [
    (b"%PDF-1.7\n...", None, "pdf"),
    (b"%PDF-1.7\n...", "text/html", "pdf"),
    (b"<html><p>x</p></html>", "application/pdf", "pdf"),
    (b"\xef\xbb\xbf  <!DOCTYPE html><html>", None, "html"),
    (b"<div>x</div>", "application/octet-stream", "html"),
    (b"<p>x</p>", "text/plain", "text"),
    (b"Privacy policy\n", None, "text"),
    (b"# Privacy\n", "text/markdown; charset=utf-8", "text"),
    (b"<html>", "application/xhtml+xml", "html"),
])
def test_sniff_type(body: bytes, content_type: str | None, kind: str) -> None:
    assert sniff_type(body, content_type) == kind


def test_charset_from_content_type_wins_over_meta() -> None:
    body = '<meta charset="utf-8"><p>Données</p>'.encode("iso-8859-1")
    assert extract(body, "text/html; charset=ISO-8859-1") == "Données"
    assert extract("<p>Données</p>".encode(), "text/html") == "Données"
    assert extract(b"<p>Donn\xe9es</p>", "text/html") == "Donn\ufffdes"


@pytest.mark.parametrize("body", [b"", b"   \n", b"<html><body><nav>Menu</nav></body></html>",
                                  b'<div id="root"></div><script>app()</script>',
                                  b"<body><noscript>Please enable JavaScript</noscript></body>"])
def test_no_text_raises(body: bytes) -> None:
    with pytest.raises(ExtractError, match="no text"):
        extract(body, "text/html", url="https://example.com/privacy")


def test_binary_and_broken_pdf_raise() -> None:
    with pytest.raises(ExtractError, match="binary"):
        extract(b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", "image/png")
    with pytest.raises(ExtractError, match="unreadable PDF"):
        extract(b"%PDF-1.4\nthis is not really a pdf", "application/pdf")


def test_select_that_matches_nothing_raises() -> None:
    with pytest.raises(ExtractError, match="matches nothing"):
        extract(b"<main><p>Policy</p></main>", "text/html", select="#policy")


def test_check_selector() -> None:
    check_selector("main article > div.policy, #terms [data-x='1']")
    for bad in ["", "   ", "div[", "a::", ">>"]:
        with pytest.raises(ValueError):
            check_selector(bad)


# ------------------------------------------------------------------ normalize

def test_normalize() -> None:
    raw = ("\ufeff\n\n  Caf\u0065\u0301 \u201cquoted\u201d it\u2019s\u00a0\u00a0x\u200b\u00ad  "
           "\r\n\n\n\nnext\t \n")
    assert normalize(raw) == "Café \"quoted\" it's x\n\nnext"
    assert normalize("Write to [email\u00a0protected] now") == "Write to [email protected] now"
    assert normalize("ﬁrst ＡＢＣ …") == "first ABC ..."


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300))
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@given(st.lists(st.sampled_from(["<p>", "</p>", "<li>", "<h2>", "</h2>", "<br>", "<b>", "</b>",
                                 "<table><tr><td>", "</td><td>", "word", " ", "\n", "privacy",
                                 "&nbsp;", "<div>", "</div>", "'", "\u2019"]), max_size=60))
def test_extract_output_is_normalized(parts: list[str]) -> None:
    try:
        text = extract("".join(parts).encode(), "text/html")
    except ExtractError:
        return
    assert normalize(text) == text


def test_import_is_light() -> None:
    code = ("import sys, monitor.extract, monitor.plausibility; "
            "print(sorted(m for m in ('pypdf', 'scrapy', 'twisted', 'trafilatura') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=ROOT)
    assert result.stdout.strip() == "[]"
