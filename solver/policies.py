"""Expand Pleevi battery policies (`once`, `weekly`) into concrete UTC instants of a horizon.

Weekly times are wall-clock times in an IANA timezone, so each occurrence is resolved on its own
date with zoneinfo: 09:00 in New York is 13:00 UTC in summer and 14:00 UTC in winter. A wall time
skipped by a DST jump resolves like Python's datetime does (fold=0: as if the jump had not happened
yet, landing after it); a repeated wall time takes its first occurrence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from solver.problem import BatteryPolicy

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _parse_instant(text: str | datetime) -> datetime:
    instant = text if isinstance(text, datetime) else datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    if instant.tzinfo is None:
        raise ValueError(f"policy date-time {text!r} has no timezone")
    return instant.astimezone(UTC)


def _weekly(schedule: Mapping[str, Any], start: datetime, end: datetime) -> list[datetime]:
    zone = ZoneInfo(str(schedule["timezone"]))
    days = {DAYS.index(str(day).lower()) for day in schedule["day_of_week"]}
    hour, minute = (int(part) for part in str(schedule["time"]).split(":")[:2])
    wall = time(hour, minute)
    first_day = start.astimezone(zone).date() - timedelta(days=1)
    last_day = end.astimezone(zone).date() + timedelta(days=1)
    instants = []
    day = first_day
    while day <= last_day:
        if day.weekday() in days:
            instant = datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)
            if start <= instant <= end:
                instants.append(instant)
        day += timedelta(days=1)
    return instants


def expand_pleevi_policy(policy: Mapping[str, Any], start: datetime, end: datetime) -> BatteryPolicy | None:
    """One Pleevi policy -> a BatteryPolicy with its instants in [start, end], or None if none fall there."""
    schedule = policy["schedule"]
    frequency = schedule.get("frequency", "once")
    start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
    if frequency == "once":
        instants = [i for i in map(_parse_instant, schedule["date_times"]) if start_utc <= i <= end_utc]
    elif frequency == "weekly":
        instants = _weekly(schedule, start_utc, end_utc)
    else:
        raise ValueError(f"unknown policy frequency {frequency!r} (expected 'once' or 'weekly')")
    if not instants:
        return None
    return BatteryPolicy(
        instants=tuple(sorted(instants)),
        minimum_soc_percent=float(policy["minimum_state_of_charge"]),
        maximum_soc_percent=float(policy["maximum_state_of_charge"]),
    )


def expand_pleevi_policies(
    policies: Iterable[Mapping[str, Any]], start: datetime, end: datetime
) -> tuple[BatteryPolicy, ...]:
    """All Pleevi policies of a battery, expanded over [start, end]; policies without instants dropped."""
    expanded = (expand_pleevi_policy(p, start, end) for p in policies)
    return tuple(p for p in expanded if p is not None)
