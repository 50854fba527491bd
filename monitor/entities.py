"""Concrete things named in a statement: e-mails, phones, postal addresses, organisations, places,
durations, ages, certifications.

Comparing the entities of the two sides of a changed statement tells what changed in substance
(a new e-mail address is a contact change whatever words surround it).  Values are normalised
(lower case, words only) so that formatting never counts as a change.
"""

from __future__ import annotations

import re
from collections import Counter

from monitor import signals
from monitor.lexicon import LEXICON

Entities = dict[str, Counter[str]]  # kind -> normalised values and how often they occur

# (the lookarounds at the start only spare the regex engine attempts that cannot match)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?=[+\d])(?<![\w.])(?:\+|00)?\d[\d ()./-]{6,}\d(?![\w.]?\d)")
_SUFFIX = (
    r"Inc|Incorporated|LLC|L\.L\.C|Ltd|Limited|GmbH|AG|S\.A|SA|SAS|SARL|S\.L|B\.V|BV|N\.V|NV|"
    r"Pte\.?\s+Ltd|PLC|Plc|plc|Corp|Corporation|Co\.,?\s+Ltd|Company|UG|AB|Oy|A/S|ApS|AS|SE|"
    r"S\.r\.l|S\.p\.A|K\.K|LLP|LP|Pty\.?\s+Ltd|Group|Holdings"
)
_ORG = re.compile(
    rf"(?=[A-Z])((?:[A-Z][\w&'.-]*\s+(?:(?:[A-Z0-9][\w&'.-]*|of|and|&|de|du)\s+){{0,4}})?[A-Z][\w&'.-]*),?"
    rf"\s+(?:{_SUFFIX})\b\.?"
)
_DATE = re.compile(r"\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}")
_US = re.compile(r"\bU\.\s?S\.(?:\s?A\.)?|\bUSA\b|\bUS\b")
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    "fifteen|sixteen|seventeen|eighteen|twenty|twenty-four|thirty|sixty|ninety"
)
_DURATION = re.compile(
    rf"\b(?=[\dotfsen])(\d+|{_NUMBER_WORDS})\s*(?:\(\d+\)\s*)?"
    r"(?:calendar\s+|business\s+|working\s+)?(hour|day|week|month|year)s?\b",
    re.I,
)
_AGE = re.compile(
    r"\b(?=[\dubyao])"
    r"(?:under|below|younger than|at least|over|above|older than|age of|aged|ages?)\s+"
    rf"(?:the\s+age\s+of\s+)?(\d{{1,2}}|{_NUMBER_WORDS})\b|\b(\d{{1,2}})\s+years?\s+(?:of\s+age|old)\b",
    re.I,
)
_STREET_WORDS = (
    r"Street|St|Road|Rd|Avenue|Ave|Boulevard|Blvd|Lane|Ln|Drive|Dr|Way|Place|Pl|Square|Sq|Court|"
    r"Ct|Parkway|Pkwy|Highway|Hwy|Terrace|Plaza|Row|Quay|Wharf|Hill|Gardens|Crescent|Close"
)
_ADDRESS = re.compile(
    # PO boxes, '660 4th Street', 'Hauptstrasse 5', 'Rue de Rivoli 12', postcodes (UK, Irish
    # Eircode, Canadian, US state + ZIP); each starts with a capital or a digit
    r"(?=[A-Z0-9])(?:"
    r"\b(?:P\.?\s?O\.?\s?Box|Post Office Box|Postfach|Apartado|Case Postale|BP)\s*\d+"
    rf"|\b\d{{1,5}}[A-Za-z]?,?\s+(?:[A-Z0-9][\w'.-]*\s+){{1,4}}(?:{_STREET_WORDS})\b"
    r"|\b[A-Z][a-z\u00e0-\u00ff]+(?:stra(?:ss|\u00df)e|str\.|gasse|weg|platz|allee|damm|vej|gatan|katu)\s*\d{1,4}"
    r"|\b(?:Rue|Avenue|Via|Viale|Calle|Carrer|Rua|Piazza|Plaza|Boulevard)\s+(?:[\w'-]+\s+){0,4}?\d{1,4}\b"
    r"|\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b|\b[AC-FHKNPRTV-Y]\d[\dW]\s?[AC-FHKNPRTV-Y\d]{4}\b"
    r"|\b[A-Z]\d[A-Z]\s?\d[A-Z]\d\b|\b[A-Z]{2}\s+\d{5}(?:-\d{4})?\b)"
)
CHANNELS = frozenset({"email", "phone", "address"})  # ways to reach whoever handles data
_ISO = re.compile(r"\bISO\s?/?(?:IEC\s?)?(\d{4,5})\b", re.I)
_WORDS = {
    w: str(i + 1)
    for i, w in enumerate(
        "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen".split()
    )
} | {"twenty": "20", "twenty-four": "24", "thirty": "30", "sixty": "60", "ninety": "90"}
_LEGAL_WORDS = {"the", "of", "and", "we", "our", "if", "by", "when", "in", "a"}


def extract(text: str) -> Entities:
    """All entities of a statement, by kind."""
    return {
        "email": Counter(m.lower() for m in _EMAIL.findall(text)),
        "phone": Counter(_phones(text)),
        "address": Counter(_norm(m) for m in _ADDRESS.findall(text)),
        "org": Counter(_orgs(text)),
        "place": Counter(_places(text)),
        "duration": Counter(f"{_num(n)} {u.lower()}" for n, u in _DURATION.findall(text)),
        "age": Counter(_num(a or b) for a, b in _AGE.findall(text)),
        "standard": Counter(_ISO.findall(text)),
    }


def _norm(value: str) -> str:
    return " ".join(re.findall(r"[^\W_]+", value.lower()))


def _num(word: str) -> str:
    return _WORDS.get(word.lower(), word.lower())


def _phones(text: str) -> list[str]:
    out = []
    for m in _PHONE.findall(_EMAIL.sub(" ", text)):
        digits = re.sub(r"\D", "", m)
        if _DATE.fullmatch(m.strip()):
            continue
        if 8 <= len(digits) <= 15 and not re.fullmatch(r"(?:19|20)\d\d(?:\d{4})?", digits):
            out.append(digits)
    return out


def _orgs(text: str) -> list[str]:
    out = []
    for m in _ORG.finditer(text):
        name = m.group(0)
        first = name.split()[0].lower()
        if first in _LEGAL_WORDS and len(name.split()) <= 2:
            continue
        norm = " ".join(re.findall(r"[^\W_]+", name.lower()))
        out.append(norm)
    return out


def _places(text: str) -> list[str]:
    return LEXICON.places.findall(text.lower()) + ["united states"] * len(_US.findall(text))


def changed(before: Entities, after: Entities) -> dict[str, tuple[set[str], set[str]]]:
    """Kinds whose values differ: kind -> (values only before, values only after)."""
    out = {}
    for kind in before:
        gone = set(before[kind]) - set(after[kind])
        new = set(after[kind]) - set(before[kind])
        if gone or new:
            out[kind] = (gone, new)
    return out


_SUFFIX_WORDS = frozenset(
    "inc incorporated llc l c ltd limited gmbh ag s a sa sas sarl b v bv n nv pte plc corp "
    "corporation co company ug ab oy as aps se r l p k kk llp lp pty group holdings".split()
)


def base_name(org: str) -> str:
    """'mix media group llc' -> 'mix media': the name without its legal suffix words."""
    tokens = org.split()
    while len(tokens) > 1 and tokens[-1] in _SUFFIX_WORDS:
        tokens.pop()
    return " ".join(tokens)


_RECIPIENT_CONTEXT = re.compile(
    r"\b(?:shar\w*|disclos\w*|sell|sold|sale|provided? to|partners?|third[- ]part\w*|vendors?|"
    r"providers?|processors?|support|access to|managed by|advertis\w*|analytics|recipients?)\b"
)


# A statement naming who runs the service: 'X ("we", "us")', 'We, X, provide this policy',
# 'operated by X', 'X is the data controller' (strong); 'this privacy policy of X' (weak).
_CONTROLLER_CUE = re.compile(
    r"\b(?:data controllers?|(?:joint )?controllers? (?:of|for|responsible)|(?:is|are|as) "
    r"(?:the |a |our )?(?:joint )?controllers?|(?:operated|owned|run|provided|published)"
    r"(?: (?:and|or) (?:operated|owned))? by|operator of|hereinafter|determines? the purposes)\b"
    r"|\([^()]{0,60}[\"'](?:we|us|our)[\"']|^\W*we,\s"
)
_POLICY_OF = re.compile(r"\b(?:privacy|cookie|data protection) (?:policy|notice|statement)\b")


def category_of(kind: str, replaced: bool, context: str, own: str = "") -> str | None:
    """The category a changed entity raises, read through the words around it (`context`: the
    statement with its section heading; `own`: the statement alone, when it is known)."""
    own = own or context
    if kind in CHANNELS:
        return "contact"
    if kind == "age":
        return "children"
    if kind == "standard":
        return "security"
    present = signals.frames(context)
    if kind == "org":
        if replaced or _CONTROLLER_CUE.search(own):
            return "controller"
        if _RECIPIENT_CONTEXT.search(context):
            return "recipients"
        return "controller" if _POLICY_OF.search(own) else None
    if kind == "place":
        if "transfer" in present:
            return "transfer"
        return "rights" if "rights" in present else None
    if kind == "duration":
        respond = re.compile(r"\b(?:respond\w*|reply|response)\b")
        if respond.search(own):
            return "rights"
        if own != context and "retention" in signals.frames(own):
            return "retention"  # 'we retain ... for 30 days' under a heading about requests
        if respond.search(context):
            return "rights"
        return "retention" if "retention" in present or "transfer" in present else None
    return None
