"""GraphQL inputs for the topology, and their translation into entries of Pleevi's site document.

Update inputs leave out (UNSET) what they do not change; an explicit null clears an optional field."""

from __future__ import annotations

import dataclasses
import enum
from datetime import datetime
from typing import Any

import strawberry
from strawberry import UNSET, relay

from app.vocabulary import ForecastType, Phase, PhaseType, Pin, PolicyFrequency

RENAMED = {"phase_type": "1P_3P"}
NOT_IN_DOCUMENT = {"parent_id", "collector_id"}


@strawberry.input
class PhasePermutationInput:
    child_phase: Phase
    parent_phase: Phase


@strawberry.input
class PinToPhaseMappingInput:
    pin_list: list[Pin]
    phase_list: list[Phase]


@strawberry.input(description="Pleevi's BESS policy: SoC between min and max at the scheduled instants.")
class BatteryPolicyInput:
    frequency: PolicyFrequency
    date_times: list[datetime] | None = strawberry.field(default=None, description="For ONCE.")
    day_of_week: list[str] | None = strawberry.field(default=None, description="For WEEKLY: monday .. sunday.")
    time: str | None = strawberry.field(default=None, description="For WEEKLY: HH:MM.")
    timezone: str | None = strawberry.field(default=None, description="For WEEKLY: IANA timezone.")
    minimum_state_of_charge: float
    maximum_state_of_charge: float


@strawberry.input
class CollectorInput:
    name: str
    parent_id: relay.GlobalID | None = strawberry.field(default=None, description="Null for the main collector.")
    line_current: float
    phase_voltage: float | None = None
    line_voltage: float | None = None
    commodity: str = "electricity"
    phase_type: PhaseType = PhaseType.THREE_PHASE
    nb_of_phases: int | None = None
    phase: Phase | None = None
    phase_permutations: list[PhasePermutationInput] | None = None


@strawberry.input
class UpdateCollectorInput:
    name: str | None = UNSET
    parent_id: relay.GlobalID | None = UNSET
    line_current: float | None = UNSET
    phase_voltage: float | None = UNSET
    line_voltage: float | None = UNSET
    phase_type: PhaseType | None = UNSET
    nb_of_phases: int | None = UNSET
    phase: Phase | None = UNSET
    phase_permutations: list[PhasePermutationInput] | None = UNSET


@strawberry.input
class ChargingPoleInput:
    name: str
    line_current: float
    pin_to_phase_mapping: PinToPhaseMappingInput
    supports_phase_switching: bool = False
    bidirectional: bool = False


@strawberry.input
class UpdateChargingPoleInput:
    name: str | None = UNSET
    collector_id: relay.GlobalID | None = UNSET
    line_current: float | None = UNSET
    pin_to_phase_mapping: PinToPhaseMappingInput | None = UNSET
    supports_phase_switching: bool | None = UNSET
    bidirectional: bool | None = UNSET


@strawberry.input(description="A DC charging pole (Pleevi dc_charging_pole); powers in W, car side.")
class DcChargingPoleInput:
    name: str
    maximum_power: float
    line_current: float | None = None
    conversion_efficiency: float = 1.0
    minimum_power: float | None = None
    bidirectional: bool = False


@strawberry.input
class UpdateDcChargingPoleInput:
    name: str | None = UNSET
    collector_id: relay.GlobalID | None = UNSET
    maximum_power: float | None = UNSET
    line_current: float | None = UNSET
    conversion_efficiency: float | None = UNSET
    minimum_power: float | None = UNSET
    bidirectional: bool | None = UNSET


@strawberry.input
class ForecastedSeriesInput:
    name: str
    line_current: float
    forecast_type: ForecastType
    should_be_aggregated: bool = False


@strawberry.input
class UpdateForecastedSeriesInput:
    name: str | None = UNSET
    collector_id: relay.GlobalID | None = UNSET
    line_current: float | None = UNSET
    forecast_type: ForecastType | None = UNSET
    should_be_aggregated: bool | None = UNSET


@strawberry.input
class BatteryInput:
    name: str
    charging_efficiency: float = 0.95
    discharging_efficiency: float = 0.95
    maximum_charging_power: float
    maximum_discharging_power: float
    operational_battery_capacity: float
    charging_priority: int = 10
    discharging_priority: int = 10
    policies: list[BatteryPolicyInput] = strawberry.field(default_factory=list)


@strawberry.input
class UpdateBatteryInput:
    name: str | None = UNSET
    collector_id: relay.GlobalID | None = UNSET
    charging_efficiency: float | None = UNSET
    discharging_efficiency: float | None = UNSET
    maximum_charging_power: float | None = UNSET
    maximum_discharging_power: float | None = UNSET
    operational_battery_capacity: float | None = UNSET
    charging_priority: int | None = UNSET
    discharging_priority: int | None = UNSET
    policies: list[BatteryPolicyInput] | None = UNSET


def _value(name: str, value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if name == "phase_permutations" and value is not None:
        return {p.child_phase.value: p.parent_phase.value for p in value}
    if name == "pin_to_phase_mapping" and value is not None:
        return {
            "pin_list": [p.value for p in value.pin_list],
            "phase_list": [p.value for p in value.phase_list],
        }
    if name == "policies" and value is not None:
        return [_policy(p) for p in value]
    return value


def _policy(policy: BatteryPolicyInput) -> dict[str, Any]:
    schedule: dict[str, Any] = {"frequency": policy.frequency.value}
    if policy.date_times is not None:
        schedule["date_times"] = [t.isoformat() for t in policy.date_times]
    for field in ("day_of_week", "time", "timezone"):
        if getattr(policy, field) is not None:
            schedule[field] = getattr(policy, field)
    return {
        "type": "schedule",
        "schedule": schedule,
        "minimum_state_of_charge": policy.minimum_state_of_charge,
        "maximum_state_of_charge": policy.maximum_state_of_charge,
    }


def document_entry(input: Any, **extra: Any) -> dict[str, Any]:
    """The input's given fields as a document entry (snake_case, Pleevi's names); UNSET fields are left out."""
    entry = {
        RENAMED.get(f.name, f.name): _value(f.name, getattr(input, f.name))
        for f in dataclasses.fields(input)
        if f.name not in NOT_IN_DOCUMENT and getattr(input, f.name) is not UNSET
    }
    return {**entry, **extra}
