"""Is an extracted text plausibly the policy? Generic rules, for pages never seen before.

Nothing that fails here becomes a version: an error page or a JavaScript shell recorded as a
version would raise a false alarm now and a second one when the policy comes back.
"""

from __future__ import annotations

import re

# Policies mention such words too ("sign in with your password", "500 Market Street",
# "reCAPTCHA"), so they count only in texts that are very short, or short and barely about
# privacy: a real policy of 300 words names many policy terms, an error page hardly any.
VERY_SHORT_WORDS = 150
SHORT_WORDS = 400
POLICY_TERMS_OF_A_SHORT_POLICY = 3
MIN_WORDS = 80
VANISHED_SHARE = 0.35  # a text under this share of the last version's length lost the policy

_WORD = re.compile(r"\w+")
# CJK scripts do not separate words by spaces: count their characters instead.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")

_JAVASCRIPT = re.compile(
    r"enable javascript|javascript is (?:disabled|required|not enabled|turned off)|"
    r"requires? javascript|turn on javascript|activate javascript|javascript must be enabled|"
    r"browser (?:is )?not supported|activer? (?:le )?javascript|javascript aktivieren", re.I)
_ERROR = re.compile(
    r"page not found|not be found|\b(?:error|http|status)\s*(?:40[0-9]|50[0-9])\b|"
    r"\b(?:40[0-9]|50[0-9])\s*(?:error|not found|forbidden)|access denied|"
    r"access forbidden|something went wrong|an error (?:has )?occurred|internal server error|"
    r"service (?:temporarily )?unavailable|bad gateway|"
    r"page (?:you requested )?(?:does not|doesn't) exist|"
    r"no longer available|under maintenance|are you a robot|verify you are human|"
    r"checking your browser|just a moment|attention required|too many requests|"
    r"rate limit exceeded|"
    r"page introuvable|erreur 404|seite nicht gefunden|página no encontrada", re.I)
_LOGIN = re.compile(
    r"\b(?:sign in|log in|login|sign up)\b.*\bpassword\b|"
    r"\bpassword\b.*\b(?:sign in|log in|login)\b|forgot (?:your )?password", re.I | re.S)
# Policy vocabulary in the languages we meet most; two different terms are required.
_POLICY_TERMS = re.compile(
    r"personal (?:data|information)|privacy|data protection|\bcollect|\bprocess|third[- ]part|"
    r"\bcookies?\b|\bconsent\b|\bretain|\bretention|controller|\bdisclos|your rights|"
    r"données personnelles|données à caractère personnel|confidentialité|\btraitement|"
    r"datenschutz|personenbezogen|datos personales|privacidad|dati personali|"
    r"dados pessoais|persoonsgegevens|个人信息|隐私|個人情報|プライバシー|개인정보", re.I)


def assess(text: str, previous: str | None = None) -> str | None:
    """None when `text` plausibly is the policy; else a short reason, such as 'empty page',
    'error page', 'javascript shell' or 'policy text vanished: 412 characters where the
    last version had 30211'. `previous` is the text of the last version, if any."""
    words = _count_words(text)
    if words == 0:
        return "empty page"
    if words < VERY_SHORT_WORDS or (
            words < SHORT_WORDS and not _has_policy_terms(text, POLICY_TERMS_OF_A_SHORT_POLICY)):
        reason = _short_page_reason(text)
        if reason:
            return reason
    if words < MIN_WORDS:
        return f"too little text: {words} words"
    if not _has_policy_terms(text, 2):
        return "no privacy-policy vocabulary"
    if previous and _count_words(previous) >= MIN_WORDS:
        if len(text) < VANISHED_SHARE * len(previous):
            return (f"policy text vanished: {len(text)} characters where the last version "
                    f"had {len(previous)}")
    return None


def _short_page_reason(text: str) -> str | None:
    if _JAVASCRIPT.search(text):
        return "javascript shell"
    if _ERROR.search(text):
        return "error page"
    if _LOGIN.search(text):
        return "login page"
    return None


def _has_policy_terms(text: str, needed: int) -> bool:
    """Whether `needed` distinct policy terms occur; stops at the first `needed` (speed)."""
    seen: set[str] = set()
    for match in _POLICY_TERMS.finditer(text):
        seen.add(match.group(0).lower())
        if len(seen) >= needed:
            return True
    return False


def _count_words(text: str) -> int:
    if not _CJK.search(text):
        return len(text.split())  # close enough to \w+ for thresholds, and 10x faster
    cjk = len(_CJK.findall(text))
    return len(_WORD.findall(_CJK.sub(" ", text))) + cjk


def advice(reason: str, url: str | None = None, select: str | None = None) -> str:
    """What a user can do about a text `assess` refused (or that gave no text at all), in
    words: `{reason}: {advice(reason, url)}` is a message to act on."""
    target = f"monitor extract {url}" if url else "monitor extract URL"
    if select:
        return f"the selector may pick the wrong part; try `{target} --select '{select}'`"
    if reason == "error page":
        return f"the server sent an error page; check the URL in a browser, or try `{target}`"
    if reason == "login page":
        return "the page asks to sign in: watch the public URL of the policy instead"
    if reason == "no privacy-policy vocabulary":
        return f"this does not read like a privacy policy: check the URL; try `{target}`"
    return f'the page may need JavaScript (render = "browser") or a selector; try `{target}`'
