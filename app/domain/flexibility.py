"""Resolving a device's live constraints into its flexibility (gridX): pure, so its rules are tested alone.

- Per field (minimum, maximum, set point), the constraint with the highest priority that sets it wins
  (the newest on a tie); the others are discarded, as gridX says.
- The device's physical limits rank above every constraint: a bound outside them is held to them, and the
  flexibility then says the physical limit decided it.
- When the winning minimum lies above the winning maximum, the one set with the lower priority gives way:
  it takes the other's value (physical limits outrank both).
- The set point is held within the resolved bounds.
- Expired constraints do not count: the caller passes `now`, and nothing has to delete them first.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from app.phases import NOMINAL_PHASE_VOLTAGE, PhasedCollector, phase_voltage_of
from app.vocabulary import DeviceType


@dataclass(frozen=True)
class ConstraintView:
    id: uuid.UUID
    min_active_power: float | None
    max_active_power: float | None
    active_power: float | None
    priority: int
    invalid_at: datetime
    created_at: datetime


@dataclass(frozen=True)
class Bound:
    value: float
    decided_by: ConstraintView | None  # None: the device's physical limit

    @property
    def rank(self) -> tuple[float, float]:
        if self.decided_by is None:
            return (math.inf, math.inf)
        return (self.decided_by.priority, self.decided_by.created_at.timestamp())


@dataclass(frozen=True)
class Resolved:
    minimum: Bound
    maximum: Bound
    set_point: Bound | None

    @property
    def invalid_at(self) -> datetime | None:
        """When the resolution changes next by itself: the earliest expiry among the deciding constraints."""
        deciders = [b.decided_by for b in (self.minimum, self.maximum, self.set_point) if b and b.decided_by]
        return min((c.invalid_at for c in deciders), default=None)


class FlexibleDevice(Protocol):
    """What a device's physical limits depend on (a stored row or a snapshot record)."""

    @property
    def type(self) -> str: ...

    @property
    def line_current(self) -> float | None: ...

    @property
    def pin_list(self) -> list[str] | None: ...

    @property
    def forecast_type(self) -> str | None: ...

    @property
    def maximum_charging_power(self) -> float | None: ...

    @property
    def maximum_discharging_power(self) -> float | None: ...

    @property
    def maximum_power(self) -> float | None: ...

    @property
    def conversion_efficiency(self) -> float | None: ...


class PhaseCountedCollector(PhasedCollector, Protocol):
    @property
    def nb_of_phases(self) -> int: ...


def flexibility_bounds(
    device: FlexibleDevice,
    collector: PhaseCountedCollector | None,
    constraints: Iterable[ConstraintView],
    now: datetime,
) -> Resolved:
    """The one rule for a device's operating boundary now: its physical limits on its collector, narrowed by
    the live constraints. The GraphQL flexibility and the optimizer's bounds both come from here."""
    pole = device.type == DeviceType.CHARGING_POLE.value and device.pin_list
    physical = physical_limits(
        device.type,
        line_current=device.line_current,
        phase_voltage=phase_voltage_of(collector),
        phase_count=len(device.pin_list or ()) if pole else collector.nb_of_phases if collector else 3,
        forecast_type=device.forecast_type,
        max_charging_power=device.maximum_charging_power,
        max_discharging_power=device.maximum_discharging_power,
    )
    if device.type == DeviceType.DC_CHARGING_POLE.value:
        physical = (0.0, (device.maximum_power or 0.0) / (device.conversion_efficiency or 1.0))
    return resolve(physical, constraints, now)


def physical_limits(
    device_type: str,
    *,
    line_current: float | None,
    phase_voltage: float | None,
    phase_count: int,
    forecast_type: str | None = None,
    max_charging_power: float | None = None,
    max_discharging_power: float | None = None,
) -> tuple[float, float]:
    """(min, max) active power in W from the device's configuration; consumption positive."""
    if device_type == DeviceType.BATTERY.value:
        return -(max_discharging_power or 0.0), max_charging_power or 0.0
    rating = (line_current or 0.0) * (phase_voltage or NOMINAL_PHASE_VOLTAGE) * phase_count
    if device_type == DeviceType.FORECASTED_SERIES.value and forecast_type == "pv":
        return -rating, 0.0
    return 0.0, rating


def _winner(constraints: list[ConstraintView], field: str) -> ConstraintView | None:
    return next((c for c in constraints if getattr(c, field) is not None), None)


def _held(value: float, decider: ConstraintView, low: float, high: float) -> Bound:
    if value < low:
        return Bound(low, None)
    if value > high:
        return Bound(high, None)
    return Bound(value, decider)


def resolve(physical: tuple[float, float], constraints: Iterable[ConstraintView], now: datetime) -> Resolved:
    low, high = physical
    live = sorted(
        (c for c in constraints if c.invalid_at > now), key=lambda c: (c.priority, c.created_at), reverse=True
    )
    min_c, max_c, set_c = (_winner(live, f) for f in ("min_active_power", "max_active_power", "active_power"))
    minimum = _held(min_c.min_active_power, min_c, low, high) if min_c else Bound(low, None)  # type: ignore[arg-type]
    maximum = _held(max_c.max_active_power, max_c, low, high) if max_c else Bound(high, None)  # type: ignore[arg-type]
    if minimum.value > maximum.value:
        if minimum.rank > maximum.rank:
            maximum = Bound(minimum.value, minimum.decided_by)
        else:
            minimum = Bound(maximum.value, maximum.decided_by)
    set_point = None
    if set_c is not None:
        value = min(max(set_c.active_power or 0.0, minimum.value), maximum.value)
        set_point = Bound(value, set_c)
    return Resolved(minimum, maximum, set_point)
