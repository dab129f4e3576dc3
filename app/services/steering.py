"""What steers the optimizer: charging sessions, prices, forecasts, external limits, the configuration.

Time series (prices, forecasts, external limits) are step functions: a point holds until the next one.
Setting a series replaces the points inside the span it covers (first to last timestamp) and leaves the
rest, so a partner can resend tomorrow's prices without touching today's."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth import Principal, Role
from app.domain.bounds import (
    MAX_CURRENT_A,
    MAX_ENERGY_WH,
    MAX_POWER_W,
    MAX_PRICE_PER_KWH,
    magnitude_issue,
    timestamp_issue,
)
from app.errors import ErrorCode, Issue, ValidationFailed
from app.events import EventKind, notify
from app.models import (
    ChargingSession,
    Device,
    ExternalLimit,
    ForecastPoint,
    OptimizationConfiguration,
    PricePoint,
    Site,
)
from app.services.common import get_owned, raise_if
from app.vocabulary import CHARGING_POLES, DeviceType, SessionState

SOLVERS = ("HIGHS", "ECOS", "CLARABEL")


@dataclass(frozen=True)
class SessionTarget:
    energy_amount_needed_wh: float | None = None
    leave_time: datetime | None = None
    car_battery_soc: float | None = None
    charge_to_max_percent: float | None = None
    price_limit: float | None = None
    full_autonomy: bool = False
    allow_discharge: bool = False
    car_battery_capacity_wh: float | None = None
    min_soc_percent: float | None = None
    max_discharge_power_w: float | None = None


def _target_issues(target: SessionTarget, now: datetime) -> list[Issue | None]:
    issues: list[Issue | None] = []
    energy = target.energy_amount_needed_wh
    if energy is not None and not 0 <= energy <= MAX_ENERGY_WH:
        issues.append(
            Issue(ErrorCode.OUT_OF_RANGE, "target.energyAmountNeeded", f"must be a Wh from 0 to {MAX_ENERGY_WH:g}")
        )
    if target.leave_time is not None:
        if target.leave_time.tzinfo is None:
            issues.append(Issue(ErrorCode.INVALID_FORMAT, "target.leaveTime", "needs a timezone offset"))
        elif target.leave_time <= now:
            issues.append(Issue(ErrorCode.OUT_OF_RANGE, "target.leaveTime", "must lie in the future"))
    for field, value in (
        ("carBatterySoc", target.car_battery_soc),
        ("chargeToMaxPercent", target.charge_to_max_percent),
        ("minSocPercent", target.min_soc_percent),
    ):
        if value is not None and not 0 <= value <= 100:
            issues.append(Issue(ErrorCode.OUT_OF_RANGE, f"target.{field}", "must be between 0 and 100"))
    capacity = target.car_battery_capacity_wh
    if capacity is not None and not 0 < capacity <= MAX_ENERGY_WH:
        issues.append(
            Issue(ErrorCode.OUT_OF_RANGE, "target.carBatteryCapacity", f"must be a Wh in (0, {MAX_ENERGY_WH:g}]")
        )
    discharge = target.max_discharge_power_w
    if discharge is not None and not 0 <= discharge <= MAX_POWER_W:
        issues.append(
            Issue(ErrorCode.OUT_OF_RANGE, "target.maxDischargePower", f"must be a W from 0 to {MAX_POWER_W:g}")
        )
    price_issue = magnitude_issue(target.price_limit, MAX_PRICE_PER_KWH, "per kWh") if target.price_limit else None
    if price_issue is not None:
        issues.append(Issue(ErrorCode.OUT_OF_RANGE, "target.priceLimit", price_issue))
    return issues


def _pole_issues(
    pole: Device,
    pins: Sequence[str],
    ac_min_current_a: float,
    max_phase_count: int | None,
    min_phase_count: int | None = None,
) -> list[Issue | None]:
    issues: list[Issue | None] = []
    if not pins:
        issues.append(Issue(ErrorCode.REQUIRED, "usedChargingPins", "name at least one pin"))
    unknown = [p for p in pins if p not in (pole.pin_list or [])]
    if unknown:
        issues.append(
            Issue(
                ErrorCode.UNKNOWN_REFERENCE,
                "usedChargingPins",
                f"the pole has no {', '.join(unknown)} (it maps {', '.join(pole.pin_list or [])})",
            )
        )
    if len(set(pins)) != len(pins):
        issues.append(Issue(ErrorCode.DUPLICATE, "usedChargingPins", "a pin is listed twice"))
    if pole.type == DeviceType.CHARGING_POLE.value and not 0 < ac_min_current_a <= (pole.line_current or 0):
        issues.append(
            Issue(
                ErrorCode.OUT_OF_RANGE,
                "acMinCurrentA",
                f"must lie in (0, {pole.line_current:g}] A, the pole's line current",
            )
        )
    if max_phase_count is not None and not 1 <= max_phase_count <= 3:
        issues.append(Issue(ErrorCode.OUT_OF_RANGE, "maxPhaseCount", "must be 1, 2 or 3"))
    if min_phase_count is not None and not 1 <= min_phase_count <= (max_phase_count or 3):
        issues.append(Issue(ErrorCode.OUT_OF_RANGE, "minPhaseCount", "must be 1, 2 or 3, at most maxPhaseCount"))
    return issues


async def _pole(session: AsyncSession, caller: Principal, device_id: uuid.UUID) -> Device:
    device = await get_owned(session, caller, Device, device_id, lock=True)
    if device.type not in CHARGING_POLES:
        raise ValidationFailed.one(ErrorCode.INVALID, "deviceId", "charging sessions run on charging poles")
    if device.site_id is None:
        raise ValidationFailed.one(ErrorCode.CONFLICT, "deviceId", "the pole is detached from a deleted site")
    return device


async def start_session(
    session: AsyncSession,
    caller: Principal,
    device_id: uuid.UUID,
    *,
    used_pins: list[str],
    target: SessionTarget,
    ac_min_current_a: float,
    max_phase_count: int | None,
    min_phase_count: int | None = None,
) -> ChargingSession:
    caller.require(Role.OPERATOR)
    pole = await _pole(session, caller, device_id)
    raise_if(
        [
            *_pole_issues(pole, used_pins, ac_min_current_a, max_phase_count, min_phase_count),
            *_target_issues(target, datetime.now(UTC)),
        ]
    )
    open_session = (
        await session.execute(
            select(col(ChargingSession.id)).where(
                col(ChargingSession.device_id) == pole.id, col(ChargingSession.state) != SessionState.ENDED.value
            )
        )
    ).first()
    if open_session:
        raise ValidationFailed.one(ErrorCode.CONFLICT, "deviceId", "the pole has an open session: update or stop it")
    await notify(session, EventKind.SITE_CHANGED, pole.site_id, charging_session=pole.id)
    assert pole.site_id is not None  # _pole refuses a pole detached from its site
    row = ChargingSession(
        account_id=pole.account_id,
        site_id=pole.site_id,
        device_id=pole.id,
        used_pins=list(used_pins),
        ac_min_current_a=ac_min_current_a,
        max_phase_count=max_phase_count,
        min_phase_count=min_phase_count,
        **vars(target),
    )
    session.add(row)
    await session.flush()
    return row


async def update_session(
    session: AsyncSession,
    caller: Principal,
    session_id: uuid.UUID,
    *,
    changes: dict[str, Any],
    target: dict[str, Any],
    suspended: bool | None,
) -> ChargingSession:
    """Changes what the car needs or which pins it uses; `suspended` marks the car pausing (SuspendedEV)."""
    caller.require(Role.OPERATOR)
    row = await get_owned(session, caller, ChargingSession, session_id, lock=True)
    if row.state == SessionState.ENDED.value:
        raise ValidationFailed.one(ErrorCode.CONFLICT, "id", "the session has ended")
    pole = await session.get(Device, row.device_id)
    assert pole is not None
    used_pins = changes.get("used_pins", row.used_pins)
    ac_min = changes.get("ac_min_current_a", row.ac_min_current_a)
    max_phases = changes.get("max_phase_count", row.max_phase_count)
    min_phases = changes.get("min_phase_count", row.min_phase_count)
    raise_if(
        [
            *_pole_issues(pole, used_pins, ac_min, max_phases, min_phases),
            *_target_issues(SessionTarget(**target), datetime.now(UTC)),
        ]
    )
    for field, value in {**changes, **target}.items():
        setattr(row, field, value)
    row.state = (SessionState.SUSPENDED_EV if suspended else SessionState.UPDATED).value
    row.updated_at = datetime.now(UTC)
    await notify(session, EventKind.SITE_CHANGED, row.site_id, charging_session=row.id)
    session.add(row)
    await session.flush()
    return row


async def stop_session(session: AsyncSession, caller: Principal, session_id: uuid.UUID) -> ChargingSession:
    caller.require(Role.OPERATOR)
    row = await get_owned(session, caller, ChargingSession, session_id, lock=True)
    if row.state != SessionState.ENDED.value:
        row.state, row.ended_at = SessionState.ENDED.value, datetime.now(UTC)
        row.updated_at = row.ended_at
        await notify(session, EventKind.SITE_CHANGED, row.site_id, charging_session=row.id)
        session.add(row)
        await session.flush()
    return row


@dataclass(frozen=True)
class SeriesPoint:
    timestamp: datetime
    value: float | None = None
    second: float | None = None
    phases: tuple[float, ...] | None = None
    currency: str | None = None


@dataclass(frozen=True)
class SeriesBounds:
    """The magnitude each number of a series may reach: `value` (and `phases`) and `second`."""

    value: float
    value_unit: str
    second: float = MAX_CURRENT_A
    second_unit: str = "A"


PRICES = SeriesBounds(MAX_PRICE_PER_KWH, "per kWh")
POWERS = SeriesBounds(MAX_POWER_W, "W")


def _series_issues(points: Sequence[SeriesPoint], field: str, bounds: SeriesBounds) -> list[Issue]:
    issues = []
    for index, point in enumerate(points):
        at = f"{field}[{index}]"
        if point.timestamp.tzinfo is None:
            issues.append(Issue(ErrorCode.INVALID_FORMAT, f"{at}.timestamp", "needs a timezone offset"))
        elif index and point.timestamp <= points[index - 1].timestamp:
            issues.append(Issue(ErrorCode.INVALID, f"{at}.timestamp", "timestamps must increase"))
        issues.extend(
            Issue(ErrorCode.OUT_OF_RANGE, f"{at}.{name}", issue) for name, issue in _number_issues(point, bounds)
        )
        if point.timestamp.tzinfo is not None and (issue := timestamp_issue(point.timestamp)) is not None:
            issues.append(Issue(ErrorCode.OUT_OF_RANGE, f"{at}.timestamp", issue))
    return issues


def _number_issues(point: SeriesPoint, bounds: SeriesBounds) -> Iterator[tuple[str, str]]:
    numbers = [("value", point.value, bounds.value, bounds.value_unit), ("second", point.second, bounds.second, "A")]
    numbers += [(f"phases[{i}]", v, bounds.value, bounds.value_unit) for i, v in enumerate(point.phases or ())]
    for name, value, bound, unit in numbers:
        issue = magnitude_issue(value, bound, unit) if value is not None else None
        if issue is not None:
            yield name, issue


async def _replace_span(
    session: AsyncSession, model: Any, key: dict[str, Any], points: Sequence[SeriesPoint], rows: list[dict[str, Any]]
) -> None:
    if not points:
        return
    conditions = [getattr(model, k) == v for k, v in key.items()]
    await session.execute(
        delete(model).where(*conditions, model.ts >= points[0].timestamp, model.ts <= points[-1].timestamp)
    )
    await session.execute(insert(model).values(rows))


async def set_prices(
    session: AsyncSession,
    caller: Principal,
    site_id: uuid.UUID,
    *,
    imports: list[SeriesPoint],
    exports: list[SeriesPoint],
) -> Site:
    caller.require(Role.OPERATOR)
    site = await get_owned(session, caller, Site, site_id, lock=True)
    issues = _series_issues(imports, "import", PRICES) + _series_issues(exports, "export", PRICES)
    currencies = {p.currency for p in [*imports, *exports]}
    if len(currencies) > 1:
        issues.append(
            Issue(
                ErrorCode.CONFLICT,
                "import",
                f"one currency per site; got {', '.join(sorted(c or '' for c in currencies))}",
            )
        )
    for direction, points in (("import", imports), ("export", exports)):
        issues.extend(
            Issue(ErrorCode.INVALID_FORMAT, f"{direction}[{index}].currency", "must be an ISO 4217 code such as EUR")
            for index, point in enumerate(points)
            if point.currency is None or len(point.currency) != 3 or not point.currency.isalpha()
        )
    raise_if(list(issues))
    for direction, points in (("import", imports), ("export", exports)):
        rows = [
            {
                "site_id": site.id,
                "direction": direction,
                "ts": p.timestamp,
                "value": p.value,
                "currency": p.currency.upper(),  # type: ignore[union-attr]  # refused above when missing
            }
            for p in points
        ]
        await _replace_span(session, PricePoint, {"site_id": site.id, "direction": direction}, points, rows)
    await notify(session, EventKind.SITE_CHANGED, site.id)
    return site


async def set_forecast(
    session: AsyncSession, caller: Principal, device_id: uuid.UUID, points: list[SeriesPoint]
) -> Device:
    """Power in W per point; production (pv) is negative, consumption (load) positive."""
    caller.require(Role.OPERATOR)
    device = await get_owned(session, caller, Device, device_id, lock=True)
    if device.type != DeviceType.FORECASTED_SERIES.value:
        raise ValidationFailed.one(ErrorCode.INVALID, "deviceId", "forecasts belong to forecasted series")
    issues = _series_issues(points, "points", POWERS)
    sign = -1 if device.forecast_type == "pv" else 1
    for index, point in enumerate(points):
        values = [point.value or 0.0, *(point.phases or ())]
        if any(v * sign < 0 for v in values):
            rule = "production is negative: a pv forecast is <= 0 W" if sign < 0 else "a load forecast is >= 0 W"
            issues.append(Issue(ErrorCode.OUT_OF_RANGE, f"points[{index}].powerValue", rule))
        if point.phases is not None and len(point.phases) != 3:
            issues.append(
                Issue(ErrorCode.INVALID, f"points[{index}].phasePowerValues", "give one value per phase: L1, L2, L3")
            )
    raise_if(list(issues))
    rows = [
        {
            "device_id": device.id,
            "ts": p.timestamp,
            "power_w": p.value if p.phases is None else sum(p.phases),
            "phase_power_w": list(p.phases) if p.phases else None,
        }
        for p in points
    ]
    await _replace_span(session, ForecastPoint, {"device_id": device.id}, points, rows)
    await notify(session, EventKind.SITE_CHANGED, device.site_id)
    return device


async def set_external_limits(
    session: AsyncSession,
    caller: Principal,
    site_id: uuid.UUID,
    *,
    imports: list[SeriesPoint],
    exports: list[SeriesPoint],
) -> Site:
    """`value`: total power limit in W; `second`: current per phase in A; either may be absent (no limit)."""
    caller.require(Role.OPERATOR)
    site = await get_owned(session, caller, Site, site_id, lock=True)
    issues = _series_issues(imports, "import", POWERS) + _series_issues(exports, "export", POWERS)
    for direction, points in (("import", imports), ("export", exports)):
        for index, point in enumerate(points):
            if (point.value is not None and point.value < 0) or (point.second is not None and point.second < 0):
                issues.append(Issue(ErrorCode.OUT_OF_RANGE, f"{direction}[{index}]", "limits are magnitudes: >= 0"))
    raise_if(list(issues))
    for direction, points in (("import", imports), ("export", exports)):
        rows = [
            {
                "site_id": site.id,
                "direction": direction,
                "ts": p.timestamp,
                "total_power_w": p.value,
                "ac_max_current_a": p.second,
            }
            for p in points
        ]
        await _replace_span(session, ExternalLimit, {"site_id": site.id, "direction": direction}, points, rows)
    await notify(session, EventKind.SITE_CHANGED, site.id)
    return site


_CONFIGURATION_NAMES = {
    "cost_minimization": "costMinimization",
    "horizon_s": "horizonSeconds",
    "step_s": "stepSeconds",
    "solver": "solver",
    "time_limit_s": "timeLimitSeconds",
}
"""Settings that always have a value (the peak price alone may be null: no capacity tariff)."""


async def set_configuration(
    session: AsyncSession, caller: Principal, site_id: uuid.UUID, changes: dict[str, Any]
) -> OptimizationConfiguration:
    caller.require(Role.OPERATOR)
    site = await get_owned(session, caller, Site, site_id, lock=True)
    nulls = [_CONFIGURATION_NAMES[f] for f, v in changes.items() if v is None and f in _CONFIGURATION_NAMES]
    raise_if([Issue(ErrorCode.REQUIRED, name, "must not be null (leave it out to keep it)") for name in nulls])
    row = await session.get(OptimizationConfiguration, site.id) or OptimizationConfiguration(site_id=site.id)
    for field, value in changes.items():
        setattr(row, field, value)
    issues: list[Issue | None] = []
    if not 60 <= row.step_s <= 3600 or 3600 % row.step_s:
        issues.append(Issue(ErrorCode.OUT_OF_RANGE, "stepSeconds", "must divide an hour, from 60 to 3600 s"))
    elif not row.step_s <= row.horizon_s <= 7 * 24 * 3600 or row.horizon_s % row.step_s:
        issues.append(
            Issue(ErrorCode.OUT_OF_RANGE, "horizonSeconds", "must be a whole number of steps, at most 7 days")
        )
    if row.peak_price_per_kw is not None and not 0 <= row.peak_price_per_kw <= MAX_PRICE_PER_KWH:
        issues.append(Issue(ErrorCode.OUT_OF_RANGE, "peakPricePerKw", f"must be from 0 to {MAX_PRICE_PER_KWH:g}"))
    if row.solver not in SOLVERS:
        issues.append(Issue(ErrorCode.UNSUPPORTED, "solver", f"must be one of {', '.join(SOLVERS)}"))
    if not 0.05 <= row.time_limit_s <= 300:
        issues.append(Issue(ErrorCode.OUT_OF_RANGE, "timeLimitSeconds", "must lie between 0.05 and 300 s"))
    raise_if(issues)
    session.add(row)
    await session.flush()
    await notify(session, EventKind.SITE_CHANGED, site.id)
    return row
