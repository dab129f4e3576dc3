"""Does the latest measured load exceed what the plan in force expected for it, on any phase?

Compares each non-controllable device's freshest point (per-pin currents where reported, else its power
spread evenly) with its planned current per phase at the current step; a margin absorbs noise."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import distinct_on

from app.database import Database
from app.domain.flexibility import phase_voltage_of
from app.live.runs import stored_run
from app.models import Collector, Device, Measurement, OptimizationRun
from app.vocabulary import DeviceType

MARGIN_A = 1.0
FRESH = timedelta(seconds=90)


def collector_phases(collector: Any) -> tuple[str, ...]:
    return ("L1", "L2", "L3") if collector.phase_type == "3P" else (collector.phase or "L1",)


def measured_currents(point: Any, collector: Any) -> dict[str, float]:
    """A per-phase reading (pin i on the i-th phase of the collector), else the power spread evenly."""
    phases = collector_phases(collector)
    if point.pin_current and any(c is not None for c in point.pin_current):
        return {phase: float(c) for phase, c in zip(phases, point.pin_current, strict=False) if c is not None}
    if point.power_w is None:
        return {}
    per_phase = point.power_w / ((phase_voltage_of(collector) or 230.0) * len(phases))
    return dict.fromkeys(phases, per_phase)


async def overloaded(db: Database, site_id: uuid.UUID, now: datetime) -> bool:
    async with db.session() as session:
        run_id = await session.scalar(
            select(OptimizationRun.id)
            .where(OptimizationRun.site_id == site_id)
            .order_by(OptimizationRun.created_at.desc())
            .limit(1)
        )
        if run_id is None:
            return False
        rows = (
            await session.execute(
                select(Device, Collector)
                .join(Collector, Collector.id == Device.collector_id)
                .where(Device.site_id == site_id, Device.type == DeviceType.FORECASTED_SERIES.value)
            )
        ).all()
        points = {
            m.device_id: m
            for m in (
                await session.execute(
                    select(Measurement)
                    .ext(distinct_on(Measurement.device_id))
                    .where(Measurement.device_id.in_([d.id for d, _ in rows]), Measurement.ts >= now - FRESH)
                    .order_by(Measurement.device_id, Measurement.ts.desc())
                )
            ).scalars()
        }
    run = await stored_run(db, run_id)
    if run is None:
        return False
    plan = run.result
    step = plan.step_at(now)
    for device, collector in rows:
        point, planned = points.get(device.id), plan.devices.get(device.id)
        if point is None or planned is None:
            continue
        for phase, current in measured_currents(point, collector).items():
            series = planned.current_A.get(phase) or [0.0]
            expected = series[min(step, len(series) - 1)] or 0.0
            if current > expected + MARGIN_A:
                return True
    return False
