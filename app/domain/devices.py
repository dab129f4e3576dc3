"""Devices (Pleevi's device list): what hangs on a collector, told apart by `type`.

Choices where Pleevi's documentation is silent:
- A pin mapping lists each pin and each phase at most once: two pins on one phase would double the
  current the phase physics sees, and a pin listed twice has no single phase.
- `ucl` (uncontrollable load) is read as `load`, and written back as `load`.
- Three-phase devices without pins (forecasts, batteries) are allowed on a 1P collector: their current
  is split evenly over the collector's phases, which there is just one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator

from app.domain.battery_policies import SchedulePolicy
from app.domain.common import Current, DomainModel, Energy, Flag, Fraction, Name, Phase, Power, Priority
from app.domain.ocpp_station import OcppStationMapping
from app.domain.pydantic_issues import domain_error
from app.errors import ErrorCode

Pin = Literal["pin1", "pin2", "pin3"]


def _first_repeat(values: Sequence[str]) -> int | None:
    return next((index for index, value in enumerate(values) if value in values[:index]), None)


class PinToPhaseMapping(DomainModel):
    """`pin_list[i]` (a pin of the connector) is wired to `phase_list[i]` (a phase of the collector)."""

    pin_list: Annotated[list[Pin], Field(min_length=1)]
    phase_list: Annotated[list[Phase], Field(min_length=1)]

    @field_validator("pin_list")
    @classmethod
    def _pins_distinct(cls, value: list[Pin]) -> list[Pin]:
        repeat = _first_repeat(value)
        if repeat is not None:
            raise domain_error(ErrorCode.DUPLICATE, f"{value[repeat]} is listed twice", at=(repeat,))
        return value

    @field_validator("phase_list")
    @classmethod
    def _phases_distinct_one_per_pin(cls, value: list[Phase], info: ValidationInfo) -> list[Phase]:
        repeat = _first_repeat(value)
        if repeat is not None:
            raise domain_error(
                ErrorCode.DUPLICATE,
                f"{value[repeat]} is listed twice: two pins cannot share a phase",
                at=(repeat,),
            )
        pins = info.data.get("pin_list")
        if pins is not None and len(pins) != len(value):
            raise domain_error(
                ErrorCode.INVALID, f"has {len(value)} phases for {len(pins)} pins: give one phase per pin"
            )
        return value

    def phase_of(self, pin: Pin) -> Phase:
        """The collector phase that `pin` draws from (KeyError for a pin the pole does not use)."""
        return dict(zip(self.pin_list, self.phase_list, strict=True))[pin]


class _DeviceBase(DomainModel):
    name: Name
    collector: Name
    """The name of the collector the device hangs on."""


class ChargingPole(_DeviceBase):
    """An AC charging pole; one mapped pin makes it a single-phase pole. `ocpp_station`: the OCPP station that
    drives it (optional; see `app.domain.ocpp_station`)."""

    type: Literal["charging_pole_3phase"] = "charging_pole_3phase"
    line_current: Current
    pin_to_phase_mapping: PinToPhaseMapping
    ocpp_station: OcppStationMapping | None = None
    supports_phase_switching: Flag = False
    """EVerest `ac_supports_changing_phases_during_charging`: the pole may switch a car between three phases and
    one (the pin its mapping lists first)."""
    bidirectional: Flag = False
    """The pole can discharge a car (V2G/V2H) whose session allows it."""


class DcChargingPole(_DeviceBase):
    """A DC charging pole: power-limited, its converter draws balanced current on every phase of its collector
    (AC side = car-side power / `conversion_efficiency` / (phases x V)); no minimum current unless
    `minimum_power` (W, car side) is given. `line_current` (optional) caps the AC-side current per phase."""

    type: Literal["dc_charging_pole"] = "dc_charging_pole"
    maximum_power: Power
    """W delivered to the car at most (EVerest `total_power_W` on the leaves' side)."""
    line_current: Current | None = None
    conversion_efficiency: Fraction = 1.0
    """EVerest's `conversion_efficiency` from the grid (root) side to the car (leaves) side; default 1."""
    minimum_power: Power | None = None
    bidirectional: Flag = False


def _ucl_means_load(value: object) -> object:
    return "load" if value == "ucl" else value


class ForecastedSeries(_DeviceBase):
    """A non-controllable device whose power is forecast: PV production or an uncontrollable load."""

    type: Literal["forecasted_series_3phase"] = "forecasted_series_3phase"
    line_current: Current
    forecast_type: Annotated[Literal["pv", "load"], BeforeValidator(_ucl_means_load)]
    should_be_aggregated: Flag = False


class Battery(_DeviceBase):
    """A battery energy storage system (BESS); power in W (positive while charging), energy in Wh."""

    type: Literal["battery_energy_storage_system"] = "battery_energy_storage_system"
    charging_efficiency: Fraction = 0.95
    discharging_efficiency: Fraction = 0.95
    maximum_charging_power: Power
    maximum_discharging_power: Power
    operational_battery_capacity: Energy
    charging_priority: Priority = 10
    discharging_priority: Priority = 10
    policies: list[SchedulePolicy] = Field(default_factory=list)


Device = Annotated[ChargingPole | DcChargingPole | ForecastedSeries | Battery, Field(discriminator="type")]
