"""A battery's scheduled state-of-charge policies (Pleevi BESS `policies`).

A policy says "at these instants, keep the state of charge between min and max". The instants are
either explicit (`once`, at `date_times`) or recurring (`weekly`, on `day_of_week` at `time` in
`timezone`). Instants must be unambiguous, hence date-times with an offset and real IANA zones: a
naive time would silently mean the server's zone.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, available_timezones

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, ValidationInfo, field_validator

from app.domain.common import DomainModel, Percentage
from app.domain.pydantic_issues import domain_error
from app.errors import ErrorCode

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

_HH_MM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


@cache
def _iana_names() -> frozenset[str]:
    """Scanning the zone database takes milliseconds, so once per process."""
    return frozenset(available_timezones())


def _iso_text_or_datetime(value: object) -> object:
    """Pydantic would read a bare number as a Unix timestamp; the document promises ISO 8601 text."""
    if isinstance(value, int | float):
        raise domain_error(ErrorCode.INVALID_FORMAT, "must be an ISO 8601 date-time with a timezone offset")
    return value


def _hh_mm(value: str) -> str:
    if not _HH_MM.fullmatch(value):
        raise domain_error(ErrorCode.INVALID_FORMAT, f"must be HH:MM on a 24-hour clock (e.g. 09:00); got {value!r}")
    return value


def _iana_timezone(value: str) -> str:
    if value not in _iana_names():
        raise domain_error(ErrorCode.INVALID, f"{value!r} is not an IANA timezone (e.g. Europe/Brussels)")
    return value


def _no_repeats(values: list[str]) -> list[str]:
    for index, value in enumerate(values):
        if value in values[:index]:
            raise domain_error(ErrorCode.DUPLICATE, f"{value} is listed twice", at=(index,))
    return values


ScheduledInstant = Annotated[AwareDatetime, BeforeValidator(_iso_text_or_datetime)]


class OnceSchedule(DomainModel):
    """At each of `date_times`."""

    frequency: Literal["once"] = "once"
    date_times: Annotated[list[ScheduledInstant], Field(min_length=1)]


class WeeklySchedule(DomainModel):
    """Every week on `day_of_week` at `time` (wall-clock time in `timezone`, so it follows DST)."""

    frequency: Literal["weekly"] = "weekly"
    day_of_week: Annotated[list[Weekday], Field(min_length=1), AfterValidator(_no_repeats)]
    time: Annotated[str, Field(strict=True), AfterValidator(_hh_mm)]
    timezone: Annotated[str, Field(strict=True), AfterValidator(_iana_timezone)]

    @property
    def local_time(self) -> dt.time:
        hours, minutes = self.time.split(":")
        return dt.time(int(hours), int(minutes))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


Schedule = Annotated[OnceSchedule | WeeklySchedule, Field(discriminator="frequency")]


class SchedulePolicy(DomainModel):
    """Keep the state of charge (in %) within [minimum, maximum] at the scheduled instants."""

    type: Literal["schedule"] = "schedule"
    schedule: Schedule
    minimum_state_of_charge: Percentage
    maximum_state_of_charge: Percentage

    @field_validator("maximum_state_of_charge")
    @classmethod
    def _range_not_empty(cls, value: float, info: ValidationInfo) -> float:
        minimum = info.data.get("minimum_state_of_charge")
        if minimum is not None and value < minimum:
            raise domain_error(
                ErrorCode.OUT_OF_RANGE,
                f"must be at least minimum_state_of_charge ({minimum:g}); got {value:g}",
            )
        return value
