"""The seeds' examples as documents, built fresh on each call so a test can break one field of them."""

from __future__ import annotations

from typing import Any

import pytest

from app.domain import parse_site_configuration
from app.errors import ErrorCode, Issue, ValidationFailed

Document = dict[str, Any]


def main_collector() -> Document:
    """seeds/000: the main collector, 63 A, 230 V, three-phase."""
    return {
        "name": "main_collector",
        "children": [],
        "line_current": 63,
        "phase_voltage": 230,
        "commodity": "electricity",
        "1P_3P": "3P",
        "nb_of_phases": 3,
    }


def charging_pole() -> Document:
    """seeds/000: pole LR34_001, pins 1..3 on L1..L3."""
    return {
        "name": "LR34_001",
        "collector": "main_collector",
        "type": "charging_pole_3phase",
        "line_current": 32,
        "pin_to_phase_mapping": {"pin_list": ["pin1", "pin2", "pin3"], "phase_list": ["L1", "L2", "L3"]},
    }


def pv_forecast() -> Document:
    """seeds/000: the PV inverter's forecasted series."""
    return {
        "name": "pv_inverter",
        "collector": "main_collector",
        "type": "forecasted_series_3phase",
        "line_current": 100,
        "forecast_type": "pv",
        "should_be_aggregated": False,
    }


def seed_battery() -> Document:
    """seeds/003 verbatim (its powers and capacity are 0), renamed: its name clashes with the pole's."""
    return {
        "name": "home_battery",
        "collector": "main_collector",
        "type": "battery_energy_storage_system",
        "charging_efficiency": 0.95,
        "discharging_efficiency": 0.95,
        "maximum_charging_power": 0,
        "maximum_discharging_power": 0,
        "operational_battery_capacity": 0,
        "charging_priority": 10,
        "discharging_priority": 10,
        "policies": [
            {
                "type": "schedule",
                "schedule": {
                    "frequency": "weekly",
                    "day_of_week": ["monday", "friday"],
                    "time": "09:00",
                    "timezone": "America/New_York",
                },
                "minimum_state_of_charge": 85.49,
                "maximum_state_of_charge": 85.49,
            }
        ],
    }


def battery() -> Document:
    """The seed battery with usable ratings."""
    return {
        **seed_battery(),
        "maximum_charging_power": 5000,
        "maximum_discharging_power": 4600,
        "operational_battery_capacity": 10000,
    }


def sub_board(name: str = "sub_board", **fields: Any) -> Document:
    """A 3P 32 A sub-board at 400 V line voltage."""
    return {"name": name, "line_current": 32, "line_voltage": 400, **fields}


def issues_of(document: object) -> list[Issue]:
    """The issues `parse_site_configuration` raises for `document` (fails the test if it parses)."""
    with pytest.raises(ValidationFailed) as failure:
        parse_site_configuration(document)
    return failure.value.issues


def codes_at(document: object) -> set[tuple[ErrorCode, str | None]]:
    """(code, field) of every issue, for exact assertions."""
    return {(issue.code, issue.field) for issue in issues_of(document)}
