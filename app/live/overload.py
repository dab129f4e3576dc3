"""Does the latest measured load exceed what the plan in force expected for it, on any phase?

Compares each non-controllable device's freshest point (per-pin currents where reported, else its power
spread evenly) with its planned current per phase at the current step; a margin absorbs noise."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlmodel import col

from app.database import Database
from app.live.runs import stored_run
from app.models import Collector, Device, Measurement, OptimizationRun
from app.phases import measured_currents
from app.vocabulary import DeviceType

MARGIN_A = 1.0
FRESH = timedelta(seconds=90)


async def overloaded(db: Database, site_id: uuid.UUID, now: datetime) -> bool:
    async with db.reads() as session:
        rows = (
            await session.execute(
                select(Device, Collector)
                .join(Collector, col(Collector.id) == col(Device.collector_id))
                .where(col(Device.site_id) == site_id, col(Device.type) == DeviceType.FORECASTED_SERIES.value)
            )
        ).all()
        if not rows:  # nothing uncontrolled to exceed its plan: the run (a large document) is not even read
            return False
        run_id = await session.scalar(
            select(col(OptimizationRun.id))
            .where(col(OptimizationRun.site_id) == site_id)
            .order_by(col(OptimizationRun.created_at).desc())
            .limit(1)
        )
        if run_id is None:
            return False
        points = {
            m.device_id: m
            for m in (
                await session.execute(
                    select(Measurement)
                    .ext(distinct_on(col(Measurement.device_id)))
                    .where(col(Measurement.device_id).in_([d.id for d, _ in rows]), col(Measurement.ts) >= now - FRESH)
                    .order_by(col(Measurement.device_id), col(Measurement.ts).desc())
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
