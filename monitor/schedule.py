"""Schedules as users write them: "daily", "hourly", "every 6h", "every 30s", or cron."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

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


# --- when to run: the daemon's arithmetic, kept pure so it reads (and tests) as plain data ---

MAX_JITTER = 300.0  # seconds: sites spread over at most five minutes
FIRST_JITTER = 10.0  # seconds: ... and a site never run over at most ten


def period(schedule: Schedule) -> float:
    """The (typical) seconds between two runs: the interval, or the cron's first gap."""
    if schedule.seconds is not None:
        return float(schedule.seconds)
    first = next_after(schedule, datetime(2026, 1, 5, tzinfo=UTC))
    return (next_after(schedule, first) - first).total_seconds()


def jitter(name: str, schedule: Schedule) -> float:
    """A fixed offset for site `name`: up to 10% of the period, capped at `MAX_JITTER`.

    Derived from the name, not drawn at random, so that sites of one domain spread out while
    a restart (or a test) sees the same offsets every time.
    """
    fraction = int(hashlib.sha256(name.encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF
    return fraction * min(0.1 * period(schedule), MAX_JITTER)


def next_after(schedule: Schedule, moment: datetime) -> datetime:
    """The schedule's next slot after `moment`, without jitter (cron in local time)."""
    if schedule.seconds is not None:
        return moment + timedelta(seconds=schedule.seconds)
    from apscheduler.triggers.cron import CronTrigger

    # Strictly after: the trigger counts `now` itself as a fire time when it matches.
    later = moment + timedelta(microseconds=1)
    fire = CronTrigger.from_crontab(schedule.cron or "").get_next_fire_time(None, later)
    return fire.astimezone(UTC)


def next_run(name: str, schedule: Schedule, last_run: datetime | None,
             now: datetime) -> datetime:
    """When site `name` runs next, given the slot (due time) of its last run (None: never).

    A site never run runs now, after a short jitter; a site whose slot passed while nobody was
    watching runs once, now: missed slots are coalesced, never replayed one by one. Slots are
    the schedule's own times shifted by the site's jitter, so they do not drift run after run.
    """
    offset = timedelta(seconds=jitter(name, schedule))
    if last_run is None:  # the first look comes soon: spread over seconds, not minutes
        return now + offset * (FIRST_JITTER / MAX_JITTER)
    return max(next_after(schedule, last_run - offset) + offset, now)
