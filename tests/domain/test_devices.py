"""Device fields: the type union, ratings, pin mappings and battery policies."""

from __future__ import annotations

from typing import Any

import pytest

from app.domain import parse_site_configuration
from app.errors import ErrorCode, Issue

from .documents import Document, battery, charging_pole, codes_at, issues_of, main_collector, pv_forecast


def _site(*devices: dict[str, Any]) -> Document:
    return {"collector_list": [main_collector()], "device_list": list(devices)}


def test_unknown_type_names_the_allowed_types() -> None:
    assert issues_of(_site({**pv_forecast(), "type": "heat_pump"})) == [
        Issue(
            ErrorCode.UNSUPPORTED,
            "device_list[0].type",
            "unsupported type 'heat_pump'; must be one of charging_pole_3phase, dc_charging_pole, "
            "forecasted_series_3phase, battery_energy_storage_system",
        )
    ]


def test_missing_type() -> None:
    device = {key: value for key, value in pv_forecast().items() if key != "type"}
    assert codes_at(_site(device)) == {(ErrorCode.REQUIRED, "device_list[0].type")}


def test_fields_of_another_type_are_refused() -> None:
    assert issues_of(_site({**pv_forecast(), "maximum_charging_power": 5000})) == [
        Issue(ErrorCode.INVALID, "device_list[0].maximum_charging_power", "is not a known field")
    ]


@pytest.mark.parametrize(
    ("device", "field", "value", "message"),
    [
        (charging_pole, "line_current", 0, "must be greater than 0"),
        (pv_forecast, "line_current", -10, "must be greater than 0"),
        (battery, "charging_efficiency", 0, "must be greater than 0"),
        (battery, "discharging_efficiency", 1.01, "must be at most 1"),
        (battery, "maximum_charging_power", -1, "must be greater than 0"),
        (battery, "maximum_discharging_power", 0, "must be greater than 0"),
        (battery, "operational_battery_capacity", 0, "must be greater than 0"),
        (battery, "charging_priority", 0, "must be at least 1"),
        (battery, "discharging_priority", 11, "must be at most 10"),
    ],
)
def test_ratings_out_of_range(device: Any, field: str, value: float, message: str) -> None:
    assert issues_of(_site({**device(), field: value})) == [
        Issue(ErrorCode.OUT_OF_RANGE, f"device_list[0].{field}", message)
    ]


def test_efficiency_of_one_is_allowed() -> None:
    assert parse_site_configuration(_site({**battery(), "charging_efficiency": 1, "discharging_efficiency": 1}))


@pytest.mark.parametrize(("field", "value"), [("charging_priority", 2.5), ("charging_priority", "5")])
def test_priority_must_be_an_integer(field: str, value: object) -> None:
    assert issues_of(_site({**battery(), field: value})) == [
        Issue(ErrorCode.INVALID_FORMAT, f"device_list[0].{field}", "must be an integer")
    ]


def test_forecast_type_choices() -> None:
    assert issues_of(_site({**pv_forecast(), "forecast_type": "wind"})) == [
        Issue(ErrorCode.INVALID, "device_list[0].forecast_type", "must be one of pv, load")
    ]


def test_should_be_aggregated_must_be_a_boolean() -> None:
    assert codes_at(_site({**pv_forecast(), "should_be_aggregated": "no"})) == {
        (ErrorCode.INVALID_FORMAT, "device_list[0].should_be_aggregated")
    }


def _mapping(pins: list[Any], phases: list[Any]) -> list[Issue]:
    return issues_of(_site({**charging_pole(), "pin_to_phase_mapping": {"pin_list": pins, "phase_list": phases}}))


MAPPING = "device_list[0].pin_to_phase_mapping"


def test_rotated_and_single_pin_mappings_are_accepted() -> None:
    for pins, phases in [(["pin1", "pin2", "pin3"], ["L2", "L3", "L1"]), (["pin2"], ["L3"])]:
        pole = {**charging_pole(), "pin_to_phase_mapping": {"pin_list": pins, "phase_list": phases}}
        assert parse_site_configuration(_site(pole))


def test_unknown_pin() -> None:
    assert _mapping(["pin1", "pin4"], ["L1", "L2"]) == [
        Issue(ErrorCode.INVALID, f"{MAPPING}.pin_list[1]", "must be one of pin1, pin2, pin3")
    ]


def test_unknown_phase() -> None:
    assert _mapping(["pin1", "pin2"], ["L1", "N"]) == [
        Issue(ErrorCode.INVALID, f"{MAPPING}.phase_list[1]", "must be one of L1, L2, L3")
    ]


def test_different_lengths() -> None:
    assert _mapping(["pin1", "pin2", "pin3"], ["L1", "L2"]) == [
        Issue(ErrorCode.INVALID, f"{MAPPING}.phase_list", "has 2 phases for 3 pins: give one phase per pin")
    ]


def test_repeated_pin() -> None:
    assert _mapping(["pin1", "pin2", "pin1"], ["L1", "L2", "L3"]) == [
        Issue(ErrorCode.DUPLICATE, f"{MAPPING}.pin_list[2]", "pin1 is listed twice")
    ]


def test_repeated_phase() -> None:
    assert _mapping(["pin1", "pin2"], ["L3", "L3"]) == [
        Issue(
            ErrorCode.DUPLICATE,
            f"{MAPPING}.phase_list[1]",
            "L3 is listed twice: two pins cannot share a phase",
        )
    ]


def test_empty_mapping() -> None:
    assert _mapping([], []) == [
        Issue(ErrorCode.REQUIRED, f"{MAPPING}.pin_list", "needs at least one item"),
        Issue(ErrorCode.REQUIRED, f"{MAPPING}.phase_list", "needs at least one item"),
    ]


def test_missing_mapping() -> None:
    pole = {key: value for key, value in charging_pole().items() if key != "pin_to_phase_mapping"}
    assert codes_at(_site(pole)) == {(ErrorCode.REQUIRED, "device_list[0].pin_to_phase_mapping")}


def _dc(**fields: Any) -> dict[str, Any]:
    return {"name": "dc", "collector": "main_collector", "type": "dc_charging_pole", **fields}


def test_a_dc_pole_needs_its_maximum_power_and_takes_efficiency_and_minimum_power() -> None:
    assert codes_at(_site(_dc())) == {(ErrorCode.REQUIRED, "device_list[0].maximum_power")}
    config = parse_site_configuration(_site(_dc(maximum_power=50_000.0, conversion_efficiency=0.95)))
    (dc,) = config.device_list
    assert dc.type == "dc_charging_pole" and dc.conversion_efficiency == 0.95 and dc.minimum_power is None
    assert codes_at(_site(_dc(maximum_power=50_000.0, conversion_efficiency=1.2))) == {
        (ErrorCode.OUT_OF_RANGE, "device_list[0].conversion_efficiency")
    }
    assert codes_at(_site(_dc(maximum_power=50_000.0, pin_to_phase_mapping={}))) == {
        (ErrorCode.INVALID, "device_list[0].pin_to_phase_mapping")
    }


def test_an_ac_pole_may_switch_phases_and_discharge_both_off_by_default() -> None:
    (pole,) = parse_site_configuration(_site(charging_pole())).device_list
    assert pole.supports_phase_switching is False and pole.bidirectional is False  # type: ignore[union-attr]
    (pole,) = parse_site_configuration(
        _site({**charging_pole(), "supports_phase_switching": True, "bidirectional": True})
    ).device_list
    assert pole.supports_phase_switching is True and pole.bidirectional is True  # type: ignore[union-attr]
