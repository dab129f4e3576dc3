"""Everything one optimization of a site needs, read in one transaction as plain records (`SiteInputs`), then
mapped to `solver.Problem` by the pure `problem_mapping.snapshot_of`."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ARRAY, cast, func, select, true, union
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models import (
    ChargingSession,
    Collector,
    Device,
    DeviceConstraint,
    ExternalLimit,
    ForecastPoint,
    Measurement,
    MeasurementSlot,
    OcppStation,
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
    StationRecord,
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


async def take_snapshot(
    session: AsyncSession, site: Site, now: datetime, lead: timedelta, valid_for: timedelta = timedelta(seconds=60)
) -> Snapshot:
    return snapshot_of(await read_site_inputs(session, site, now, lead), valid_for)


async def read_site_inputs(session: AsyncSession, site: Site, now: datetime, lead: timedelta) -> SiteInputs:
    """The site's inputs as of `now`, for the planning window that `now + lead` falls in."""
    stored = await session.get(OptimizationConfiguration, site.id)
    configuration = ConfigurationRecord.model_validate(stored) if stored else ConfigurationRecord()
    window = planning_window(configuration, now, lead)
    start, end = window.start, window.end

    collectors = await _rows(
        session, select(Collector).where(col(Collector.site_id) == site.id).order_by(col(Collector.position))
    )
    devices = await _rows(session, select(Device).where(col(Device.site_id) == site.id).order_by(col(Device.position)))
    device_ids = [d.id for d in devices]
    latest = (await session.execute(newest_measurements(device_ids))).all()
    prices = await _series(session, PricePoint, col(PricePoint.site_id), [site.id], start, end)
    limits = await _series(session, ExternalLimit, col(ExternalLimit.site_id), [site.id], start, end)
    forecasts = await _series(session, ForecastPoint, col(ForecastPoint.device_id), device_ids, start, end)
    constraints = await _rows(session, winning_constraints(device_ids, now))
    open_sessions = await _rows(
        session,
        select(ChargingSession).where(
            col(ChargingSession.site_id) == site.id,
            col(ChargingSession.state).in_([SessionState.STARTED.value, SessionState.UPDATED.value]),
        ),
    )
    delivered = await _delivered(session, open_sessions)
    stations = await _rows(session, select(OcppStation).where(col(OcppStation.device_id).in_(device_ids)))
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
        stations=[StationRecord.model_validate(row) for row in stations],
    )


def newest_measurements(device_ids: list[uuid.UUID]) -> Any:
    """Each device's newest point, as rows of the measurement's columns: one index probe per device (LATERAL ...
    LIMIT 1). DISTINCT ON read every point the devices ever sent (PostgreSQL has no skip scan), at every run."""
    ids = select(func.unnest(cast(device_ids, ARRAY(PG_UUID(as_uuid=True)))).label("id")).subquery()
    newest = (
        select(Measurement)
        .where(col(Measurement.device_id) == ids.c.id)
        .order_by(col(Measurement.ts).desc())
        .limit(1)
        .lateral()
    )
    return select(newest).select_from(ids.join(newest, true()))


def winning_constraints(device_ids: list[uuid.UUID], now: datetime) -> Any:
    """Per device, the live constraint that wins each field under the flexibility rule (app.domain.flexibility:
    highest priority, newest on a tie), at most three: the rule discards every other one, and a busy site may
    hold thousands of live constraints that reading and parsing would cost each run for nothing."""
    winners = [
        select(col(DeviceConstraint.id))
        .ext(distinct_on(col(DeviceConstraint.device_id)))
        .where(
            col(DeviceConstraint.device_id).in_(device_ids),
            col(DeviceConstraint.invalid_at) > now,
            field.is_not(None),
        )
        .order_by(
            col(DeviceConstraint.device_id),
            col(DeviceConstraint.priority).desc(),
            col(DeviceConstraint.created_at).desc(),
            col(DeviceConstraint.id).desc(),
        )
        for field in (
            col(DeviceConstraint.min_active_power),
            col(DeviceConstraint.max_active_power),
            col(DeviceConstraint.active_power),
        )
    ]
    return select(DeviceConstraint).where(col(DeviceConstraint.id).in_(union(*winners)))


def delivered_statement(session_ids: list[uuid.UUID]) -> Any:
    """Energy each session took so far (Wh, column `wh`), from its pole's 15-minute rollup between its start
    and its end: one statement for any number of sessions (the optimizer's remaining need, `energyDelivered`)."""
    return (
        select(col(ChargingSession.id), func.coalesce(func.sum(col(MeasurementSlot.energy_in_wh)), 0.0).label("wh"))
        .outerjoin(
            MeasurementSlot,
            (col(MeasurementSlot.device_id) == col(ChargingSession.device_id))
            & (col(MeasurementSlot.slot_end) > col(ChargingSession.started_at))
            & (
                col(ChargingSession.ended_at).is_(None)
                | (col(MeasurementSlot.slot_end) < col(ChargingSession.ended_at) + timedelta(minutes=15))
            ),
        )
        .where(col(ChargingSession.id).in_(session_ids))
        .group_by(col(ChargingSession.id))
    )


async def _delivered(session: AsyncSession, sessions: list[ChargingSession]) -> dict[uuid.UUID, float]:
    if not sessions:
        return {}
    rows = await session.execute(delivered_statement([row.id for row in sessions]))
    return {row.id: float(row.wh) for row in rows}
