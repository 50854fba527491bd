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
from monitor.extract import (
    MAX_CHARS,
    MAX_PDF_PAGES,
    check_selector,
    explain,
    extract,
    normalize,
    sniff_type,
)
from tests.conftest import pdf_file

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


# ------------------------------------------------------------------ class names are words

CHROME_NAMES = [  # (id or class, whether the element is chrome)
    ("sticky-top", False), ("position-sticky stickyContent", False), ("cmp-text", False),
    ("cmp-container", False), ("cookies", False), ("cookie-section", False),
    ("consent-withdrawal", False), ("ot-sdk-cookie-policy", False),
    ("CookieDeclaration", False), ("cmplz-document cmplz-cookie-policy", False),
    ("social-sharing", False), ("newsletter-data", False), ("copyright", False),
    ("cky-consent-container", True), ("onetrust-banner-sdk", True), ("qc-cmp2-container", True),
    ("CybotCookiebotDialog", True), ("didomi-host", True), ("usercentrics-root", True),
    ("cookie-banner", True), ("cookieBanner", True), ("gdpr-consent-popup", True),
    ("sp_message_container_123", True), ("truste-consent-track", True),
    ("BorlabsCookie", True), ("tarteaucitronRoot", True),
]


@pytest.mark.parametrize(("name", "chrome"), CHROME_NAMES, ids=[n for n, _ in CHROME_NAMES])
def test_class_and_id_names_are_read_as_words(name: str, chrome: bool) -> None:
    """`cky-` must not match `sticky-top`, nor `cmp` AEM's `cmp-text`; a section anchored
    `#cookies` is the policy's, a `cookie-banner` is not."""
    marker = "Marker sentence about retention of personal data for seven years."
    policy = "<p>" + "We collect and process personal data to provide the service. " * 30 + "</p>"
    for attribute in ("class", "id"):
        page = (f"<html><body><div class='page'><h1>Privacy</h1>{policy}"
                f"<div {attribute}='{name}'><p>{marker}</p></div></div></body></html>")
        assert (marker in extract(page.encode(), "text/html")) is not chrome, attribute


def test_a_state_of_the_page_is_no_name_of_an_element() -> None:
    page = ("<html><body class='modal-open'><div class='wrapper has-cookie-banner "
            "cookie-banner-visible'><h1>Privacy Policy</h1>"
            + "<p>We keep personal data for two years after your last order.</p>" * 20
            + "</div><div class='cookie-banner'><p>We use cookies.</p></div></body></html>")
    text = extract(page.encode(), "text/html")
    assert text.startswith("# Privacy Policy") and "We use cookies" not in text


def test_explain_says_what_was_dropped_and_why() -> None:
    page = (ROOT / "tests/data/extract/aem_components/input.html").read_bytes()
    result = explain(page, "text/html")
    assert result.text == extract(page, "text/html")
    reasons = {d.element: d.reason for d in result.dropped}
    assert reasons["div#onetrust-consent-sdk"] == "consent manager (onetrust)"
    assert "page footer" in reasons.values() and "page header" in reasons.values()
    assert all(d.words > 0 and d.text for d in result.dropped)


def test_a_policy_inside_a_dialog_still_gives_its_text() -> None:
    """No page holding a policy gives "no text": when the chrome rules would leave nothing,
    they are not used."""
    result = explain((ROOT / "tests/data/extract/consent_wrapper/input.html").read_bytes())
    assert result.fallback and "Data Protection Officer" in result.text


# ------------------------------------------------------------------ hostile pages are bounded

PARAGRAPH = "<p>We collect personal data to provide the service and keep it two years.</p>"


@pytest.mark.parametrize("tag", ["div", "span", "li", "section", "blockquote"])
@pytest.mark.parametrize("depth", [500, 3000])
def test_deep_nesting_gives_the_text(tag: str, depth: int) -> None:
    page = f"<html><body>{f'<{tag}>{PARAGRAPH}' * depth}{f'</{tag}>' * depth}</body></html>"
    text = extract(page.encode(), "text/html")
    assert text.count("We collect personal data") == depth


def test_deep_nesting_of_named_elements_gives_the_text() -> None:
    for name in ("nav-wrap", "cookie-banner", "site-header", "plain"):
        page = (f"<html><body>{f'<div class={name}>' * 5000}{PARAGRAPH * 20}"
                f"{'</div>' * 5000}</body></html>")
        assert extract(page.encode(), "text/html").count("We collect") == 20, name


def amplified_pdf(repeats: int) -> bytes:
    """A PDF of ~1 KB whose one page draws the same text form `repeats` times."""
    import zlib

    form = b"BT /F1 9 Tf 40 800 Td (" + b"We collect personal data. " * 8 + b") Tj ET"
    content = zlib.compress(b"q /X0 Do Q\n" * repeats, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources "
        b"<< /Font << /F1 5 0 R >> /XObject << /X0 6 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content
        + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources << /Font "
        b"<< /F1 5 0 R >> >> /Length %d >>\nstream\n" % len(form) + form + b"\nendstream"]
    return pdf_file(objects)


def test_a_pdf_that_repeats_its_text_is_stopped() -> None:
    """A ~1 KB file must not become megabytes of text (or minutes of pypdf)."""
    assert extract(amplified_pdf(3)).count("We collect personal data.") == 24
    body = amplified_pdf(1500)  # 300,000 characters from 1 KB
    assert len(body) < 2000
    with pytest.raises(ExtractError, match=r"PDF text too long at https://example.com/p.pdf: "
                                           r"over [\d,]+ characters from a file of [\d,]+ bytes"):
        extract(body, "application/pdf", url="https://example.com/p.pdf")
    with pytest.raises(ExtractError, match=r"PDF page 1 is built of 1,100,000 bytes of drawing "
                                           r"operators \(100,000 drawn forms or images\)"):
        extract(amplified_pdf(100_000))


def test_a_pdf_of_too_many_pages_is_refused() -> None:
    from tests.conftest import make_pdf

    book = make_pdf("\n".join(f"Chapter {n}" for n in range(MAX_PDF_PAGES + 1)), lines_a_page=1)
    with pytest.raises(ExtractError, match=f"PDF too long: {MAX_PDF_PAGES + 1} pages"):
        extract(book)


@pytest.mark.parametrize("content_type", ["text/html", "text/plain"])
def test_a_huge_text_is_refused_with_a_way_out(content_type: str) -> None:
    words = "personal data " * (MAX_CHARS // 14 + 10)
    body = f"<p>{words}</p>" if content_type == "text/html" else words
    with pytest.raises(ExtractError, match="text too long.*select"):
        extract(body.encode(), content_type)


def test_a_relative_time_is_written_as_its_date() -> None:
    """"Updated 1 year ago" becomes "2 years ago" with no edit: the <time>'s date is kept."""
    page = ('<main><h1>Privacy</h1><p>Updated <time datetime="2025-01-14T09:12:40Z">1 year '
            'ago</time>. Published <time datetime="2024-05-01">1 May 2024</time>.</p></main>')
    assert extract(page.encode(), "text/html") == (
        "# Privacy\n\nUpdated 2025-01-14. Published 1 May 2024.")


def test_an_open_dialog_is_chrome_unless_it_holds_the_policy() -> None:
    policy = "<h1>Privacy Policy</h1>" + "<p>We keep your e-mail address two years.</p>" * 30
    page = f"<body><main>{policy}</main><dialog open><p>We use cookies.</p></dialog></body>"
    assert "cookies" not in extract(page.encode(), "text/html")
    page = f"<body><dialog open>{policy}</dialog><dialog><p>Closed</p></dialog></body>"
    text = extract(page.encode(), "text/html")
    assert text.startswith("# Privacy Policy") and "Closed" not in text


def test_the_title_and_the_text_after_the_main_block_are_kept() -> None:
    """The document does not stop at the edges of <main>: a title in a banner before it, an
    annex or a representative's address after it; a block of links ends it."""
    body = "<p>We collect your name and e-mail address and keep them two years.</p>" * 10
    page = (f"<body><div class=site><div class=hero><div class=container><h1>Privacy</h1></div>"
            f"</div><main>{body}</main><div class=annex><p>EU representative: Rep Ltd, 4 Quay "
            f"St, Dublin 2.</p></div><div class=links><a href=/t>Terms</a> <a href=/c>Cookies"
            f"</a></div><p>Server time 12:00:01</p></div></body>")
    text = extract(page.encode(), "text/html")
    assert text.startswith("# Privacy\n\nWe collect")
    assert text.endswith("two years.\n\nEU representative: Rep Ltd, 4 Quay St, Dublin 2.")


def test_a_cookie_policy_in_a_consent_named_block_is_kept() -> None:
    """A consent prompt has buttons or toggles; the cookie policy around which a site put
    `<div id="cookie-consent">` has none, and holds most of the page: it is the document."""
    intro = "<p>Welcome to Example Shop, garden tools, seeds and pots online since 2009.</p>"
    policy = ('<div id="cookie-consent" class="cookie-consent-wrapper"><h1>Cookie Policy</h1>'
              + "<p>We set cookies to keep you signed in and, with your consent, to count "
                "visits.</p>" * 8 + "</div>")
    prompt = ('<div class="cookie-consent-banner"><p>We use cookies.</p>'
              '<label><input type="checkbox"> Analytics</label><button>Accept</button></div>')
    text = extract(f"<body>{intro}{policy}{prompt}</body>".encode(), "text/html")
    assert "# Cookie Policy" in text and text.count("We set cookies") == 8
    assert "We use cookies" not in text and "Analytics" not in text
