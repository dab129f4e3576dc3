"""Input data of one optimization: plain frozen dataclasses, no behaviour beyond validation.

Units and signs follow DOMAIN.md: W, Wh, A per phase, V (phase voltage), prices per kWh.
Import/consumption is positive, export/production negative; a battery is positive while charging.
Every instant is a timezone-aware datetime; the solver works in UTC.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

import numpy as np

PHASES: tuple[str, str, str] = ("L1", "L2", "L3")
"""Phase names of a three-phase collector, in its own naming."""

Series = Sequence[float] | np.ndarray
"""One value per step of the time grid."""

SolverName = Literal["HIGHS", "ECOS", "CLARABEL"]


def _require_aware(instant: datetime, what: str) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {instant!r}")


@dataclass(frozen=True)
class Collector:
    """A fuse-protected node of the electrical tree (main board, sub-board, transformer).

    `phase_voltage` is the phase (line-to-neutral) voltage: the caller converts a line voltage with
    /sqrt(3). A 1P collector has one phase named `phase` (the parent phase it hangs on; a 1P root
    without `phase` is L1). A 3P child may rename its phases with `phase_permutations`
    (child phase -> parent phase, one-to-one); by default L1->L1, L2->L2, L3->L3.
    """

    id: str
    line_current: float
    phase_voltage: float = 230.0
    parent_id: str | None = None
    kind: Literal["1P", "3P"] = "3P"
    phase: str | None = None
    phase_permutations: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        if self.line_current < 0:
            raise ValueError(f"collector {self.id!r}: line_current must be >= 0")
        if self.phase_voltage <= 0:
            raise ValueError(f"collector {self.id!r}: phase_voltage must be > 0")
        if self.kind not in ("1P", "3P"):
            raise ValueError(f"collector {self.id!r}: kind must be '1P' or '3P'")
        if self.phase is not None and self.phase not in PHASES:
            raise ValueError(f"collector {self.id!r}: phase must be one of {PHASES}")
        if self.kind == "1P" and self.parent_id is not None and self.phase is None:
            raise ValueError(f"collector {self.id!r}: a 1P child must name the parent phase it hangs on")


@dataclass(frozen=True)
class PinToPhaseMapping:
    """Connector pins -> phases of the pole's collector (Pleevi `pin_to_phase_mapping`)."""

    pin_list: tuple[str, ...]
    phase_list: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.pin_list) != len(self.phase_list) or not self.pin_list:
            raise ValueError("pin_to_phase_mapping needs as many phases as pins, at least one")
        if len(set(self.pin_list)) != len(self.pin_list):
            raise ValueError("pin_to_phase_mapping repeats a pin")

    def phase_of(self, pin: str) -> str:
        return self.phase_list[self.pin_list.index(pin)]


@dataclass(frozen=True)
class ChargingPole:
    """A charging pole; one pin in the mapping makes an AC pole single-phase.

    `supports_phase_switching` (EVerest `ac_supports_changing_phases_during_charging`): the pole may switch a
    car between three phases and one, the pin its mapping lists first. A DC pole (`dc_max_power_W` set) is
    power-limited: its converter draws balanced AC current on every phase of its collector, P / efficiency /
    (phases x V), with no minimum current (`dc_min_power_W`, car side, is optional); `line_current` caps that
    AC current. `bidirectional`: the pole can discharge a car whose session allows it (V2G/V2H).
    """

    id: str
    collector_id: str
    line_current: float
    pin_to_phase_mapping: PinToPhaseMapping
    supports_phase_switching: bool = False
    dc_max_power_W: float | None = None
    conversion_efficiency: float = 1.0
    dc_min_power_W: float = 0.0
    bidirectional: bool = False

    def __post_init__(self) -> None:
        if not 0 < self.conversion_efficiency <= 1:
            raise ValueError(f"pole {self.id!r}: conversion_efficiency must be in (0, 1]")
        if self.dc_max_power_W is not None and self.dc_max_power_W < 0:
            raise ValueError(f"pole {self.id!r}: dc_max_power_W must be >= 0")
        if self.dc_min_power_W < 0:
            raise ValueError(f"pole {self.id!r}: dc_min_power_W must be >= 0")

    @property
    def is_dc(self) -> bool:
        return self.dc_max_power_W is not None


@dataclass(frozen=True)
class ForecastedSeries:
    """A non-controllable device with a forecast in W per step (PV negative, load positive).

    Give either `total_W` (split evenly over the collector's phases) or `per_phase_W`
    (collector phase name -> series). `line_current` is informative: forecasts are not curtailed.
    """

    id: str
    collector_id: str
    kind: Literal["pv", "load"]
    line_current: float
    total_W: Series | None = None
    per_phase_W: Mapping[str, Series] | None = None

    def __post_init__(self) -> None:
        if (self.total_W is None) == (self.per_phase_W is None):
            raise ValueError(f"forecast {self.id!r}: give exactly one of total_W and per_phase_W")
        if self.kind not in ("pv", "load"):
            raise ValueError(f"forecast {self.id!r}: kind must be 'pv' or 'load'")


@dataclass(frozen=True)
class BatteryPolicy:
    """State of charge between min and max percent at each instant (UTC datetime or step index).

    A step index k means the boundary at start + k*step (0 = now, T = end of horizon). Instants
    between boundaries are honoured exactly by interpolating the (piecewise linear) SoC.
    Use `solver.policies.expand_pleevi_policies` to turn Pleevi `once`/`weekly` policies into these.
    """

    instants: tuple[datetime | int, ...]
    minimum_soc_percent: float
    maximum_soc_percent: float

    def __post_init__(self) -> None:
        if not 0 <= self.minimum_soc_percent <= self.maximum_soc_percent <= 100:
            raise ValueError("battery policy needs 0 <= minimum <= maximum <= 100 percent")


@dataclass(frozen=True)
class Battery:
    """A battery energy storage system, three-phase without pins: its power splits evenly.

    `initial_soc_percent` is the state of charge now, in percent of `capacity_Wh` (the operational
    capacity), the unit gridX flexibility and Pleevi policies speak. Priorities 1..10: a LOWER number
    is used FIRST (it gets a smaller preference cost per kWh moved). At the horizon's end the battery
    aims at `end_soc_percent` (default: `initial_soc_percent`, so it ends no lower than it started), or,
    with `end_value_per_kWh`, values what it still holds at that price instead of keeping a floor.
    """

    id: str
    collector_id: str
    maximum_charging_power_W: float
    maximum_discharging_power_W: float
    capacity_Wh: float
    initial_soc_percent: float
    charging_efficiency: float = 0.95
    discharging_efficiency: float = 0.95
    charging_priority: int = 10
    discharging_priority: int = 10
    policies: tuple[BatteryPolicy, ...] = ()
    end_soc_percent: float | None = None
    end_value_per_kWh: float | None = None

    def __post_init__(self) -> None:
        for name in ("charging_efficiency", "discharging_efficiency"):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"battery {self.id!r}: {name} must be in (0, 1]")
        for name in ("charging_priority", "discharging_priority"):
            if not 1 <= getattr(self, name) <= 10:
                raise ValueError(f"battery {self.id!r}: {name} must be in 1..10")
        if self.capacity_Wh <= 0 or self.maximum_charging_power_W < 0 or self.maximum_discharging_power_W < 0:
            raise ValueError(f"battery {self.id!r}: capacity must be > 0 and power limits >= 0")
        if not 0 <= self.initial_soc_percent <= 100:
            raise ValueError(f"battery {self.id!r}: initial_soc_percent must be in 0..100")
        if self.end_soc_percent is not None and not 0 <= self.end_soc_percent <= 100:
            raise ValueError(f"battery {self.id!r}: end_soc_percent must be in 0..100")


@dataclass(frozen=True)
class FlexibilityBounds:
    """Live operating range of a controllable device (gridX flexibility), in W.

    `min_power_W`/`max_power_W` hold for every step that starts before `valid_until` (None: the
    whole horizon); `set_point_W` pins the current step only. Physical limits still win.
    """

    device_id: str
    min_power_W: float | None = None
    max_power_W: float | None = None
    set_point_W: float | None = None
    valid_until: datetime | None = None


@dataclass(frozen=True)
class LoadMeasurement:
    """Latest measurement of a non-controllable device, used for the enforced limits of now.

    `current_per_phase_A` (collector phase name -> A, signed) wins over `power_W` (W, split evenly).
    """

    device_id: str
    current_per_phase_A: Mapping[str, float] | None = None
    power_W: float | None = None


@dataclass(frozen=True)
class ChargingSession:
    """A car plugged into a pole now (Pleevi transaction + EVerest OptimizerTarget).

    The car draws the same current on each used pin; with `max_phase_count` below the number of
    used pins it uses the first ones in pole pin order. `leave_time` None: it stays past the horizon
    and its energy is due at the horizon end. `charge_to_max_percent` caps the energy only when the
    car's capacity is known (`car_battery_capacity_Wh` and `car_battery_soc_percent`), or when the
    car is already at or above it. `energy_needed_Wh` is what the car still needs; `energy_delivered_Wh`
    what it already received in this session (who is furthest behind is served first). `price_limit`
    (per kWh) values charged energy at that price at steps whose import price is below it, so the car
    charges at full power there.
    """

    device_id: str
    used_pins: tuple[str, ...]
    energy_needed_Wh: float
    leave_time: datetime | None = None
    energy_delivered_Wh: float = 0.0
    car_battery_soc_percent: float | None = None
    charge_to_max_percent: float | None = None
    car_battery_capacity_Wh: float | None = None
    price_limit: float | None = None
    full_autonomy: bool = False
    ac_min_current_A: float = 6.0
    max_phase_count: int | None = None
    max_current_per_phase_A: float | None = None
    min_phase_count: int | None = None
    active_phase_count: int | None = None
    last_phase_switch: datetime | None = None
    allow_discharge: bool = False
    min_soc_percent: float = 0.0
    max_discharge_power_W: float | None = None
    discharging_efficiency: float = 0.95
    """Phase switching (on a pole that supports it): `min_phase_count` 1 (or None) lets the car switch to one
    phase; `active_phase_count` is the count in force now and `last_phase_switch` when it was set (the minimum
    time between switches counts from there). Discharging (on a bidirectional pole, off by default): the car
    gives energy back down to `min_soc_percent` of `car_battery_capacity_Wh` (both needed, with the state of
    charge), at most `max_discharge_power_W` (default: the pole's limit), losing 1 / `discharging_efficiency`."""

    def __post_init__(self) -> None:
        if not 0 < self.discharging_efficiency <= 1:
            raise ValueError(f"session on {self.device_id!r}: discharging_efficiency must be in (0, 1]")
        if not 0 <= self.min_soc_percent <= 100:
            raise ValueError(f"session on {self.device_id!r}: min_soc_percent must be in 0..100")
        if self.last_phase_switch is not None:
            _require_aware(self.last_phase_switch, "last_phase_switch")
        if not self.used_pins:
            raise ValueError(f"session on {self.device_id!r}: used_pins is empty")
        if self.energy_needed_Wh < 0 or self.ac_min_current_A < 0 or self.energy_delivered_Wh < 0:
            raise ValueError(f"session on {self.device_id!r}: energy and minimum current must be >= 0")
        if self.leave_time is not None:
            _require_aware(self.leave_time, "leave_time")


@dataclass(frozen=True)
class ExternalLimits:
    """Limits on the grid connection per step (EVerest schedule_import/schedule_export).

    Each is None (no limit) or one value per step, math.inf for no limit at that step. Power is the
    site total in W, current is per phase of the root collector in A; all are magnitudes >= 0.
    """

    import_power_W: Series | None = None
    export_power_W: Series | None = None
    import_current_A: Series | None = None
    export_current_A: Series | None = None


@dataclass(frozen=True)
class OptimizationConfig:
    """How to optimize. Cost minimization off: only feasibility, session targets and fairness.

    `fair_share_horizon`: how far ahead comparable sessions (same window, current range and options)
    are kept at the same current, step by step; over the whole stay they are kept fair by the shortfall
    penalty, which grows with the share of a car's need left unmet. `enforced_valid_for`: how long the
    enforced limits hold from the moment they are issued, whatever the planning step.
    """

    cost_minimization: bool = True
    peak_minimization: bool = False
    peak_price_per_kW: float = 0.0
    peak_already_reached_W: float = 0.0
    step: timedelta = timedelta(minutes=15)
    horizon: timedelta = timedelta(hours=24)
    solver: SolverName = "HIGHS"
    time_limit_s: float = 10.0
    enforced_valid_for: timedelta = timedelta(seconds=60)
    fair_share_horizon: timedelta = timedelta(hours=1)
    phase_switch_min_interval: timedelta = timedelta(minutes=10)
    phase_switch_hysteresis_W: float = 200.0
    """Phase switching: at least this long between two switches of one car, and three phases from the power a car
    takes at its minimum current on three phases (EVerest's 4140 W at 6 A), one phase below that less the
    hysteresis."""

    def __post_init__(self) -> None:
        if self.step <= timedelta(0) or self.horizon < self.step:
            raise ValueError("step must be > 0 and horizon >= step")
        if self.solver not in ("HIGHS", "ECOS", "CLARABEL"):
            raise ValueError(f"solver must be HIGHS, ECOS or CLARABEL, got {self.solver!r}")
        if self.time_limit_s <= 0:
            raise ValueError("time_limit_s must be > 0")
        if self.enforced_valid_for <= timedelta(0):
            raise ValueError("enforced_valid_for must be > 0")

    @property
    def steps(self) -> int:
        return math.ceil(self.horizon / self.step)

    @property
    def step_hours(self) -> float:
        return self.step / timedelta(hours=1)


@dataclass(frozen=True)
class Problem:
    """Everything one optimization needs. Prices are per kWh, one value per step."""

    start: datetime
    collectors: tuple[Collector, ...]
    import_price: Series
    export_price: Series
    poles: tuple[ChargingPole, ...] = ()
    forecasts: tuple[ForecastedSeries, ...] = ()
    batteries: tuple[Battery, ...] = ()
    sessions: tuple[ChargingSession, ...] = ()
    flexibility: tuple[FlexibilityBounds, ...] = ()
    measurements: tuple[LoadMeasurement, ...] = ()
    external_limits: ExternalLimits = field(default_factory=ExternalLimits)
    config: OptimizationConfig = field(default_factory=OptimizationConfig)
    issued_at: datetime | None = None
    """When the enforced limits are issued (their validity counts from here); None: at `start`."""

    def __post_init__(self) -> None:
        _require_aware(self.start, "start")
        if self.issued_at is not None:
            _require_aware(self.issued_at, "issued_at")
        steps = self.config.steps
        for name in ("import_price", "export_price"):
            if len(getattr(self, name)) != steps:
                raise ValueError(f"{name} needs {steps} values (one per step), got {len(getattr(self, name))}")

    @property
    def steps(self) -> int:
        return self.config.steps

    @property
    def step_hours(self) -> float:
        return self.config.step_hours

    @property
    def issued(self) -> datetime:
        return self.start if self.issued_at is None else self.issued_at

    def step_start(self, index: int) -> datetime:
        return self.start + index * self.config.step

    def steps_before(self, instant: datetime) -> float:
        """Position of `instant` on the grid in (fractional) steps from start."""
        return (instant - self.start) / self.config.step
