"""A classification as people read it in a terminal: verdict, findings, what was ignored."""

from __future__ import annotations

from monitor.records import Classification

_BOLD, _RED, _GREEN, _RESET = "\x1b[1m", "\x1b[31m", "\x1b[32m", "\x1b[0m"


def format_report(c: Classification, *, color: bool = False) -> str:
    """Human report: verdict, categories, findings (before -> after, section), ignored summary."""

    def paint(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    verdict = "MAJOR change" if c.major else "No major change"
    lines = [paint(_BOLD, verdict) + (f": {', '.join(c.categories)}" if c.categories else "")]
    for f in c.findings:
        where = f" (in '{f.section}')" if f.section else ""
        lines.append(f"\n* {f.category or 'text'} - {f.kind}{where}")
        if f.before:
            lines.append("  before: " + paint(_RED, f.before))
        if f.after:
            lines.append("  after:  " + paint(_GREEN, f.after))
    if c.ignored:
        lines.append(f"\nIgnored as cosmetic ({len(c.ignored)}):")
        lines += [f"  - {d}" for d in c.ignored[:20]]
        if len(c.ignored) > 20:
            lines.append(f"  - ... and {len(c.ignored) - 20} more")
    return "\n".join(lines)
