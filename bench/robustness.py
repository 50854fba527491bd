"""Label-free robustness harness of the change classifier (prints figures; not a test).

Carrier documents: the bundled policies (monitor/data/policies/*.txt) and the `before.*` files of
the ODD-numbered cases of the real-revision dev sets (even cases are held out and never read).
Each carrier is perturbed with a fixed seed in two ways:

* COSMETIC perturbations (re-wrapping, renumbering, reordering, quotes, case, typos, date lines,
  page chrome, rewording with the same meaning, white space, link tracking parameters): the
  verdict must be NOT major, ideally with no finding at all;
* SUBSTANTIVE edits (a statement of one category inserted where it fits, an entity changed, a
  negation flipped): the verdict must be major, with the right category.

The statement bank below is written from domain knowledge, not copied from any labelled case.

usage: uv run python bench/robustness.py [--per-type N] [--seed S] [--show N] [--only TYPE]
"""

from __future__ import annotations

import argparse
import random
import re
import textwrap
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from monitor.classify import classify
from monitor.records import Classification

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "monitor" / "data" / "policies"
EVAL = ROOT.parent / "shared" / "eval"
REAL_SETS = ("dev_real", "dev_tosback")


# -- carriers ------------------------------------------------------------------------------------
def carriers() -> list[tuple[str, str]]:
    """(name, text) of every carrier document: bundled policies, odd cases' `before` files."""
    out = [(p.stem, p.read_text()) for p in sorted(POLICIES.glob("*.txt"))]
    for name in REAL_SETS:
        folder = EVAL / name
        if not folder.is_dir():
            continue
        for case in sorted(folder.iterdir()):
            digits = re.sub(r"\D", "", case.name)
            if not digits or int(digits) % 2 == 0:  # even cases are held out: never opened
                continue
            for f in sorted(case.glob("before.*")):
                if f.suffix == ".html":
                    from monitor.extract import extract

                    out.append((case.name, extract(f.read_bytes(), None)))
                else:
                    out.append((case.name, f.read_text(errors="replace")))
    return out


# -- text structure --------------------------------------------------------------------------------
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+\S")
_NUM_HEADING = re.compile(r"^\s*(?:#{1,6}\s*)?(?:\d{1,2}(?:\.\d{1,2})*[.)]?|[IVX]{1,5}\.)\s+\S")
_LIST = re.compile(r"^\s*(?:[-*+]|\d{1,2}[.)])\s+\S")


def is_heading(line: str) -> bool:
    s = line.strip()
    if not s or s.startswith("|"):
        return False
    if _MD_HEADING.match(s):
        return True
    n = len(s.split())
    return n <= 10 and not re.search(r"[.;:,!?]\W*$", s) and s[0].isupper() and not _LIST.match(s)


def is_prose(line: str) -> bool:
    s = line.strip()
    return (
        len(s.split()) >= 8
        and not s.startswith(("|", "#", ">"))
        and bool(re.search(r"[.!?]\W*$", s))
        and "](" not in s[:3]
    )


def headings_of(lines: list[str]) -> list[str]:
    """The heading each line sits under ('' before the first)."""
    out, current = [], ""
    for line in lines:
        if is_heading(line):
            current = line.strip().lstrip("#").strip()
        out.append(current)
    return out


# -- cosmetic perturbations --------------------------------------------------------------------
Perturb = Callable[[str, random.Random], "tuple[str, str] | None"]


def wrap_lines(text: str, width: int) -> str:
    out = []
    for line in text.split("\n"):
        if len(line) <= width or is_heading(line) or line.lstrip().startswith("|"):
            out.append(line)
            continue
        m = re.match(r"^(\s*(?:[-*+]|\d{1,2}[.)])?\s*)", line)
        lead = m.group(1) if m else ""
        out.append(
            textwrap.fill(
                line[len(lead) :],
                width,
                initial_indent=lead,
                subsequent_indent=" " * len(lead),
                break_long_words=False,
                break_on_hyphens=False,
            )
        )
    return "\n".join(out)


def c_wrap60(t: str, r: random.Random) -> tuple[str, str] | None:
    return t, wrap_lines(t, 60)


def c_wrap72_95(t: str, r: random.Random) -> tuple[str, str] | None:
    return wrap_lines(t, 72), wrap_lines(t, 95)


def pdf_lines(text: str, width: int) -> str:
    """Each line a paragraph of its own, as a PDF converted to HTML gives (one <p> per line of
    the page); headings, table rows and lines with Markdown links (whose targets a PDF does not
    show) as they are."""
    out = []
    for line in text.split("\n"):
        if len(line) <= width or is_heading(line) or line.lstrip().startswith("|") or "](" in line:
            out.append(line)
            continue
        lines = textwrap.wrap(line.strip(), width, break_long_words=False)
        out.append("\n\n".join(lines))
    return "\n".join(out)


def c_pdf_lines(t: str, r: random.Random) -> tuple[str, str] | None:
    return pdf_lines(t, 72), pdf_lines(t, 95)


_ROMAN = {
    "I": 1,
    "II": 2,
    "III": 3,
    "IV": 4,
    "V": 5,
    "VI": 6,
    "VII": 7,
    "VIII": 8,
    "IX": 9,
    "X": 10,
}


def c_renumber(t: str, r: random.Random) -> tuple[str, str] | None:
    lines = t.split("\n")
    heads = [i for i, line in enumerate(lines) if is_heading(line)]
    if len(heads) < 2:
        return None
    numbered = [i for i in heads if _NUM_HEADING.match(lines[i])]
    mode = r.choice(["style", "remove"] if numbered else ["add"])
    out = list(lines)
    if mode == "add":
        for n, i in enumerate(heads, 1):
            m = re.match(r"^(\s*#{0,6}\s*)(.*)$", lines[i])
            assert m
            out[i] = f"{m.group(1)}{n}. {m.group(2)}"
    else:
        for i in numbered:
            m = re.match(
                r"^(\s*#{0,6}\s*)(\d{1,2}(?:\.\d{1,2})*|[IVX]{1,5})([.)]?)\s+(.*)$", lines[i]
            )
            if not m:
                continue
            lead, num, punct, rest = m.groups()
            if mode == "remove":
                out[i] = f"{lead}{rest}"
            elif num in _ROMAN:
                out[i] = f"{lead}{_ROMAN[num]}. {rest}"
            else:
                out[i] = f"{lead}{num}{')' if punct != ')' else '.'} {rest}"
    new = "\n".join(out)
    return (t, new) if new != t else None


def _blocks(t: str) -> list[str]:
    return t.split("\n\n")


def c_swap_paragraphs(t: str, r: random.Random) -> tuple[str, str] | None:
    blocks = _blocks(t)
    heads = headings_of([b.split("\n")[0] for b in blocks])
    cands = [
        i
        for i in range(len(blocks) - 1)
        if is_prose(blocks[i]) and is_prose(blocks[i + 1]) and heads[i] == heads[i + 1]
    ]
    if not cands:
        return None
    i = r.choice(cands)
    blocks[i], blocks[i + 1] = blocks[i + 1], blocks[i]
    return t, "\n\n".join(blocks)


def c_swap_items(t: str, r: random.Random) -> tuple[str, str] | None:
    lines = t.split("\n")
    cands = []
    for i in range(len(lines) - 1):
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        if (
            j < len(lines)
            and re.match(r"^\s*[-*+]\s+\S", lines[i])
            and re.match(r"^\s*[-*+]\s+\S", lines[j])
        ):
            indent = len(lines[i]) - len(lines[i].lstrip())
            if indent == len(lines[j]) - len(lines[j].lstrip()) and lines[i] != lines[j]:
                cands.append((i, j))
    if not cands:
        return None
    i, j = r.choice(cands)
    lines[i], lines[j] = lines[j], lines[i]
    return t, "\n".join(lines)


def c_quotes(t: str, r: random.Random) -> tuple[str, str] | None:
    new = re.sub(r"(\w)'(\w)", "\\1\u2019\\2", t)
    new = re.sub(r'"([^"\n]{1,80})"', "\u201c\\1\u201d", new)
    new = new.replace(" - ", " \u2014 ").replace(" -- ", " \u2013 ")
    if new == t:
        new = t.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
        new = new.replace("\u2014", "-").replace("\u2013", "-")
    return (t, new) if new != t else None


def c_heading_case(t: str, r: random.Random) -> tuple[str, str] | None:
    change = r.choice([str.upper, str.title, str.lower])
    lines = t.split("\n")
    out = []
    for line in lines:
        if is_heading(line):
            m = re.match(r"^(\s*#{0,6}\s*)(.*)$", line)
            assert m
            line = m.group(1) + change(m.group(2))
        out.append(line)
    new = "\n".join(out)
    return (t, new) if new != t else None


_SPELLING = [
    ("organisation", "organization"),
    ("authorise", "authorize"),
    ("recognise", "recognize"),
    ("behaviour", "behavior"),
    ("colour", "color"),
    ("centre", "center"),
    ("analyse", "analyze"),
    ("personalise", "personalize"),
    ("minimise", "minimize"),
    ("licence", "license"),
    ("favour", "favor"),
    ("optimise", "optimize"),
]


def c_typos(t: str, r: random.Random) -> tuple[str, str] | None:
    lines = t.split("\n")
    prose = [i for i, line in enumerate(lines) if is_prose(line)]
    if not prose:
        return None
    out = list(lines)
    for _ in range(r.randint(1, 3)):
        i = r.choice(prose)
        spots = [
            m
            for m in re.finditer(r"(?<=[a-z] )[a-z]{6,}\b", out[i])
            if not re.search(r"\d", m.group(0))
        ]
        if not spots:
            continue
        m = r.choice(spots)
        w = m.group(0)
        swaps = [(a, b) for a, b in _SPELLING if a in w or b in w]
        if swaps and r.random() < 0.7:
            a, b = swaps[0]
            new = w.replace(a, b) if a in w else w.replace(b, a)
        elif r.random() < 0.5:
            k = r.randint(1, len(w) - 3)
            new = w[:k] + w[k + 1] + w[k] + w[k + 2 :]
        else:
            k = r.randint(1, len(w) - 2)
            new = w[:k] + w[k + 1 :]
        out[i] = out[i][: m.start()] + new + out[i][m.end() :]
    new_text = "\n".join(out)
    return (t, new_text) if new_text != t else None


_MONTHS = "January February March April May June July August September October November December"
_DATE = re.compile(
    rf"(?:(?:{'|'.join(_MONTHS.split())})\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+(?:{'|'.join(_MONTHS.split())})"
    r",?\s+\d{4}|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4})"
)
_DATE_LINE = re.compile(r"(?im)^.*\b(?:last (?:updated|modified|revised)|effective|updated)\b.*$")


def _some_date(r: random.Random) -> str:
    return f"{r.choice(_MONTHS.split())} {r.randint(1, 28)}, {r.randint(2019, 2025)}"


def c_date(t: str, r: random.Random) -> tuple[str, str] | None:
    for m in _DATE_LINE.finditer(t[:3000]):
        d = _DATE.search(m.group(0))
        if d:
            start = m.start() + d.start()
            return t, t[:start] + _some_date(r) + t[m.start() + d.end() :]
    lines = t.split("\n")
    k = 1 if lines and is_heading(lines[0]) else 0
    lines.insert(k, f"\nLast updated: {_some_date(r)}\n")
    return t, "\n".join(lines)


_CHROME = [
    "Skip to content",
    "Skip to main content",
    "Home | Products | Pricing | Blog | Careers | Contact",
    "Share this page",
    "Share on Facebook Share on Twitter Share on LinkedIn",
    "\u00a9 2024 {co}. All rights reserved.",
    "Copyright \u00a9 2025 {co} | Terms | Privacy | Sitemap",
    "We use cookies to give you the best experience on our website. Accept all cookies",
    "This site uses cookies. By continuing to browse the site, you are agreeing to our use of "
    "cookies. Accept",
    "Join our live webinar on May 14, 2024 at 10:00 AM PT: what's new in our product",
    "From the blog: How we shipped our new dashboard (March 3, 2025, 5 min read)",
    "Was this page helpful? Yes No",
    "Back to top",
    "Sign in | Get started for free",
]


def _chrome_lines(t: str, r: random.Random) -> list[str]:
    co = r.choice(["Acme Inc.", "Example Corp", "Company"])
    return [line.format(co=co) for line in r.sample(_CHROME, r.randint(1, 2))]


def _with_chrome(t: str, r: random.Random) -> str:
    lines = _chrome_lines(t, r)
    if r.random() < 0.5:
        return "\n\n".join(lines) + "\n\n" + t
    return t.rstrip("\n") + "\n\n" + "\n\n".join(lines) + "\n"


# Non-policy prose that crawled pages carry around (or inside) a policy: news, product and
# feature descriptions, FAQ about product features, job ads, event listings.  Such text speaks
# of data, sharing, AI or places, but states no practice on users' personal data; a crawl in
# which one such block replaces another is not a change of the policy.
_SITE_PROSE = [
    "## Latest news\n\nNorthwind Labs Inc. acquires Brightwave to expand its photo platform in "
    "Europe. The deal brings 120 engineers to our Berlin office.",
    "Introducing Albums: organise your photos into albums, share them with friends and family, "
    "and collaborate on shared albums in real time.",
    "## Features\n\n- Unlimited cloud storage for your photos and videos\n- Share files with "
    "anyone through a link\n- Sync across all your devices\n- Dark mode and offline playback",
    "### How do I share an album?\n\nOpen the album, tap Share and choose who you want to share "
    "it with. You can also copy the link and send it to your friends.",
    "### Can I use the app offline?\n\nYes. Your playlists and downloaded songs stay available "
    "without an internet connection for up to 30 days.",
    "## Careers\n\nWe are hiring a Senior Data Engineer in Dublin. You will build pipelines that "
    "process billions of events a day and work with our analytics and machine learning teams.",
    "## Upcoming events\n\nMeet our team at the Data Protection Congress in Brussels, where our "
    "engineers will present how we build privacy into our products.",
    "Our smart thermostat learns your schedule and adjusts the temperature automatically. "
    "Control it from anywhere with the mobile app and see your energy reports every month.",
    "From the blog: how our engineers use machine learning models to recommend playlists you "
    "will love, and why sharing a playlist with a friend is now one tap away.",
    "Photos uploaded for sharing are resized for faster display on phones and tablets.",
    "Sharing made simple: send photos, videos and documents to your friends and family, or "
    "share a moment to your story with one tap.",
    "## Help center\n\nForgot your password? Enter the email address you signed up with and we "
    "will send you a link to reset it.",
]


def _site_prose(t: str, r: random.Random, block: str) -> str:
    """`block` at the top, at the bottom or before a heading in the middle of the page."""
    lines = t.split("\n")
    heads = [i for i, line in enumerate(lines) if i > 3 and is_heading(line)]
    where = r.random()
    if where < 0.35 or not heads:
        return block + "\n\n" + t
    if where < 0.7:
        return t.rstrip("\n") + "\n\n" + block + "\n"
    i = r.choice(heads)
    return "\n".join(
        lines[:i] + [block if block.startswith("#") else "## More\n\n" + block, ""] + lines[i:]
    )


def c_site_prose(t: str, r: random.Random) -> tuple[str, str] | None:
    """A block of non-policy prose added, or one replaced by another (rotating news)."""
    a, b = r.sample(_SITE_PROSE, 2)
    if r.random() < 0.5:
        return t, _site_prose(t, r, a)
    state = r.getstate()
    before = _site_prose(t, r, a)
    r.setstate(state)  # the same place: one block replaced by another
    return before, _site_prose(t, r, b)


def c_chrome_add(t: str, r: random.Random) -> tuple[str, str] | None:
    return t, _with_chrome(t, r)


def c_chrome_remove(t: str, r: random.Random) -> tuple[str, str] | None:
    lines = t.split("\n")
    own = [
        i
        for i, line in enumerate(lines)
        if re.search(r"\u00a9|all rights reserved|^\s*skip to|^\s*share this", line, re.I)
    ]
    if own:
        i = r.choice(own)
        return t, "\n".join(lines[:i] + lines[i + 1 :])
    return _with_chrome(t, r), t


_SYNONYMS = [
    ("we highly value", "we greatly value"),
    ("in order to", "to"),
    ("in accordance with", "in line with"),
    ("for example", "for instance"),
    ("please note that", "note that"),
    ("make sure", "ensure"),
    ("at any time", "at any point"),
    ("prior to", "before"),
    ("is committed to", "is dedicated to"),
    ("as described below", "as set out below"),
]


def c_synonyms(t: str, r: random.Random) -> tuple[str, str] | None:
    present = [(a, b) for a, b in _SYNONYMS if re.search(rf"\b{a}\b", t, re.I)]
    present += [(b, a) for a, b in _SYNONYMS if re.search(rf"\b{b}\b", t) and len(b) > 3]
    if not present:
        return None
    new = t
    for a, b in r.sample(present, min(len(present), r.randint(1, 2))):
        new = re.sub(rf"\b{a}\b", b, new, count=r.randint(1, 3))
    return (t, new) if new != t else None


def c_pi_pd(t: str, r: random.Random) -> tuple[str, str] | None:
    if re.search(r"personal information", t, re.I):
        new = re.sub(r"personal information", "personal data", t)
        new = re.sub(r"Personal Information", "Personal Data", new)
    elif re.search(r"personal data", t, re.I):
        new = re.sub(r"personal data", "personal information", t)
        new = re.sub(r"Personal Data", "Personal Information", new)
    else:
        return None
    return (t, new) if new != t else None


def c_whitespace(t: str, r: random.Random) -> tuple[str, str] | None:
    out = []
    for ch in t:
        out.append(ch)
        if ch == " " and r.random() < 0.05:
            out.append(" " * r.randint(1, 2))
        elif ch == "\n" and r.random() < 0.1:
            out.append("\n")
    return t, "".join(out)


def c_links(t: str, r: random.Random) -> tuple[str, str] | None:
    urls = list(re.finditer(r"\]\((https?://[^)\s]+)\)", t)) or list(
        re.finditer(r"https?://[^\s)\]>\"']+", t)
    )
    if not urls:
        return None
    new = t
    picked = r.sample(urls, min(len(urls), r.randint(1, 5)))
    for m in sorted(picked, key=lambda m: m.start(), reverse=True):
        url = m.group(1) if m.groups() else m.group(0)
        tag = f"utm_source=news&utm_campaign=c{r.randint(100, 999)}"
        tag += f"&sid={r.randint(10**6, 10**7)}"
        churned = url + ("&" if "?" in url else "?") + tag
        start = m.start(1) if m.groups() else m.start()
        new = new[:start] + churned + new[start + len(url) :]
    return t, new


COSMETIC: dict[str, Perturb] = {
    "wrap60": c_wrap60,
    "wrap72->95": c_wrap72_95,
    "pdf_lines": c_pdf_lines,
    "renumber": c_renumber,
    "swap_paragraphs": c_swap_paragraphs,
    "swap_items": c_swap_items,
    "quotes_dashes": c_quotes,
    "heading_case": c_heading_case,
    "typos": c_typos,
    "date_line": c_date,
    "chrome_add": c_chrome_add,
    "chrome_remove": c_chrome_remove,
    "synonyms": c_synonyms,
    "pi<->pd": c_pi_pd,
    "whitespace": c_whitespace,
    "link_churn": c_links,
    "site_prose": c_site_prose,
}


# -- substantive edits ----------------------------------------------------------------------------
BANK: dict[str, list[str]] = {
    "purpose": [
        "We may use your personal information to train and improve our machine learning models.",
        "We also use the information we collect to show you personalized advertising on other "
        "websites and apps.",
        "We may use automated decision-making, including profiling, to decide whether you are "
        "eligible for certain offers.",
        "We use the content you upload to develop and improve our generative AI features.",
        "Your usage data may be analysed to build a profile of your interests for targeted "
        "marketing.",
        "We rely on our legitimate interests to process your contact details for direct marketing.",
        "We may use your information for scientific research and to publish statistical studies.",
        "We use your transaction history to calculate a credit score for you.",
    ],
    "data_types": [
        "We also collect your precise geolocation when the app is running in the background.",
        "With your permission, we access your contacts list to help you find friends on the "
        "service.",
        "We collect biometric identifiers, such as a scan of your facial geometry, when you "
        "verify your identity.",
        "We may collect a copy of your government-issued ID, such as a passport or driver's "
        "license.",
        "We collect health information you provide, such as your weight, heart rate and sleep "
        "patterns.",
        "We may record audio through your device's microphone when you use voice features.",
        "We collect information about the websites you visit and the searches you make on other "
        "services.",
        "We collect your Social Security number when you sign up for a paid plan.",
    ],
    "recipients": [
        "We may sell your personal information to data brokers.",
        "We share your information with our affiliates and subsidiaries within our corporate "
        "group.",
        "We may disclose your personal data to law enforcement agencies and government "
        "authorities upon request.",
        "We share information about your driving behaviour with insurance companies.",
        "Your profile information may be shared with other users and made visible to search "
        "engines.",
        "We may share your information with third-party service providers who process payments "
        "on our behalf.",
        "We provide your purchase history to selected retail partners.",
        "We share your email address with advertising networks so that they can match you to "
        "their users.",
    ],
    "controller": [
        "Following our acquisition by Northwind Holdings Inc., Northwind Holdings Inc. is now "
        "the controller of your personal information.",
        "This service is operated by Brightwave Media GmbH, which acts as the data controller.",
        "Solara Technologies LLC is the controller of the personal data processed through the "
        "service.",
        "Meridian Labs Ltd is jointly responsible with us for processing your personal data as "
        "a joint controller.",
        "We have merged with Corvid Systems Inc., which is now responsible for your personal "
        "information.",
        "Orbital Apps Pte. Ltd. determines the purposes and means of processing your personal "
        "data.",
    ],
    "rights": [
        "You have the right to request deletion of your personal data at any time.",
        "You have the right to data portability and may request a copy of your data in a "
        "machine-readable format.",
        "You may withdraw your consent at any time through your account settings.",
        "We will respond to your request to access your data within 45 days.",
        "We may charge a reasonable fee for requests that are manifestly unfounded or excessive.",
        "You can correct inaccurate personal information in your profile settings.",
        "You have the right to object to the processing of your personal data.",
        "You may appoint an authorized agent to submit a request on your behalf.",
    ],
    "contact": [
        "You can contact our Data Protection Officer at dpo@brightwave-example.com.",
        "For privacy questions, please call us at +1 (415) 555-0199.",
        "You may write to us at 221 Harbour Street, Suite 400, San Francisco, CA 94105.",
        "Our representative in the European Union can be reached at eu-rep@example-rep.eu.",
        "If you have questions about how we handle your data, contact our privacy team at "
        "privacy@northwind-example.com.",
        "You can also reach our privacy office by phone at 0800 123 4567.",
    ],
    "transfer": [
        "Your personal data is stored on servers located in Singapore.",
        "We may transfer your personal information to the United States, where data protection "
        "laws may differ from those of your country.",
        "Where we transfer data outside the European Economic Area, we rely on the Standard "
        "Contractual Clauses approved by the European Commission.",
        "Your information may be processed in India by our support teams.",
        "All user data is hosted in data centres in Frankfurt, Germany.",
        "Data collected in the European Union may be transferred to and stored in Brazil.",
    ],
    "retention": [
        "We retain your personal information for seven years after your account is closed.",
        "Chat logs are kept for 180 days and then deleted.",
        "We keep your data for as long as your account is active and for three years thereafter.",
        "Backup copies of your data may persist for up to 90 days after deletion.",
        "We delete the data of inactive accounts after 24 months of inactivity.",
        "Your location history is stored indefinitely unless you delete it.",
    ],
    "children": [
        "Our services are not directed to children under the age of 16.",
        "If you are under 18, you must have your parent or guardian's permission to use the "
        "service.",
        "We do not knowingly collect personal information from children under 13 without "
        "verifiable parental consent.",
        "Users between 13 and 16 years old may use the service only with parental consent.",
        "If we learn that we have collected personal data from a minor, we will delete it.",
        "Accounts of teenagers have additional privacy protections by default.",
    ],
    "security": [
        "We encrypt your data in transit using TLS and at rest using AES-256.",
        "In the event of a data breach affecting your data, we will notify you within 72 hours.",
        "Our information security management system is certified under ISO 27001.",
        "We conduct regular penetration tests and security audits of our systems.",
        "Access to personal data is restricted to employees who need it, and all access is logged.",
        "We use multi-factor authentication to protect administrative access to personal data.",
        "We carry out data protection impact assessments before any high-risk processing.",
    ],
}
_TOPIC = {
    "purpose": r"\buse\b|purpose",
    "data_types": r"collect|information we|data we|types? of",
    "recipients": r"shar|disclos|third[- ]part|recipient",
    "controller": r"who we are|about us|controller|introduction",
    "rights": r"right|choice|access|control",
    "contact": r"contact",
    "transfer": r"transfer|international|cross-border|where .*stor",
    "retention": r"retain|retention|keep|how long",
    "children": r"child|minor|\bage\b",
    "security": r"secur|protect|safeguard",
}


def insert_after_fitting(t: str, stmt: str, cat: str, r: random.Random) -> str:
    """`stmt` as a new paragraph after a prose line under a heading about `cat` (else anywhere)."""
    lines = t.split("\n")
    heads = headings_of(lines)
    prose = [i for i, line in enumerate(lines) if is_prose(line)]
    fit = [i for i in prose if re.search(_TOPIC[cat], heads[i], re.I)]
    pool = fit or prose or [len(lines) - 1]
    i = r.choice(pool)
    j = i
    while j + 1 < len(lines) and lines[j + 1].strip() and not is_heading(lines[j + 1]):
        j += 1  # the end of the paragraph
    return "\n".join(lines[: j + 1] + ["", stmt, ""] + lines[j + 1 :])


@dataclass(frozen=True)
class Edit:
    before: str
    after: str
    category: str


Substantive = Callable[[str, random.Random], "Edit | None"]


def s_bank(cat: str) -> Substantive:
    def make(t: str, r: random.Random) -> Edit | None:
        return Edit(t, insert_after_fitting(t, r.choice(BANK[cat]), cat, r), cat)

    return make


def _entity(
    find: re.Pattern[str],
    change: Callable[[re.Match[str], random.Random], str],
    seed_stmt: str,
    cat: str,
    *,
    everywhere: bool = True,
    window: int | None = None,
) -> Substantive:
    """Change one entity found in the text (every occurrence of it); where there is none,
    insert a statement with one into both versions and change it in the after version."""

    def make(t: str, r: random.Random) -> Edit | None:
        hay = t if window is None else t[:window]
        found = list(find.finditer(hay))
        if found:
            m = r.choice(found)
            new = change(m, r)
            if everywhere:
                return Edit(t, t.replace(m.group(0), new), cat)
            return Edit(t, t[: m.start()] + new + t[m.end() :], cat)
        base = insert_after_fitting(t, seed_stmt, cat, r)
        m = find.search(seed_stmt)
        assert m, seed_stmt
        return Edit(base, base.replace(seed_stmt, seed_stmt.replace(m.group(0), change(m, r))), cat)

    return make


_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_PHONE = re.compile(r"(?<![\w.-])(?:\+\d{1,3}[ .-]?)?\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}(?![\w-])")
_STREET = re.compile(
    r"\b\d{1,5} (?:[A-Z][a-z]+ ){1,3}(?:Street|St\.|Avenue|Ave\.?|Road|Boulevard|Blvd\.?|Drive|"
    r"Way|Lane|Parkway|Place)\b"
)
_AGE = re.compile(r"\b(?:under|below|younger than|at least) (?:the age of )?(13|16|14|18)\b")
_KEEP = re.compile(
    r"[^.\n]*\b(?:retain|keep|store|delete|kept|retained|stored|deleted)\w*[^.\n]*?\b(\d{1,3}|thirty|"
    r"ninety|six|twelve|two|three|five|seven)\s+(days?|months?|years?)\b",
    re.I,
)
_COUNTRIES = [
    "United States", "Ireland", "Germany", "Singapore", "India", "Canada", "Japan", "Brazil",
    "Australia", "the Netherlands", "United Kingdom", "China",
]  # fmt: skip
_STORED_IN = re.compile(
    r"[^.\n]*\b(?:stor|server|hosted|transfer|process|located)\w*[^.\n]*?\b("
    + "|".join(re.escape(c) for c in _COUNTRIES if not c.startswith("the"))
    + r")\b"
)
_COMPANY = re.compile(
    r"\b(?:[A-Z][\w&'-]+ ){0,3}[A-Z][\w&'-]+,? (?:Inc\.|LLC|Ltd\.?|Limited|GmbH|Corporation|"
    r"Corp\.|Pte\. Ltd\.|S\.A\.|B\.V\.)"
)
_NEW_COMPANIES = ["Northwind Data Holdings Ltd", "Brightwave Media GmbH", "Solara Labs Inc."]


def _new_email(m: re.Match[str], r: random.Random) -> str:
    return r.choice(["privacy-requests@northwind-example.com", "dpo@solara-mail.example"])


def _new_phone(m: re.Match[str], r: random.Random) -> str:
    digits = [c for c in m.group(0)]
    idx = [i for i, c in enumerate(digits) if c.isdigit()][-4:]
    for i in idx:
        digits[i] = str((int(digits[i]) + r.randint(1, 8)) % 10)
    return "".join(digits)


def _new_street(m: re.Match[str], r: random.Random) -> str:
    return f"{r.randint(100, 2999)} Harbour Street"


def _new_age(m: re.Match[str], r: random.Random) -> str:
    old = m.group(1)
    new = {"13": "16", "16": "13", "14": "16", "18": "16"}[old]
    return m.group(0)[: m.start(1) - m.start()] + new


def _new_duration(m: re.Match[str], r: random.Random) -> str:
    num = m.group(1)
    new = "2 years" if not m.group(2).lower().startswith("year") else "10 years"
    if num == "10" or num.lower() == "ten":
        new = "6 months"
    return m.group(0)[: m.start(1) - m.start()] + new


def _new_country(m: re.Match[str], r: random.Random) -> str:
    new = r.choice([c for c in _COUNTRIES if c != m.group(1) and not c.startswith("the")])
    return m.group(0)[: m.start(1) - m.start()] + new


def _new_company(m: re.Match[str], r: random.Random) -> str:
    return r.choice(_NEW_COMPANIES)


_FLIP = re.compile(
    r"\b(?:we )?(?:do|does|will|shall) not (sell|rent|share|disclose|trade|use|collect)\b|"
    r"\bnever (sell|rent|share|disclose|trade|use|collect)\b",
    re.I,
)
_FLIP_SEED = [
    ("We do not sell your personal information to third parties.", "recipients"),
    ("We will not share your contact details with advertisers.", "recipients"),
    ("We do not use your messages to train our AI models.", "purpose"),
    ("We do not collect your precise location.", "data_types"),
]


def _flip_category(verb: str, sentence: str) -> str:
    verb = verb.lower()
    if verb == "collect":
        return "data_types"
    if verb == "use":
        return "purpose"
    return "recipients"


def s_negation(t: str, r: random.Random) -> Edit | None:
    found = [
        m
        for m in _FLIP.finditer(t)
        if not re.search(r"\b(?:cookie|child|minor)", t[m.start() : m.end() + 80], re.I)
    ]
    if found:
        m = r.choice(found)
        verb = m.group(1) or m.group(2)
        lead = "we " if m.group(0).lower().startswith("we ") else ""
        lead = m.group(0)[: len(lead)]
        new = f"{lead}may {verb}"
        line_end = t.find("\n", m.end())
        sentence = t[m.start() : line_end if line_end > 0 else None]
        return Edit(t, t[: m.start()] + new + t[m.end() :], _flip_category(verb, sentence))
    stmt, cat = r.choice(_FLIP_SEED)
    base = insert_after_fitting(t, stmt, cat, r)
    flipped = re.sub(r"\b(?:do|will) not\b", "may", stmt)
    return Edit(base, base.replace(stmt, flipped), cat)


SUBSTANTIVE: dict[str, Substantive] = {f"insert:{c}": s_bank(c) for c in BANK}
SUBSTANTIVE |= {
    "email": _entity(
        _EMAIL, _new_email, "You can contact our privacy team at privacy@acme-example.com.",
        "contact",
    ),
    "phone": _entity(
        _PHONE, _new_phone, "You can call our privacy team at +1 (415) 555-0142.", "contact"
    ),
    "postal": _entity(
        _STREET, _new_street,
        "You can write to us at 100 Market Street, San Francisco, CA 94105.", "contact",
    ),
    "age": _entity(
        _AGE, _new_age,
        "We do not knowingly collect personal information from children under 13.", "children",
    ),
    "retention_duration": _entity(
        _KEEP, _new_duration,
        "We retain your account data for 30 days after you close your account.", "retention",
        everywhere=False,
    ),
    "storage_country": _entity(
        _STORED_IN, _new_country, "Your personal data is stored on servers located in Ireland.",
        "transfer", everywhere=False,
    ),
    "company": _entity(
        _COMPANY, _new_company, "This privacy policy is provided by Acme Widgets Inc.",
        "controller", everywhere=False, window=1500,
    ),
    "negation_flip": s_negation,
}  # fmt: skip


LATER = ("site_prose",)  # types added after the first figures were published


# -- run ------------------------------------------------------------------------------------------
@dataclass
class Result:
    kind: str  # perturbation name
    carrier: str
    expect: str | None  # category for substantive edits, None for cosmetic
    verdict: Classification
    before: str
    after: str


def run(per_type: int, seed: int, only: str | None) -> tuple[list[Result], float]:
    docs = carriers()
    results: list[Result] = []
    start = time.perf_counter()
    kinds = {**COSMETIC, **SUBSTANTIVE}
    # types added later run last, so that every older type keeps its seed (and its sample)
    order = [k for k in kinds if k not in LATER] + [k for k in kinds if k in LATER]
    for n, (name, fn) in enumerate((k, kinds[k]) for k in order):
        if only and not re.search(only, name):
            continue
        r = random.Random(seed * 1000 + n)
        order = list(range(len(docs)))
        r.shuffle(order)
        done = 0
        for i in order:
            if done >= per_type:
                break
            cname, text = docs[i]
            made = fn(text, r)
            if made is None:
                continue
            if isinstance(made, Edit):
                before, after, expect = made.before, made.after, made.category
            else:
                (before, after), expect = made, None
            if before == after:
                continue
            results.append(Result(name, cname, expect, classify(before, after), before, after))
            done += 1
    return results, time.perf_counter() - start


def report(results: list[Result], elapsed: float, show: int) -> None:
    by: dict[str, list[Result]] = defaultdict(list)
    for res in results:
        by[res.kind].append(res)
    print(f"{len(results)} pairs in {elapsed:.1f} s\n")
    print(f"{'cosmetic':22} {'n':>4} {'false_alarm':>12} {'findings':>9}")
    fa_total = fi_total = n_total = 0
    for kind in COSMETIC:
        rs = by.get(kind, [])
        if not rs:
            continue
        fa = sum(res.verdict.major for res in rs)
        fi = sum(bool(res.verdict.findings) for res in rs)
        fa_total, fi_total, n_total = fa_total + fa, fi_total + fi, n_total + len(rs)
        print(f"{kind:22} {len(rs):4} {fa / len(rs):12.2f} {fi / len(rs):9.2f}")
    if n_total:
        print(
            f"{'ALL cosmetic':22} {n_total:4} {fa_total / n_total:12.2f} {fi_total / n_total:9.2f}"
        )
    print(f"\n{'substantive':22} {'n':>4} {'major':>6} {'recall':>7} {'extra':>6}")
    per_cat: dict[str, list[Result]] = defaultdict(list)
    hit_t = major_t = extra_t = sub_t = 0
    for kind in SUBSTANTIVE:
        rs = by.get(kind, [])
        if not rs:
            continue
        for res in rs:
            per_cat[res.expect or ""].append(res)
        major = sum(res.verdict.major for res in rs)
        hit = sum(res.verdict.major and res.expect in res.verdict.categories for res in rs)
        extra = sum(bool(set(res.verdict.categories) - {res.expect}) for res in rs)
        hit_t, major_t, extra_t, sub_t = (
            hit_t + hit,
            major_t + major,
            extra_t + extra,
            sub_t + len(rs),
        )
        print(
            f"{kind:22} {len(rs):4} {major / len(rs):6.2f} {hit / len(rs):7.2f} "
            f"{extra / len(rs):6.2f}"
        )
    if sub_t:
        print(
            f"{'ALL substantive':22} {sub_t:4} {major_t / sub_t:6.2f} {hit_t / sub_t:7.2f} "
            f"{extra_t / sub_t:6.2f}"
        )
    print(f"\n{'per category':22} {'n':>4} {'recall':>7} {'extra':>6}  extra categories raised")
    for cat in BANK:
        rs = per_cat.get(cat, [])
        if not rs:
            continue
        hit = sum(res.verdict.major and cat in res.verdict.categories for res in rs)
        extras = Counter(c for res in rs for c in set(res.verdict.categories) - {cat})
        extra = sum(bool(set(res.verdict.categories) - {cat}) for res in rs)
        print(
            f"{cat:22} {len(rs):4} {hit / len(rs):7.2f} {extra / len(rs):6.2f}  "
            + ", ".join(f"{c}:{k}" for c, k in extras.most_common())
        )
    if show:
        _show_failures(results, show)


def _show_failures(results: list[Result], show: int) -> None:
    from monitor.differ import align

    bad = [
        res
        for res in results
        if (res.expect is None and res.verdict.findings)
        or (res.expect is not None and res.expect not in res.verdict.categories)
    ]
    print(f"\n{len(bad)} failures (cosmetic with findings, substantive missed); first {show}:")
    for res in bad[:show]:
        v = res.verdict
        print(f"\n--- {res.kind} on {res.carrier}: expect {res.expect}, got {list(v.categories)}")
        if res.expect is not None and not v.findings:
            for h in align(res.before, res.after).hunks[:3]:
                print(
                    "   hunk -",
                    [u.text[:160] for u in h.removed],
                    "+",
                    [u.text[:160] for u in h.added],
                )
            print("   ignored:", [i[:140] for i in v.ignored[:4]])
        for f in v.findings[:4]:
            print(f"   [{f.category}] {f.kind} in {f.section[:50]!r}")
            print(f"      - {f.before[:200]!r}\n      + {f.after[:200]!r}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--per-type", type=int, default=14, help="pairs per perturbation type")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--show", type=int, default=0, help="print the first N failures")
    ap.add_argument("--only", help="regex of perturbation types to run")
    args = ap.parse_args()
    results, elapsed = run(args.per_type, args.seed, args.only)
    report(results, elapsed, args.show)


if __name__ == "__main__":
    main()
