"""Everything one optimization of a site needs, read in one transaction as plain records (`SiteInputs`), then
mapped to `solver.Problem` by the pure `problem_mapping.snapshot_of`."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ARRAY, bindparam, cast, func, or_, select, true, union
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.driver_reads import among
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
    table_of,
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


def _series_statement(model: Any, key: Any) -> Any:
    """Points of the owners `owners` before `end`, from the one in force at `start` on."""
    in_force = (
        select(key.label("owner"), func.max(model.ts).label("ts"))
        .where(among(key, "owners"), model.ts <= bindparam("start"))
        .group_by(key)
    ).subquery()
    return (
        select(table_of(model))
        .outerjoin(in_force, in_force.c.owner == key)
        .where(
            among(key, "owners"),
            model.ts < bindparam("end"),
            model.ts >= func.coalesce(in_force.c.ts, bindparam("start")),
        )
        .order_by(model.ts)
    )


def _winning_constraints() -> Any:
    """Per device of `devices`, the live constraint (`now`) that wins each field under the flexibility rule
    (app.domain.flexibility: highest priority, newest on a tie), at most three: the rule discards every other
    one, and a busy site may hold thousands of live constraints that reading and parsing would cost each run
    for nothing."""
    winners = [
        select(col(DeviceConstraint.id))
        .ext(distinct_on(col(DeviceConstraint.device_id)))
        .where(
            among(col(DeviceConstraint.device_id), "devices"),
            col(DeviceConstraint.invalid_at) > bindparam("now"),
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
    return select(table_of(DeviceConstraint)).where(col(DeviceConstraint.id).in_(union(*winners)))


# A run's reads, built once for the process: building them (a join of subqueries, a union of three) cost more
# CPU than running them, at every run of every site. What varies per run is bound (`site`, `devices`, ...).
_CONFIGURATION = select(table_of(OptimizationConfiguration)).where(
    col(OptimizationConfiguration.site_id) == bindparam("site")
)
_COLLECTORS = (
    select(table_of(Collector)).where(col(Collector.site_id) == bindparam("site")).order_by(col(Collector.position))
)
_DEVICES = select(table_of(Device)).where(col(Device.site_id) == bindparam("site")).order_by(col(Device.position))
_PRICES = _series_statement(PricePoint, col(PricePoint.site_id))
_LIMITS = _series_statement(ExternalLimit, col(ExternalLimit.site_id))
_FORECASTS = _series_statement(ForecastPoint, col(ForecastPoint.device_id))
WINNING_CONSTRAINTS = _winning_constraints()
_OPEN_SESSIONS = select(table_of(ChargingSession)).where(
    col(ChargingSession.site_id) == bindparam("site"),
    or_(*(col(ChargingSession.state) == state.value for state in (SessionState.STARTED, SessionState.UPDATED))),
)
_STATIONS = select(table_of(OcppStation)).where(among(col(OcppStation.device_id), "devices"))


async def _rows(session: AsyncSession, statement: Any, **values: Any) -> list[Any]:
    return list((await session.execute(statement, values)).all())


async def take_snapshot(
    session: AsyncSession, site: Site, now: datetime, lead: timedelta, valid_for: timedelta = timedelta(seconds=60)
) -> Snapshot:
    return snapshot_of(await read_site_inputs(session, site, now, lead), valid_for)


async def read_site_inputs(session: AsyncSession, site: Site, now: datetime, lead: timedelta) -> SiteInputs:
    """The site's inputs as of `now`, for the planning window that `now + lead` falls in."""
    stored = await _rows(session, _CONFIGURATION, site=site.id)
    configuration = ConfigurationRecord.model_validate(stored[0]) if stored else ConfigurationRecord()
    window = planning_window(configuration, now, lead)
    span = {"start": window.start, "end": window.end}

    collectors = await _rows(session, _COLLECTORS, site=site.id)
    devices = await _rows(session, _DEVICES, site=site.id)
    device_ids = [d.id for d in devices]
    latest = (await session.execute(newest_measurements(device_ids))).all()
    prices = await _rows(session, _PRICES, owners=[site.id], **span)
    limits = await _rows(session, _LIMITS, owners=[site.id], **span)
    forecasts = await _rows(session, _FORECASTS, owners=device_ids, **span)
    constraints = await _rows(session, WINNING_CONSTRAINTS, devices=device_ids, now=now)
    open_sessions = await _rows(session, _OPEN_SESSIONS, site=site.id)
    delivered = await _delivered(session, open_sessions)
    stations = await _rows(session, _STATIONS, devices=device_ids)
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


async def _delivered(session: AsyncSession, sessions: list[Any]) -> dict[uuid.UUID, float]:
    if not sessions:
        return {}
    rows = await session.execute(delivered_statement([row.id for row in sessions]))
    return {row.id: float(row.wh) for row in rows}
