"""Everything one optimization of a site needs, read in one transaction and mapped to `solver.Problem`."""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

import solver
from app.domain.flexibility import ConstraintView, phase_voltage_of, physical_limits, resolve
from app.live.overload import measured_currents
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
from app.ocpp.planning import station_bounds
from app.optimization.series import sample
from app.vocabulary import DeviceType, SessionState

DEFAULT_SOC_PERCENT = 50.0
FRESH_MEASUREMENT = timedelta(minutes=15)


@dataclass(frozen=True)
class Snapshot:
    problem: solver.Problem
    currency: str
    warnings: tuple[str, ...]


def _collector(row: Collector) -> solver.Collector:
    return solver.Collector(
        id=str(row.id),
        line_current=row.line_current,
        phase_voltage=phase_voltage_of(row) or 230.0,
        parent_id=str(row.parent_id) if row.parent_id else None,
        kind=row.phase_type,  # type: ignore[arg-type]
        phase=row.phase,
        phase_permutations=row.phase_permutations,
    )


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
    """The plan's grid starts at the step boundary at or before `now + lead`: a run in the last `lead` of a
    step plans the next one, so its limits (whose first entry applies at once) outlive the current step."""
    configuration = await session.get(OptimizationConfiguration, site.id) or OptimizationConfiguration(site_id=site.id)
    step = timedelta(seconds=configuration.step_s)
    steps = configuration.horizon_s // configuration.step_s
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    start = epoch + ((now + min(lead, step / 3) - epoch) // step) * step
    end = start + steps * step
    warnings: list[str] = []

    collectors = await _rows(
        session, select(Collector).where(Collector.site_id == site.id).order_by(Collector.position)
    )
    devices = await _rows(session, select(Device).where(Device.site_id == site.id).order_by(Device.position))
    by_id = {d.id: d for d in devices}
    collector_of = {c.id: c for c in collectors}
    device_ids = list(by_id)

    latest = {
        m.device_id: m
        for m in await _rows(
            session,
            select(Measurement)
            .ext(distinct_on(Measurement.device_id))
            .where(Measurement.device_id.in_(device_ids))
            .order_by(Measurement.device_id, Measurement.ts.desc()),
        )
    }
    prices = await _series(session, PricePoint, PricePoint.site_id, [site.id], start, end)
    limits = await _series(session, ExternalLimit, ExternalLimit.site_id, [site.id], start, end)
    forecasts: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for point in await _series(session, ForecastPoint, ForecastPoint.device_id, device_ids, start, end):
        forecasts[point.device_id].append(point)
    constraints: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for c in await _rows(
        session,
        select(DeviceConstraint).where(DeviceConstraint.device_id.in_(device_ids), DeviceConstraint.invalid_at > now),
    ):
        constraints[c.device_id].append(c)
    open_sessions = await _rows(
        session,
        select(ChargingSession).where(
            ChargingSession.site_id == site.id,
            ChargingSession.state.in_([SessionState.STARTED.value, SessionState.UPDATED.value]),
        ),
    )
    delivered = await _delivered(session, open_sessions)

    def priced(direction: str) -> list[float]:
        points = [(p.ts, p.value) for p in prices if p.direction == direction]
        if not points:
            warnings.append(f"no {direction} prices: the plan treats {direction} as free")
        return sample(points, start, step, steps, 0.0)

    def limited(direction: str, field: str) -> list[float] | None:
        points = [(p.ts, getattr(p, field)) for p in limits if p.direction == direction]
        return sample(points, start, step, steps, math.inf) if points else None

    poles, series, batteries, bounds, loads = [], [], [], [], []
    for device in devices:
        collector = collector_of.get(device.collector_id)
        if collector is None:
            continue
        point = latest.get(device.id)
        fresh = point is not None and now - point.ts <= FRESH_MEASUREMENT
        if device.type == DeviceType.CHARGING_POLE.value:
            poles.append(
                solver.ChargingPole(
                    id=str(device.id),
                    collector_id=str(collector.id),
                    line_current=device.line_current,
                    pin_to_phase_mapping=solver.PinToPhaseMapping(tuple(device.pin_list), tuple(device.phase_list)),
                )
            )
        elif device.type == DeviceType.FORECASTED_SERIES.value:
            series.append(
                _forecast(
                    device, collector, forecasts[device.id], point if fresh else None, start, step, steps, warnings
                )
            )
            if fresh and (point.power_w is not None or point.pin_current):
                per_phase = measured_currents(point, collector) if point.pin_current else None
                loads.append(
                    solver.LoadMeasurement(str(device.id), current_per_phase_A=per_phase, power_W=point.power_w)
                )
        else:
            soc = point.soc if point is not None and point.soc is not None else None
            if soc is None:
                warnings.append(
                    f"battery {device.name}: no state of charge measured, {DEFAULT_SOC_PERCENT:g} % assumed"
                )
            batteries.append(
                solver.Battery(
                    id=str(device.id),
                    collector_id=str(collector.id),
                    maximum_charging_power_W=device.maximum_charging_power,
                    maximum_discharging_power_W=device.maximum_discharging_power,
                    capacity_Wh=device.operational_battery_capacity,
                    initial_soc_percent=DEFAULT_SOC_PERCENT if soc is None else soc,
                    charging_efficiency=device.charging_efficiency,
                    discharging_efficiency=device.discharging_efficiency,
                    charging_priority=device.charging_priority,
                    discharging_priority=device.discharging_priority,
                    policies=solver.expand_pleevi_policies(device.policies or [], start, end),
                )
            )
        if device.type != DeviceType.FORECASTED_SERIES.value and constraints[device.id]:
            bounds.append(_bounds(device, collector, constraints[device.id], now))

    sessions = []
    for row in open_sessions:
        pole = by_id.get(row.device_id)
        if pole is None or pole.collector_id is None:
            continue
        sessions.append(_session(row, pole, collector_of[pole.collector_id], delivered.get(row.id, 0.0), now, end))
    volts = {p.id: phase_voltage_of(collector_of[uuid.UUID(p.collector_id)]) or 230.0 for p in poles}
    fallback, station_warnings = await station_bounds(
        session, sessions, volts, {p.id: p.line_current for p in poles}, now
    )
    bounds.extend(fallback)
    warnings.extend(station_warnings)

    problem = solver.Problem(
        start=start,
        collectors=tuple(_collector(c) for c in collectors),
        import_price=priced("import"),
        export_price=priced("export"),
        poles=tuple(poles),
        forecasts=tuple(series),
        batteries=tuple(batteries),
        sessions=tuple(sessions),
        flexibility=tuple(bounds),
        measurements=tuple(loads),
        external_limits=solver.ExternalLimits(
            import_power_W=limited("import", "total_power_w"),
            export_power_W=limited("export", "total_power_w"),
            import_current_A=limited("import", "ac_max_current_a"),
            export_current_A=limited("export", "ac_max_current_a"),
        ),
        config=solver.OptimizationConfig(
            cost_minimization=configuration.cost_minimization,
            peak_minimization=configuration.peak_price_per_kw is not None,
            peak_price_per_kW=configuration.peak_price_per_kw or 0.0,
            step=step,
            horizon=steps * step,
            solver=configuration.solver,  # type: ignore[arg-type]
            time_limit_s=configuration.time_limit_s,
        ),
    )
    currency = next((p.currency for p in prices), "EUR")
    return Snapshot(problem, currency, tuple(warnings))


def _forecast(
    device: Device,
    collector: Collector,
    points: list[Any],
    fresh: Measurement | None,
    start: datetime,
    step: timedelta,
    steps: int,
    warnings: list[str],
) -> solver.ForecastedSeries:
    """The forecast where there is one; otherwise the latest measurement held (persistence), else zero."""
    default = fresh.power_w if fresh is not None and fresh.power_w is not None else 0.0
    if not points:
        warnings.append(
            f"{device.name}: no forecast, {'the latest measurement' if fresh else 'zero'} held over the horizon"
        )
    kind = "pv" if device.forecast_type == "pv" else "load"
    if points and all(p.phase_power_w for p in points) and collector.phase_type == "3P":
        per_phase = {
            phase: sample([(p.ts, p.phase_power_w[i]) for p in points], start, step, steps, 0.0)
            for i, phase in enumerate(solver.PHASES)
        }
        return solver.ForecastedSeries(
            str(device.id), str(collector.id), kind, device.line_current, per_phase_W=per_phase
        )
    total = sample([(p.ts, p.power_w) for p in points], start, step, steps, default)
    return solver.ForecastedSeries(str(device.id), str(collector.id), kind, device.line_current, total_W=total)


def _bounds(device: Device, collector: Collector, rows: list[Any], now: datetime) -> solver.FlexibilityBounds:
    physical = physical_limits(
        device.type,
        line_current=device.line_current,
        phase_voltage=phase_voltage_of(collector),
        phase_count=len(device.pin_list) if device.pin_list else collector.nb_of_phases,
        max_charging_power=device.maximum_charging_power,
        max_discharging_power=device.maximum_discharging_power,
    )
    views = [
        ConstraintView(
            c.id, c.min_active_power, c.max_active_power, c.active_power, c.priority, c.invalid_at, c.created_at
        )
        for c in rows
    ]
    resolved = resolve(physical, views, now)
    return solver.FlexibilityBounds(
        device_id=str(device.id),
        min_power_W=resolved.minimum.value,
        max_power_W=resolved.maximum.value,
        set_point_W=resolved.set_point.value if resolved.set_point else None,
        valid_until=resolved.invalid_at,
    )


def _session(
    row: ChargingSession, pole: Device, collector: Collector, delivered_wh: float, now: datetime, end: datetime
) -> solver.ChargingSession:
    """A session without an energy target wants what the pole can give until it leaves (or the horizon ends)."""
    if row.energy_amount_needed_wh is not None:
        needed = max(row.energy_amount_needed_wh - delivered_wh, 0.0)
    else:
        until = min(row.leave_time or end, end)
        volts = phase_voltage_of(collector) or 230.0
        needed = pole.line_current * volts * len(row.used_pins) * max((until - now).total_seconds(), 0) / 3600
    return solver.ChargingSession(
        device_id=str(pole.id),
        used_pins=tuple(p for p in pole.pin_list if p in row.used_pins),
        energy_needed_Wh=needed,
        leave_time=row.leave_time,
        car_battery_soc_percent=row.car_battery_soc,
        charge_to_max_percent=row.charge_to_max_percent,
        price_limit=row.price_limit,
        full_autonomy=row.full_autonomy,
        ac_min_current_A=row.ac_min_current_a,
        max_phase_count=row.max_phase_count,
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
