"""A lowered bound takes effect at once: when a constraint changes a pole's flexibility, the station's next
profile is held under the pole's new maximum (and set point) without waiting for the full re-plan, which
follows and replaces it. Safety first: the ceiling only ever lowers what a station was sent, and holds every
plan made before the constraint (one still being solved included) until a plan made after it arrives.

The bound is the one rule of `app.domain.flexibility` (physical limits, priorities, expiries), turned into
amperes per phase as the optimizer does (W / (phase voltage x phases)); below the car's minimum current
it is 0, since a car takes 0 or at least its minimum."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import col

from app.database import Database
from app.domain.flexibility import ConstraintView, flexibility_bounds
from app.models import ChargingSession, Collector, Device, DeviceConstraint
from app.phases import nominal_voltage_of
from app.vocabulary import SessionState


@dataclass(frozen=True)
class Ceiling:
    """At most `watts` on the pole, for plans made before `since`, until `until` (None: no expiry)."""

    watts: float
    volts: float
    pins: int
    minimum_a: float
    since: datetime
    until: datetime | None

    def amps(self, phase_count: int | None) -> float:
        amps = max(self.watts, 0.0) / (self.volts * (phase_count or self.pins))
        return amps if amps >= self.minimum_a else 0.0

    def holds(self, planned_at: datetime, now: datetime) -> bool:
        return planned_at < self.since and (self.until is None or now < self.until)


async def pole_ceiling(db: Database, device_id: uuid.UUID, now: datetime) -> Ceiling | None:
    """The pole's bound now, or None when no constraint lowers it below its physical limit."""
    async with db.session() as session:
        pole = await session.get(Device, device_id)
        if pole is None:
            return None
        collector = await session.get(Collector, pole.collector_id) if pole.collector_id else None
        constraints = (
            await session.execute(
                select(DeviceConstraint).where(
                    col(DeviceConstraint.device_id) == device_id, col(DeviceConstraint.invalid_at) > now
                )
            )
        ).scalars()
        views = [
            ConstraintView(
                c.id, c.min_active_power, c.max_active_power, c.active_power, c.priority, c.invalid_at, c.created_at
            )
            for c in constraints
        ]
        charging = (
            await session.execute(
                select(ChargingSession).where(
                    col(ChargingSession.device_id) == device_id, col(ChargingSession.state) != SessionState.ENDED.value
                )
            )
        ).scalar()
    resolved = flexibility_bounds(pole, collector, views, now)
    bounds = [b for b in (resolved.maximum, resolved.set_point) if b is not None and b.decided_by is not None]
    if not bounds:
        return None
    pins = len(charging.used_pins) if charging is not None else len(pole.pin_list or ()) or 1
    return Ceiling(
        watts=min(b.value for b in bounds),
        volts=nominal_voltage_of(collector),
        pins=pins,
        minimum_a=charging.ac_min_current_a if charging is not None else 0.0,
        since=now,
        until=min((b.decided_by.invalid_at for b in bounds if b.decided_by), default=None),
    )
