"""The records that travel through the house, typed and frozen.

    Fetched (crawler) -> Outcome (track) ; Classification (classify) -> Change (store, CLI, alerts)

Every module may import this one; it imports nothing of the project, so arrows only run down.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

CATEGORIES = (
    "purpose",
    "data_types",
    "recipients",
    "controller",
    "rights",
    "contact",
    "transfer",
    "retention",
    "children",
    "security",
)
# The category in words, for people (CLI, mail, Slack); JSON keeps the machine names.
CATEGORY_LABELS = {
    "purpose": "Purposes of processing",
    "data_types": "Data collected",
    "recipients": "Data recipients",
    "controller": "Data controller",
    "rights": "Your rights",
    "contact": "Contact channels",
    "transfer": "Storage and transfer",
    "retention": "Retention",
    "children": "Children",
    "security": "Security",
}


def category_label(category: str) -> str:
    """'recipients' -> 'Data recipients'; '' (a text largely replaced) -> 'Whole text'."""
    return CATEGORY_LABELS.get(category, category.replace("_", " ").capitalize() or "Whole text")


@dataclass(frozen=True)
class Finding:
    """One categorised difference inside a change."""

    category: str  # one of CATEGORIES ('' for a text largely replaced)
    kind: str  # "added" | "removed" | "changed" | "replaced"
    before: str  # the sentence before ('' when added)
    after: str  # the sentence after ('' when removed)
    section: str  # heading of the section where it sits ('' if none)

    @property
    def label(self) -> str:
        return category_label(self.category)


@dataclass(frozen=True)
class Classification:
    """A classifier's verdict on one change, and who gave it."""

    major: bool
    categories: tuple[str, ...]  # in CATEGORIES order
    findings: tuple[Finding, ...]
    ignored: tuple[str, ...] = ()  # short descriptions of what was judged cosmetic
    stats: Mapping[str, Any] = field(default_factory=dict)
    classifier: str = ""  # backend name, e.g. "rules"
    classifier_version: str = ""
    incomplete: bool = False  # the watchdog cut the judging short (see monitor.classify)

    def to_dict(self) -> dict[str, Any]:
        return {
            "major": self.major,
            "categories": list(self.categories),
            "findings": [asdict(f) for f in self.findings],
            "ignored": list(self.ignored),
            "stats": dict(self.stats),
            "classifier": self.classifier,
            "classifier_version": self.classifier_version,
            "incomplete": self.incomplete,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Classification:
        return cls(
            major=bool(data["major"]),
            categories=tuple(data.get("categories") or ()),
            findings=tuple(Finding(**f) for f in data.get("findings") or ()),
            ignored=tuple(data.get("ignored") or ()),
            stats=dict(data.get("stats") or {}),
            classifier=data.get("classifier") or "",
            classifier_version=data.get("classifier_version") or "",
            incomplete=bool(data.get("incomplete")),
        )


@dataclass(frozen=True)
class Change:
    """Two consecutive versions of a site and the classification of what changed."""

    site: str
    from_version: int
    to_version: int
    at: str
    classification: Classification | None  # None: not classified (an old record)
    technical: bool = False  # the extraction rules changed, not the policy: never alerted
    restores: int | None = None  # the earlier version whose text came back, if any
    id: int | None = None  # set once stored

    @property
    def major(self) -> bool | None:
        return None if self.classification is None else self.classification.major

    @property
    def categories(self) -> tuple[str, ...]:
        return self.classification.categories if self.classification else ()

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.classification.findings if self.classification else ()


@dataclass(frozen=True)
class Fetched:
    """What the crawler got for one site: a response, or the error that stood for one."""

    site: str
    url: str
    at: str
    final_url: str | None = None
    status: int | None = None
    body: bytes = field(default=b"", repr=False)
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    duration_ms: float | None = None
    error: str | None = None
    blocked: bool = False  # robots.txt, 4xx: retrying soon will not help


OUTCOMES = ("new", "same", "not_modified", "failed", "blocked", "suspect")


@dataclass(frozen=True)
class Outcome:
    """What one fetch became: one of OUTCOMES, the version it stands for, and the change."""

    site: str
    outcome: str
    version: int | None = None
    change: Change | None = None
    detail: str | None = None


@dataclass(frozen=True)
class ChangeNotice:
    """What a change alert tells, kept with the alert in the outbox (as JSON) so that it can be
    rendered however the versions are renumbered later: the change, its two versions (number,
    date, text hash) and its verdict."""

    site: str
    url: str
    at: str  # when the fetch that recorded the new text happened
    from_version: int
    to_version: int
    from_date: str | None = None
    to_date: str | None = None
    from_hash: str | None = None
    to_hash: str | None = None
    change: int | None = None  # the change's id when planned
    major: bool | None = None
    categories: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()  # the first ones (MAX_STORED_FINDINGS)
    findings_total: int = 0
    restores: int | None = None
    classifier: str | None = None
    classifier_version: str | None = None
    incomplete: bool = False
    link: str | None = None  # the change's page in the web view, when one is configured

    @property
    def hash(self) -> str:
        """The new text's hash, short: with `at`, what makes an alert's key unique."""
        return (self.to_hash or "")[:12]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["categories"] = list(self.categories)
        data["findings"] = [asdict(f) for f in self.findings]
        data["hash"] = self.hash
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChangeNotice:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["categories"] = tuple(data.get("categories") or ())
        known["findings"] = tuple(Finding(**f) for f in data.get("findings") or ())
        known.setdefault("findings_total", len(known["findings"]))
        return cls(**known)
