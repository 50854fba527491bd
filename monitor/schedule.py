"""Schedules as users write them: "daily", "hourly", "every 6h", "every 30s", or cron."""

from __future__ import annotations

import re
from dataclasses import dataclass

NAMED = {"hourly": 3600, "daily": 86400, "weekly": 7 * 86400}
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
EVERY = re.compile(r"^every\s+(\d+)\s*(s|m|h|d)$")


@dataclass(frozen=True)
class Schedule:
    """Either a fixed interval in seconds or a five-field cron expression."""

    text: str
    seconds: int | None = None
    cron: str | None = None


def parse_schedule(text: str) -> Schedule:
    """Parse a schedule; raise ValueError with the accepted forms when it is not one."""
    value = text.strip().lower()
    if value in NAMED:
        return Schedule(text, seconds=NAMED[value])
    match = EVERY.match(value)
    if match:
        seconds = int(match.group(1)) * UNITS[match.group(2)]
        if seconds < 1:
            raise ValueError("an interval must be at least 1 second")
        return Schedule(text, seconds=seconds)
    if len(value.split()) == 5:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value)
        except ValueError as e:
            raise ValueError(f"bad cron expression {text!r}: {e}") from None
        return Schedule(text, cron=value)
    raise ValueError(f"bad schedule {text!r}: use hourly, daily, weekly, 'every 6h', "
                     "'every 30s' or a cron expression like '0 3 * * *'")
