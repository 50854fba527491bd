"""A classification as people read it in a terminal: verdict, findings, what was ignored."""

from __future__ import annotations

from monitor.records import Classification, category_label

_BOLD, _RED, _GREEN, _RESET = "\x1b[1m", "\x1b[31m", "\x1b[32m", "\x1b[0m"


def format_report(c: Classification, *, color: bool = False) -> str:
    """Human report: verdict, categories, findings (before -> after, section), ignored summary."""

    def paint(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    verdict = "MAJOR change" if c.major else "No major change"
    names = ", ".join(category_label(x) for x in c.categories)
    lines = [paint(_BOLD, verdict) + (f": {names}" if names else "")]
    if c.classifier:
        lines.append(f"(judged by {c.classifier} {c.classifier_version})".replace(" )", ")"))
    if c.incomplete:
        lines.append("incomplete: judging was cut short by the watchdog; a person should look")
    for f in c.findings:
        where = f" (in '{f.section}')" if f.section else ""
        lines.append(f"\n* {category_label(f.category)} - {f.kind}{where}")
        before, after = _sentences(f.before, f.after)
        if before:
            lines.append("  before: " + "".join(
                paint(_RED + _BOLD, t) if changed else t for changed, t in before)
                if color else "  before: " + _marks(before, "[-", "-]"))
        if after:
            lines.append("  after:  " + "".join(
                paint(_GREEN + _BOLD, t) if changed else t for changed, t in after)
                if color else "  after:  " + _marks(after, "{+", "+}"))
    if c.ignored:
        lines.append(f"\nIgnored as cosmetic ({len(c.ignored)}):")
        lines += [f"  - {d}" for d in c.ignored[:20]]
        if len(c.ignored) > 20:
            lines.append(f"  - ... and {len(c.ignored) - 20} more")
    return "\n".join(lines)


def _sentences(before: str, after: str) -> tuple[list[tuple[bool, str]], list[tuple[bool, str]]]:
    """The sentences before and after, the changed words flagged when both are there."""
    from monitor.differ import marked

    if before and after:
        return marked(before, after)
    return ([(False, before)] if before else []), ([(False, after)] if after else [])


def _marks(runs: list[tuple[bool, str]], start: str, end: str) -> str:
    return "".join(f"{start}{t}{end}" if changed and t.strip() else t for changed, t in runs)
