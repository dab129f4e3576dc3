"""What the planner must know of OCPP stations: a pole whose station refuses profiles, stops answering or
is offline is not under control, so its car is planned at the station's fallback current (what a station
draws when it hears nothing) until its need is met; a phase rotation that contradicts the pole's
pin-to-phase mapping is reported with the run."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import solver
from app.models import OcppStation

UNCONTROLLED_HORIZON = timedelta(days=7)


async def station_bounds(
    session: AsyncSession,
    sessions: list[solver.ChargingSession],
    volts_of: dict[str, float],
    line_current_of: dict[str, float],
    now: datetime,
) -> tuple[list[solver.FlexibilityBounds], list[str]]:
    """Bounds pinning uncontrolled poles' cars at their fallback current, and the warnings that say so."""
    device_ids = [uuid.UUID(s.device_id) for s in sessions] + [uuid.UUID(d) for d in line_current_of]
    rows = (await session.execute(select(OcppStation).where(OcppStation.device_id.in_(set(device_ids))))).scalars()
    stations = {str(row.device_id): row for row in rows}
    bounds, warnings = [], []
    for row in stations.values():
        if row.phase_rotation_issue:
            warnings.append(f"station {row.station_id}: {row.phase_rotation_issue}")
    for car in sessions:
        row = stations.get(car.device_id)
        if row is None or (row.online and row.control_status == "ok"):
            continue
        current = row.fallback_current_a if row.fallback_current_a is not None else line_current_of[car.device_id]
        watts = current * volts_of[car.device_id] * len(car.used_pins)
        hours = car.energy_needed_Wh / watts if watts > 0 else 0.0
        until = now + min(timedelta(hours=hours), UNCONTROLLED_HORIZON)
        why = row.control_status if row.control_status != "ok" else "offline"
        warnings.append(
            f"station {row.station_id} is {why}: its car is planned at the fallback current of {current:g} A"
        )
        bounds.append(solver.FlexibilityBounds(car.device_id, min_power_W=watts, max_power_W=watts, valid_until=until))
    return bounds, warnings
