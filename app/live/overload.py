"""Does the latest measured load exceed what the plan in force expected for it, on any phase?

Compares each non-controllable device's freshest point (per-pin currents where reported, else its power
spread evenly) with its planned current per phase at the current step; a margin absorbs noise."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BindParameter, Select, bindparam, select, true
from sqlmodel import col

from app.database import Database
from app.models import Collector, Device, Measurement, OptimizationRun
from app.optimization.run_cache import stored_run
from app.phases import measured_currents
from app.vocabulary import DeviceType

MARGIN_A = 1.0
FRESH = timedelta(seconds=90)


def _statement() -> Select[Any]:
    """Per non-controllable device of the site: its collector's phases, its freshest point and the latest run's
    id, in one statement (built once: the check runs after every ingest while the control loop is on)."""
    site: BindParameter[Any] = bindparam("site")
    fresh: BindParameter[Any] = bindparam("fresh")
    latest_run = (
        select(col(OptimizationRun.id))
        .where(col(OptimizationRun.site_id) == site)
        .order_by(col(OptimizationRun.created_at).desc())
        .limit(1)
        .scalar_subquery()
    )
    point = (
        select(col(Measurement.pin_current), col(Measurement.power_w))
        .where(col(Measurement.device_id) == col(Device.id), col(Measurement.ts) >= fresh)
        .order_by(col(Measurement.ts).desc())
        .limit(1)
        .lateral()
    )
    return (
        select(
            col(Device.id).label("device_id"),
            col(Collector.phase_type),
            col(Collector.phase),
            col(Collector.phase_voltage),
            col(Collector.line_voltage),
            point.c.pin_current,
            point.c.power_w,
            latest_run.label("run_id"),
        )
        .join(Collector, col(Collector.id) == col(Device.collector_id))
        .outerjoin(point, true())
        .where(col(Device.site_id) == site, col(Device.type) == DeviceType.FORECASTED_SERIES.value)
    )


_DEVICES = _statement()


async def overloaded(db: Database, site_id: uuid.UUID, now: datetime) -> bool:
    rows = await db.fetch(_DEVICES.params(site=site_id, fresh=now - FRESH))
    run_id = rows[0].run_id if rows else None
    if run_id is None:  # nothing uncontrolled to exceed its plan, or no plan: the run (a large document) is not read
        return False
    run = await stored_run(db, run_id)
    if run is None:
        return False
    plan = run.result
    step = plan.step_at(now)
    for row in rows:
        planned = plan.devices.get(row.device_id)
        if planned is None or (row.pin_current is None and row.power_w is None):
            continue
        for phase, current in measured_currents(row, row).items():
            series = planned.current_A.get(phase) or [0.0]
            expected = series[min(step, len(series) - 1)] or 0.0
            if current > expected + MARGIN_A:
                return True
    return False
