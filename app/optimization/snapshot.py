"""Everything one optimization of a site needs, read in one transaction as plain records (`SiteInputs`), then
mapped to `solver.Problem` by the pure `problem_mapping.snapshot_of`."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    ChargingSession,
    Collector,
    Device,
    DeviceConstraint,
    ExternalLimit,
    ForecastPoint,
    Measurement,
    MeasurementSlot,
    OptimizationConfiguration,
    PricePoint,
    Site,
)
from app.optimization.problem_mapping import Snapshot, snapshot_of
from app.optimization.site_inputs import (
    CollectorRecord,
    ConfigurationRecord,
    ConstraintRecord,
    DeviceRecord,
    ExternalLimitRecord,
    ForecastRecord,
    MeasurementRecord,
    PriceRecord,
    SessionRecord,
    SiteInputs,
    planning_window,
)
from app.vocabulary import SessionState


async def _rows(session: AsyncSession, statement: Any) -> list[Any]:
    return list((await session.execute(statement)).scalars())


async def _series(
    session: AsyncSession, model: Any, key: Any, owners: list[uuid.UUID], start: datetime, end: datetime
) -> list[Any]:
    """Points before `end`, from the one in force at `start` on."""
    in_force = (
        select(key.label("owner"), func.max(model.ts).label("ts"))
        .where(key.in_(owners), model.ts <= start)
        .group_by(key)
    ).subquery()
    return await _rows(
        session,
        select(model)
        .outerjoin(in_force, in_force.c.owner == key)
        .where(key.in_(owners), model.ts < end, model.ts >= func.coalesce(in_force.c.ts, start))
        .order_by(model.ts),
    )


async def take_snapshot(session: AsyncSession, site: Site, now: datetime, lead: timedelta) -> Snapshot:
    return snapshot_of(await read_site_inputs(session, site, now, lead))


async def read_site_inputs(session: AsyncSession, site: Site, now: datetime, lead: timedelta) -> SiteInputs:
    """The site's inputs as of `now`, for the planning window that `now + lead` falls in."""
    stored = await session.get(OptimizationConfiguration, site.id)
    configuration = ConfigurationRecord.model_validate(stored) if stored else ConfigurationRecord()
    window = planning_window(configuration, now, lead)
    start, end = window.start, window.end

    collectors = await _rows(
        session, select(Collector).where(Collector.site_id == site.id).order_by(Collector.position)
    )
    devices = await _rows(session, select(Device).where(Device.site_id == site.id).order_by(Device.position))
    device_ids = [d.id for d in devices]
    latest = await _rows(
        session,
        select(Measurement)
        .ext(distinct_on(Measurement.device_id))
        .where(Measurement.device_id.in_(device_ids))
        .order_by(Measurement.device_id, Measurement.ts.desc()),
    )
    prices = await _series(session, PricePoint, PricePoint.site_id, [site.id], start, end)
    limits = await _series(session, ExternalLimit, ExternalLimit.site_id, [site.id], start, end)
    forecasts = await _series(session, ForecastPoint, ForecastPoint.device_id, device_ids, start, end)
    constraints = await _rows(
        session,
        select(DeviceConstraint).where(DeviceConstraint.device_id.in_(device_ids), DeviceConstraint.invalid_at > now),
    )
    open_sessions = await _rows(
        session,
        select(ChargingSession).where(
            ChargingSession.site_id == site.id,
            ChargingSession.state.in_([SessionState.STARTED.value, SessionState.UPDATED.value]),
        ),
    )
    delivered = await _delivered(session, open_sessions)
    return SiteInputs(
        window=window,
        configuration=configuration,
        collectors=[CollectorRecord.model_validate(c) for c in collectors],
        devices=[DeviceRecord.model_validate(d) for d in devices],
        latest={m.device_id: MeasurementRecord.model_validate(m) for m in latest},
        prices=[PriceRecord.model_validate(p) for p in prices],
        external_limits=[ExternalLimitRecord.model_validate(p) for p in limits],
        forecasts=[ForecastRecord.model_validate(p) for p in forecasts],
        constraints=[ConstraintRecord.model_validate(c) for c in constraints],
        sessions=[
            SessionRecord.model_validate(row).model_copy(update={"delivered_wh": delivered.get(row.id, 0.0)})
            for row in open_sessions
        ],
    )


async def _delivered(session: AsyncSession, sessions: list[ChargingSession]) -> dict[uuid.UUID, float]:
    """Energy each open session already took, from its pole's measurements since it started: one statement."""
    if not sessions:
        return {}
    rows = await session.execute(
        select(ChargingSession.id, func.coalesce(func.sum(MeasurementSlot.energy_in_wh), 0.0).label("wh"))
        .outerjoin(
            MeasurementSlot,
            (MeasurementSlot.device_id == ChargingSession.device_id)
            & (MeasurementSlot.slot_end > ChargingSession.started_at),
        )
        .where(ChargingSession.id.in_([row.id for row in sessions]))
        .group_by(ChargingSession.id)
    )
    return {row.id: float(row.wh) for row in rows}
