"""Plausibility: pages that are not the policy are told apart from real policies."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.errors import ExtractError
from monitor.extract import extract
from monitor.plausibility import assess

ROOT = Path(__file__).resolve().parent.parent
POLICIES = sorted((ROOT / "monitor/data/policies").glob("*.txt"))
DEV_HTML = sorted(Path("/work/shared/eval/dev_html").glob("h*/*.html"))


def page_text(html: str) -> str:
    """What the pipeline hands to assess: the extracted text ('' when extraction finds none)."""
    try:
        return extract(html.encode(), "text/html")
    except ExtractError:
        return ""


@pytest.mark.parametrize("path", POLICIES, ids=[path.stem for path in POLICIES])
def test_sample_policies_pass(path: Path) -> None:
    text = extract(path.read_bytes(), "text/plain")
    assert assess(text) is None
    assert assess(text, previous=text) is None


@pytest.mark.parametrize("path", DEV_HTML, ids=[f"{p.parent.name}-{p.stem}" for p in DEV_HTML])
def test_real_policy_pages_pass(path: Path) -> None:
    assert assess(extract(path.read_bytes(), "text/html")) is None


@pytest.mark.parametrize(("html", "reason"), [
    ("", "empty page"),
    ('<html><body><div id="root"></div><script src="/app.js"></script></body></html>',
     "empty page"),
    ('<html><body><div id="root"><p>You need to enable JavaScript to run this app.</p></div>'
     "<script>render()</script></body></html>", "javascript shell"),
    ("<html><body><header><a href=/>Home</a></header><main><h1>Page not found</h1><p>Sorry, "
     "the page you are looking for has moved or never existed.</p><p><a href=/>Go back home</a>"
     "</p></main></body></html>", "error page"),
    ("<main><h1>404</h1><p>This page could not be found.</p></main>", "error page"),
    ("<main><h1>Access denied</h1><p>You don't have permission to access this server. "
     "Reference #18.2f3e</p></main>", "error page"),
    ("<main><h1>Oops!</h1><p>Something went wrong. Please try again later.</p></main>",
     "error page"),
    ("<main><h1>Just a moment...</h1><p>Checking your browser before accessing example.com."
     "</p></main>", "error page"),
    ("<main><h1>Sign in to Example</h1><label>E-mail</label><input name=e><label>Password"
     "</label><input type=password><a href=/f>Forgot your password?</a><p>We respect your "
     "privacy.</p></main>", "login page"),
])
def test_pages_that_are_not_the_policy(html: str, reason: str) -> None:
    assert assess(page_text(html)) == reason


def test_home_page_with_little_text() -> None:
    html = ("<main><h1>Meet people near you</h1><p>Join millions of singles today. Download the "
            "app and start chatting in minutes.</p><p><a href=/privacy>Privacy</a> "
            "<a href=/terms>Terms</a></p></main>")
    assert assess(page_text(html)).startswith("too little text: ")


def test_long_text_without_policy_vocabulary() -> None:
    text = "Our summer collection is here. Discover dresses, shoes and bags for every day. " * 20
    assert assess(text) == "no privacy-policy vocabulary"


def test_truncated_policy_versus_previous_version() -> None:
    full = extract(POLICIES[0].read_bytes(), "text/plain")
    truncated = full[: len(full) // 5]
    assert assess(truncated) is None  # on its own it still looks like a policy
    assert assess(truncated, previous=full) == (
        f"policy text vanished: {len(truncated)} characters where the last version had "
        f"{len(full)}")
    assert assess(full[: len(full) * 2 // 3], previous=full) is None  # a big cut, not a loss


def test_error_words_inside_a_long_policy_do_not_count() -> None:
    policy = extract(POLICIES[-1].read_bytes(), "text/plain")
    text = policy + "\n\nIf you see 'access denied' or 'page not found', please enable JavaScript."
    assert assess(text) is None


def test_short_chinese_policy_counts_characters_as_words() -> None:
    text = ("隐私政策\n\n我们收集您的个人信息,包括您的姓名、电话号码和设备信息,"
            "用于提供服务、保障账户安全和改进产品。"
            "未经您的同意,我们不会向第三方共享您的个人信息。"
            "您可以随时访问、更正或删除您的个人信息。")
    assert assess(text) is None
