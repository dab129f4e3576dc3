"""What steers the optimizer, as GraphQL types: charging sessions, price and limit series, configuration."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import strawberry
from strawberry import Private, relay

from app.vocabulary import Pin, SessionState
from resolvers.context import Info
from resolvers.types.node import LoadedNode, relation

if TYPE_CHECKING:
    from resolvers.types.device import Device


@strawberry.type(description="What the car needs (EVerest OptimizerTarget); energy in Wh.")
class ChargingTarget:
    energy_amount_needed: float | None = strawberry.field(description="Wh to deliver by `leaveTime`.")
    leave_time: datetime | None
    car_battery_soc: float | None = strawberry.field(description="%")
    charge_to_max_percent: float | None = strawberry.field(description="%")
    price_limit: float | None = strawberry.field(description="Charge at full power while the import price is below it.")
    full_autonomy: bool = strawberry.field(description="Charge only from local surplus.")
    allow_discharge: bool = strawberry.field(description="The car may give energy back on a bidirectional pole.")
    car_battery_capacity: float | None = strawberry.field(description="Wh")
    min_soc_percent: float | None = strawberry.field(description="% the car never discharges below.")
    max_discharge_power: float | None = strawberry.field(description="W")


@strawberry.type(description="A car on a charging pole (Pleevi's transaction).")
class ChargingSession(LoadedNode):
    loader_name = "charging_session"

    id: relay.NodeID[str]
    state: SessionState
    used_charging_pins: list[Pin]
    target: ChargingTarget
    ac_min_current_a: float = strawberry.field(description="Below it the car cannot charge: 0 or at least this.")
    max_phase_count: int | None
    min_phase_count: int | None = strawberry.field(description="1 lets a switchable pole charge the car on one phase.")
    active_phase_count: int | None = strawberry.field(description="Phases of the limits in force (the latest run).")
    phase_switched_at: datetime | None = strawberry.field(description="When the phase count last changed.")
    started_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    device_id: Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: Any) -> ChargingSession:
        return cls(
            id=str(row.id),
            state=SessionState(row.state),
            used_charging_pins=[Pin(p) for p in row.used_pins],
            target=ChargingTarget(
                energy_amount_needed=row.energy_amount_needed_wh,
                leave_time=row.leave_time,
                car_battery_soc=row.car_battery_soc,
                charge_to_max_percent=row.charge_to_max_percent,
                price_limit=row.price_limit,
                full_autonomy=row.full_autonomy,
                allow_discharge=row.allow_discharge,
                car_battery_capacity=row.car_battery_capacity_wh,
                min_soc_percent=row.min_soc_percent,
                max_discharge_power=row.max_discharge_power_w,
            ),
            ac_min_current_a=row.ac_min_current_a,
            max_phase_count=row.max_phase_count,
            min_phase_count=row.min_phase_count,
            active_phase_count=row.active_phase_count,
            phase_switched_at=row.phase_switched_at,
            started_at=row.started_at,
            updated_at=row.updated_at,
            ended_at=row.ended_at,
            device_id=row.device_id,
        )

    @strawberry.field(
        description="Wh the pole measured since the car plugged in (its 15-minute rollup, until the session ended)."
    )
    async def energy_delivered(self, info: Info) -> float:
        return await info.context.loaders.session_energy_delivered.load(uuid.UUID(self.id))

    @strawberry.field
    def device(self, info: Info) -> Annotated[Device, strawberry.lazy("resolvers.types.device")] | None:
        from resolvers.types.device import device_from_row

        return relation(info, info.context.loaders.device, self.device_id, device_from_row)


@strawberry.type(description="A price per kWh from `timestamp` until the next entry.")
class PricePerkWh:
    timestamp: datetime
    value: float
    currency: str


T = TypeVar("T")


def _by_direction(rows: list[Any], entry: Callable[[Any], T]) -> tuple[list[T], list[T]]:
    """Import rows and export rows of one span, each kept in the loader's timestamp order."""
    return [entry(r) for r in rows if r.direction == "import"], [entry(r) for r in rows if r.direction == "export"]


@strawberry.type
class PriceSeries:
    import_: list[PricePerkWh] = strawberry.field(name="import")
    export: list[PricePerkWh]

    @classmethod
    def from_rows(cls, rows: list[Any]) -> PriceSeries:
        imports, exports = _by_direction(
            rows, lambda r: PricePerkWh(timestamp=r.ts, value=r.value, currency=r.currency)
        )
        return cls(import_=imports, export=exports)


@strawberry.type(description="A limit on the grid connection from `timestamp` until the next entry; null: none.")
class ExternalLimitEntry:
    timestamp: datetime
    total_power_w: float | None
    ac_max_current_a: float | None = strawberry.field(description="A per phase.")


@strawberry.type
class ExternalLimits:
    import_: list[ExternalLimitEntry] = strawberry.field(name="import")
    export: list[ExternalLimitEntry]

    @classmethod
    def from_rows(cls, rows: list[Any]) -> ExternalLimits:
        imports, exports = _by_direction(
            rows,
            lambda r: ExternalLimitEntry(
                timestamp=r.ts, total_power_w=r.total_power_w, ac_max_current_a=r.ac_max_current_a
            ),
        )
        return cls(import_=imports, export=exports)


@strawberry.type(description="A forecasted power from `timestamp` until the next point, W (production negative).")
class ForecastValue:
    timestamp: datetime
    power_value: float
    phase_power_values: list[float] | None


@strawberry.type(description="How the site is optimized.")
class OptimizationConfiguration:
    cost_minimization: bool
    peak_price_per_kw: float | None = strawberry.field(description="Price per kW of peak import; null: no peak term.")
    horizon_seconds: int
    step_seconds: int
    solver: str
    time_limit_seconds: float

    @classmethod
    def from_row(cls, row: Any) -> OptimizationConfiguration:
        return cls(
            cost_minimization=row.cost_minimization,
            peak_price_per_kw=row.peak_price_per_kw,
            horizon_seconds=row.horizon_s,
            step_seconds=row.step_s,
            solver=row.solver,
            time_limit_seconds=row.time_limit_s,
        )
