"""Charging sessions, prices, forecasts, external limits and the optimization configuration."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import UNSET, relay

from app.auth import Principal
from app.services import steering
from app.services.steering import SeriesPoint, SessionTarget
from app.vocabulary import Pin
from resolvers.context import Info
from resolvers.errors import UserError
from resolvers.mutations.base import mutate, pk
from resolvers.mutations.sites import SitePayload
from resolvers.mutations.topology import DevicePayload
from resolvers.types.device import device_from_row
from resolvers.types.site import Site
from resolvers.types.steering import ChargingSession, OptimizationConfiguration


@strawberry.type
class ChargingSessionPayload:
    charging_session: ChargingSession | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class OptimizationConfigurationPayload:
    optimization_configuration: OptimizationConfiguration | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="What the car needs (EVerest OptimizerTarget); energy in Wh.")
class ChargingTargetInput:
    energy_amount_needed: float | None = UNSET
    leave_time: datetime | None = UNSET
    car_battery_soc: float | None = UNSET
    charge_to_max_percent: float | None = UNSET
    price_limit: float | None = UNSET
    full_autonomy: bool | None = UNSET
    allow_discharge: bool | None = strawberry.field(
        default=UNSET, description="The car may give energy back (V2G/V2H) on a bidirectional pole; off by default."
    )
    car_battery_capacity: float | None = strawberry.field(default=UNSET, description="Wh; needed to discharge.")
    min_soc_percent: float | None = strawberry.field(
        default=UNSET, description="% of the capacity the car never discharges below."
    )
    max_discharge_power: float | None = strawberry.field(
        default=UNSET, description="W the car gives back at most (default: the pole's limit)."
    )


@strawberry.input
class PricePerkWhInput:
    timestamp: datetime
    value: float
    currency: str = "EUR"


@strawberry.input
class ForecastPointInput:
    timestamp: datetime
    power_value: float | None = strawberry.field(default=None, description="W in total, production negative.")
    phase_power_values: list[float] | None = strawberry.field(default=None, description="W on L1, L2, L3 instead.")


@strawberry.input
class ExternalLimitInput:
    timestamp: datetime
    total_power_w: float | None = None
    ac_max_current_a: float | None = strawberry.field(default=None, description="A per phase.")


@strawberry.input
class OptimizationConfigurationInput:
    cost_minimization: bool | None = UNSET
    peak_price_per_kw: float | None = UNSET
    horizon_seconds: int | None = UNSET
    step_seconds: int | None = UNSET
    solver: str | None = UNSET
    time_limit_seconds: float | None = UNSET


_TARGET_FIELDS = {
    "energy_amount_needed": "energy_amount_needed_wh",
    "car_battery_capacity": "car_battery_capacity_wh",
    "max_discharge_power": "max_discharge_power_w",
}
_CONFIGURATION_FIELDS = {"horizon_seconds": "horizon_s", "step_seconds": "step_s", "time_limit_seconds": "time_limit_s"}


def _given(input: Any, renames: dict[str, str]) -> dict[str, Any]:
    return {
        renames.get(f.name, f.name): getattr(input, f.name)
        for f in dataclasses.fields(input)
        if getattr(input, f.name) is not UNSET
    }


def _prices(points: list[PricePerkWhInput]) -> list[SeriesPoint]:
    return [SeriesPoint(p.timestamp, p.value, currency=p.currency) for p in points]


def _limits(points: list[ExternalLimitInput]) -> list[SeriesPoint]:
    return [SeriesPoint(p.timestamp, p.total_power_w, p.ac_max_current_a) for p in points]


@strawberry.type
class SteeringMutations:
    @strawberry.mutation(description="A car plugs in (Pleevi transaction Started). The pole may have one open session.")
    async def start_charging_session(
        self,
        info: Info,
        device_id: relay.GlobalID,
        used_charging_pins: list[Pin],
        target: ChargingTargetInput | None = None,
        ac_min_current_a: float = 6.0,
        max_phase_count: int | None = None,
        min_phase_count: int | None = None,
    ) -> ChargingSessionPayload:
        async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
            given = _given(target, _TARGET_FIELDS) if target else {}
            row = await steering.start_session(
                session,
                caller,
                pk(device_id, ("ChargingPole", "DcChargingPole"), "deviceId"),
                used_pins=[p.value for p in used_charging_pins],
                target=SessionTarget(**{k: v for k, v in given.items() if v is not None}),
                ac_min_current_a=ac_min_current_a,
                max_phase_count=max_phase_count,
                min_phase_count=min_phase_count,
            )
            return {"charging_session": ChargingSession.from_row(row)}

        return await mutate(info, ChargingSessionPayload, work)

    @strawberry.mutation(description="Changes the target or pins (Updated), or marks the car pausing (SuspendedEV).")
    async def update_charging_session(
        self,
        info: Info,
        id: relay.GlobalID,
        used_charging_pins: list[Pin] | None = None,
        target: ChargingTargetInput | None = None,
        ac_min_current_a: float | None = None,
        max_phase_count: int | None = None,
        min_phase_count: int | None = None,
        suspended: bool | None = None,
    ) -> ChargingSessionPayload:
        async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
            changes: dict[str, Any] = {}
            if used_charging_pins is not None:
                changes["used_pins"] = [p.value for p in used_charging_pins]
            if ac_min_current_a is not None:
                changes["ac_min_current_a"] = ac_min_current_a
            if max_phase_count is not None:
                changes["max_phase_count"] = max_phase_count
            if min_phase_count is not None:
                changes["min_phase_count"] = min_phase_count
            row = await steering.update_session(
                session,
                caller,
                pk(id, ("ChargingSession",), "id"),
                changes=changes,
                target=_given(target, _TARGET_FIELDS) if target else {},
                suspended=suspended,
            )
            return {"charging_session": ChargingSession.from_row(row)}

        return await mutate(info, ChargingSessionPayload, work)

    @strawberry.mutation(description="The car leaves (Ended).")
    async def stop_charging_session(self, info: Info, id: relay.GlobalID) -> ChargingSessionPayload:
        async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
            row = await steering.stop_session(session, caller, pk(id, ("ChargingSession",), "id"))
            return {"charging_session": ChargingSession.from_row(row)}

        return await mutate(info, ChargingSessionPayload, work)

    @strawberry.mutation(description="Import and export prices per kWh; replaces the points within each list's span.")
    async def set_prices(
        self,
        info: Info,
        site_id: relay.GlobalID,
        import_: Annotated[list[PricePerkWhInput] | None, strawberry.argument(name="import")] = None,
        export: list[PricePerkWhInput] | None = None,
    ) -> SitePayload:
        async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
            row = await steering.set_prices(
                session,
                caller,
                pk(site_id, ("Site",), "siteId"),
                imports=_prices(import_ or []),
                exports=_prices(export or []),
            )
            return {"site": Site.from_row(row)}

        return await mutate(info, SitePayload, work)

    @strawberry.mutation(description="A forecasted series' power; replaces the points within the list's span.")
    async def set_forecast(
        self, info: Info, device_id: relay.GlobalID, points: list[ForecastPointInput]
    ) -> DevicePayload:
        async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
            series = [
                SeriesPoint(
                    p.timestamp, p.power_value, phases=tuple(p.phase_power_values) if p.phase_power_values else None
                )
                for p in points
            ]
            row = await steering.set_forecast(session, caller, pk(device_id, ("ForecastedSeries",), "deviceId"), series)
            return {"device": device_from_row(row)}

        return await mutate(info, DevicePayload, work)

    @strawberry.mutation(description="Limits on the grid connection over time (EVerest external limits).")
    async def set_external_limits(
        self,
        info: Info,
        site_id: relay.GlobalID,
        import_: Annotated[list[ExternalLimitInput] | None, strawberry.argument(name="import")] = None,
        export: list[ExternalLimitInput] | None = None,
    ) -> SitePayload:
        async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
            row = await steering.set_external_limits(
                session,
                caller,
                pk(site_id, ("Site",), "siteId"),
                imports=_limits(import_ or []),
                exports=_limits(export or []),
            )
            return {"site": Site.from_row(row)}

        return await mutate(info, SitePayload, work)

    @strawberry.mutation
    async def set_optimization_configuration(
        self, info: Info, site_id: relay.GlobalID, input: OptimizationConfigurationInput
    ) -> OptimizationConfigurationPayload:
        async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
            row = await steering.set_configuration(
                session, caller, pk(site_id, ("Site",), "siteId"), _given(input, _CONFIGURATION_FIELDS)
            )
            return {"optimization_configuration": OptimizationConfiguration.from_row(row)}

        return await mutate(info, OptimizationConfigurationPayload, work)
