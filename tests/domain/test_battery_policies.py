"""Battery state-of-charge policies: once at explicit instants, or weekly at a local time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.domain import OnceSchedule, parse_site_configuration
from app.errors import ErrorCode, Issue

from .documents import Document, battery, issues_of, main_collector

POLICY = "device_list[0].policies[0]"


def _weekly(**changes: Any) -> dict[str, Any]:
    return {
        "frequency": "weekly",
        "day_of_week": ["monday"],
        "time": "09:00",
        "timezone": "Europe/Brussels",
        **changes,
    }


def _site(schedule: dict[str, Any], minimum: float = 20, maximum: float = 80) -> Document:
    policy = {
        "type": "schedule",
        "schedule": schedule,
        "minimum_state_of_charge": minimum,
        "maximum_state_of_charge": maximum,
    }
    return {"collector_list": [main_collector()], "device_list": [{**battery(), "policies": [policy]}]}


def test_once_with_offset_date_times_is_accepted() -> None:
    config = parse_site_configuration(
        _site({"frequency": "once", "date_times": ["2025-06-02T09:00:00+02:00", "2025-06-03T07:00:00Z"]})
    )
    schedule = config.device_list[0].policies[0].schedule  # type: ignore[union-attr]
    assert isinstance(schedule, OnceSchedule)
    assert schedule.date_times[0] == datetime(2025, 6, 2, 7, tzinfo=UTC)
    assert schedule.date_times[0].utcoffset() == timedelta(hours=2)


def test_once_without_date_times() -> None:
    assert issues_of(_site({"frequency": "once"})) == [
        Issue(ErrorCode.REQUIRED, f"{POLICY}.schedule.date_times", "is required")
    ]
    assert issues_of(_site({"frequency": "once", "date_times": []})) == [
        Issue(ErrorCode.REQUIRED, f"{POLICY}.schedule.date_times", "needs at least one item")
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2025-06-02T09:00:00", "must include a timezone offset (e.g. 2025-06-02T09:00:00+02:00)"),
        ("next monday", "must be an ISO 8601 date-time with a timezone offset"),
        (1748847600, "must be an ISO 8601 date-time with a timezone offset"),
    ],
)
def test_date_time_needs_an_offset(value: object, message: str) -> None:
    assert issues_of(_site({"frequency": "once", "date_times": ["2025-06-01T09:00:00Z", value]})) == [
        Issue(ErrorCode.INVALID_FORMAT, f"{POLICY}.schedule.date_times[1]", message)
    ]


def test_weekly_fields_are_required() -> None:
    assert [issue.field for issue in issues_of(_site({"frequency": "weekly"}))] == [
        f"{POLICY}.schedule.{field}" for field in ("day_of_week", "time", "timezone")
    ]


@pytest.mark.parametrize("value", ["9:00", "24:00", "09:60", "09:00:00", "0900", "9am"])
def test_bad_time_format(value: str) -> None:
    assert issues_of(_site(_weekly(time=value))) == [
        Issue(
            ErrorCode.INVALID_FORMAT,
            f"{POLICY}.schedule.time",
            f"must be HH:MM on a 24-hour clock (e.g. 09:00); got {value!r}",
        )
    ]


@pytest.mark.parametrize("value", ["00:00", "23:59", "12:30"])
def test_good_times(value: str) -> None:
    assert parse_site_configuration(_site(_weekly(time=value)))


@pytest.mark.parametrize("value", ["Mars/Olympus", "europe/brussels", "America", "", "CET+1"])
def test_unknown_timezone(value: str) -> None:
    assert issues_of(_site(_weekly(timezone=value))) == [
        Issue(
            ErrorCode.INVALID,
            f"{POLICY}.schedule.timezone",
            f"{value!r} is not an IANA timezone (e.g. Europe/Brussels)",
        )
    ]


def test_bad_weekday() -> None:
    assert issues_of(_site(_weekly(day_of_week=["monday", "Friday"]))) == [
        Issue(
            ErrorCode.INVALID,
            f"{POLICY}.schedule.day_of_week[1]",
            "must be one of monday, tuesday, wednesday, thursday, friday, saturday, sunday",
        )
    ]


def test_repeated_weekday_and_no_weekday() -> None:
    assert issues_of(_site(_weekly(day_of_week=["monday", "friday", "monday"]))) == [
        Issue(ErrorCode.DUPLICATE, f"{POLICY}.schedule.day_of_week[2]", "monday is listed twice")
    ]
    assert issues_of(_site(_weekly(day_of_week=[]))) == [
        Issue(ErrorCode.REQUIRED, f"{POLICY}.schedule.day_of_week", "needs at least one item")
    ]


def test_unknown_frequency() -> None:
    assert issues_of(_site({"frequency": "daily"})) == [
        Issue(
            ErrorCode.UNSUPPORTED,
            f"{POLICY}.schedule.frequency",
            "unsupported frequency 'daily'; must be one of once, weekly",
        )
    ]


def test_minimum_above_maximum() -> None:
    assert issues_of(_site(_weekly(), minimum=90, maximum=80)) == [
        Issue(
            ErrorCode.OUT_OF_RANGE,
            f"{POLICY}.maximum_state_of_charge",
            "must be at least minimum_state_of_charge (90); got 80",
        )
    ]


def test_equal_minimum_and_maximum_is_a_set_point() -> None:
    assert parse_site_configuration(_site(_weekly(), minimum=85.49, maximum=85.49))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("minimum_state_of_charge", -1, "must be at least 0"),
        ("maximum_state_of_charge", 101, "must be at most 100"),
    ],
)
def test_state_of_charge_is_a_percentage(field: str, value: float, message: str) -> None:
    site = _site(_weekly(), **{field.split("_")[0]: value})
    assert issues_of(site) == [Issue(ErrorCode.OUT_OF_RANGE, f"{POLICY}.{field}", message)]


def test_policy_type_is_schedule() -> None:
    site = _site(_weekly())
    site["device_list"][0]["policies"][0]["type"] = "threshold"
    assert issues_of(site) == [Issue(ErrorCode.INVALID, f"{POLICY}.type", "must be schedule")]
