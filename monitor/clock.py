"""Times as the store keeps them: ISO 8601 UTC with milliseconds and a Z, which sorts as it reads.

`monitor.store.now()` gives the current time in that form; `stamp` formats any moment the same
way, `parse_time` reads it (or any ISO 8601 text) back, and `short` shows it in a table or a
message. Standard library only: every command may import this.
"""

from __future__ import annotations

from datetime import UTC, datetime


def stamp(moment: datetime) -> str:
    """`moment` in the store's format, e.g. '2026-05-01T03:00:00.123Z'."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """An aware datetime from ISO 8601 text; text without a zone is taken as UTC."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def short(text: str | None) -> str:
    """An ISO time as 'YYYY-MM-DD HH:MM' for tables and messages; '-' when there is none."""
    return text[:16].replace("T", " ") if text else "-"
