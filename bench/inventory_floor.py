"""The floor of `bench/inventory.py`: a plain strawberry schema of the inventory query's shape.

The same nesting (viewer, account, systems, gateway, sites, supply points, the main collector and its children,
devices), the Device interface with its three fragments, connections with `totalCount` and `nodes`, and plain
dataclass attributes holding values that are ready to serialize: no loaders, no relay machinery, no
conversion while the query runs. Fields that take `first` resolve synchronously to a prepared connection. The
objects are built once, before timing, from the same rows the project's schema reads.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any, Generic, TypeVar

import strawberry
from sqlalchemy import func, select
from sqlmodel import col
from strawberry.relay import GlobalID

import resolvers.types.enums  # noqa: F401  (registers the domain enums, as the project's schema does)
from app.database import Database
from app.models import Collector as CollectorRow
from app.models import Device as DeviceRow
from app.models import Gateway as GatewayRow
from app.models import Site as SiteRow
from app.models import SupplyPoint as SupplyPointRow
from app.models import System as SystemRow
from app.vocabulary import (
    DeviceType,
    ForecastType,
    Phase,
    PhaseType,
    Pin,
    PolicyFrequency,
    SiteStatus,
    SupplyDirection,
    UpstreamStatus,
)

T = TypeVar("T")


@strawberry.type(name="FloorConnection")
class Connection(Generic[T]):
    total_count: int
    nodes: list[T]


@strawberry.type(name="FloorGateway")
class Gateway:
    serial_number: str
    online: bool
    last_seen_at: datetime | None


@strawberry.type(name="FloorSupplyPoint")
class SupplyPoint:
    grid_identifier: str
    direction: SupplyDirection


@strawberry.type(name="FloorPhasePermutation")
class PhasePermutation:
    child_phase: Phase
    parent_phase: Phase


@strawberry.type(name="FloorCollector")
class Collector:
    name: str
    line_current: float
    phase_voltage: float | None
    phase_type: PhaseType
    phase: Phase | None
    phase_permutations: list[PhasePermutation] | None
    children: Connection[Collector]


@strawberry.interface(name="FloorDevice")
class Device:
    id: strawberry.ID
    name: str
    type: DeviceType
    line_current: float | None
    collector: Collector | None


@strawberry.type(name="FloorPinToPhaseMapping")
class PinToPhaseMapping:
    pin_list: list[Pin]
    phase_list: list[Phase]


@strawberry.type(name="ChargingPole")
class ChargingPole(Device):
    pin_to_phase_mapping: PinToPhaseMapping


@strawberry.type(name="ForecastedSeries")
class ForecastedSeries(Device):
    forecast_type: ForecastType
    should_be_aggregated: bool


@strawberry.type(name="FloorBatteryPolicy")
class BatteryPolicy:
    frequency: PolicyFrequency
    time: str | None


@strawberry.type(name="Battery")
class Battery(Device):
    maximum_charging_power: float
    operational_battery_capacity: float
    policies: list[BatteryPolicy]


@strawberry.type(name="FloorSite")
class Site:
    id: strawberry.ID
    name: str
    grid_identifier: str
    status: SiteStatus
    upstream_status: UpstreamStatus
    timezone: str
    supply_points: list[SupplyPoint]
    main_collector: Collector | None
    prepared_devices: strawberry.Private[Connection[Device]]

    @strawberry.field
    def devices(self, first: int | None = None) -> Connection[Device]:
        return self.prepared_devices


@strawberry.type(name="FloorSystem")
class System:
    id: strawberry.ID
    name: str
    gateway: Gateway | None
    sites: Connection[Site]


@strawberry.type(name="FloorAccount")
class Account:
    name: str
    prepared_systems: strawberry.Private[Connection[System]]

    @strawberry.field
    def systems(self, first: int | None = None) -> Connection[System]:
        return self.prepared_systems


@strawberry.type(name="FloorViewer")
class Viewer:
    account: Account


@strawberry.type(name="FloorQuery")
class Query:
    viewer_object: strawberry.Private[Viewer]

    @strawberry.field
    def viewer(self) -> Viewer:
        return self.viewer_object


schema = strawberry.Schema(query=Query, types=[ChargingPole, ForecastedSeries, Battery])


def _gid(type_name: str, pk: uuid.UUID) -> strawberry.ID:
    return strawberry.ID(str(GlobalID(type_name, str(pk))))


def _collector(row: Any, children: list[Any]) -> Collector:
    permutations = row.phase_permutations
    return Collector(
        name=row.name,
        line_current=row.line_current,
        phase_voltage=row.phase_voltage,
        phase_type=PhaseType(row.phase_type),
        phase=Phase(row.phase) if row.phase else None,
        phase_permutations=None
        if permutations is None
        else [PhasePermutation(child_phase=Phase(c), parent_phase=Phase(p)) for c, p in sorted(permutations.items())],
        children=Connection(total_count=len(children), nodes=[_collector(c, []) for c in children]),
    )


def _device(row: Any, collector: Collector | None) -> Device:
    common: dict[str, Any] = {
        "name": row.name,
        "type": DeviceType(row.type),
        "line_current": row.line_current,
        "collector": collector,
    }
    if row.type == DeviceType.CHARGING_POLE.value:
        mapping = PinToPhaseMapping(
            pin_list=[Pin(p) for p in row.pin_list], phase_list=[Phase(p) for p in row.phase_list]
        )
        return ChargingPole(id=_gid("ChargingPole", row.id), **common, pin_to_phase_mapping=mapping)
    if row.type == DeviceType.FORECASTED_SERIES.value:
        return ForecastedSeries(
            id=_gid("ForecastedSeries", row.id),
            **common,
            forecast_type=ForecastType(row.forecast_type),
            should_be_aggregated=bool(row.should_be_aggregated),
        )
    policies = [
        BatteryPolicy(frequency=PolicyFrequency(p["schedule"]["frequency"]), time=p["schedule"].get("time"))
        for p in row.policies or []
    ]
    return Battery(
        id=_gid("Battery", row.id),
        **common,
        maximum_charging_power=row.maximum_charging_power,
        operational_battery_capacity=row.operational_battery_capacity,
        policies=policies,
    )


async def floor_root(db: Database, account_id: uuid.UUID, account_name: str, devices_per_site: int) -> Query:
    """The plain objects for every system of the account, read once (not timed)."""
    systems = await db.fetch(
        select(SystemRow).where(col(SystemRow.account_id) == account_id).order_by(col(SystemRow.name))
    )
    system_ids = [s.id for s in systems]
    gateways = {
        g.system_id: g for g in await db.fetch(select(GatewayRow).where(col(GatewayRow.system_id).in_(system_ids)))
    }
    site_rows = await db.fetch(
        select(SiteRow, func.upstream_status(col(SiteRow.id), func.now()).label("upstream"))
        .where(col(SiteRow.system_id).in_(system_ids), col(SiteRow.deleted_at).is_(None))
        .order_by(col(SiteRow.name))
    )
    site_ids = [s.id for s in site_rows]
    points: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for p in await db.fetch(
        select(SupplyPointRow).where(col(SupplyPointRow.site_id).in_(site_ids)).order_by(col(SupplyPointRow.position))
    ):
        points[p.site_id].append(p)
    collectors_by_parent: dict[uuid.UUID | None, list[Any]] = defaultdict(list)
    mains: dict[uuid.UUID, Any] = {}
    collector_rows = await db.fetch(
        select(CollectorRow)
        .where(col(CollectorRow.site_id).in_(site_ids))
        .order_by(col(CollectorRow.position), col(CollectorRow.name))
    )
    for c in collector_rows:
        collectors_by_parent[c.parent_id].append(c)
        if c.parent_id is None:
            mains[c.site_id] = c
    devices_by_site: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for d in await db.fetch(
        select(DeviceRow)
        .where(col(DeviceRow.site_id).in_(site_ids))
        .order_by(col(DeviceRow.position), col(DeviceRow.name))
    ):
        devices_by_site[d.site_id].append(d)
    collector_names = {c.id: _collector(c, []) for c in collector_rows}

    sites_by_system: dict[uuid.UUID, list[Site]] = defaultdict(list)
    for s in site_rows:
        main = mains.get(s.id)
        devices = devices_by_site[s.id]
        sites_by_system[s.system_id].append(
            Site(
                id=_gid("Site", s.id),
                name=s.name,
                grid_identifier=s.grid_identifier,
                status=SiteStatus(s.status),
                upstream_status=UpstreamStatus(s.upstream),
                timezone=s.timezone,
                supply_points=[
                    SupplyPoint(grid_identifier=p.grid_identifier, direction=SupplyDirection(p.direction))
                    for p in points[s.id]
                ],
                main_collector=None if main is None else _collector(main, collectors_by_parent[main.id]),
                prepared_devices=Connection(
                    total_count=len(devices),
                    nodes=[
                        _device(d, collector_names.get(d.collector_id) if d.collector_id else None)
                        for d in devices[:devices_per_site]
                    ],
                ),
            )
        )
    system_objects = [
        System(
            id=_gid("System", s.id),
            name=s.name,
            gateway=None
            if (g := gateways.get(s.id)) is None
            else Gateway(serial_number=g.serial_number, online=g.online, last_seen_at=g.last_seen_at),
            sites=Connection(total_count=len(sites_by_system[s.id]), nodes=sites_by_system[s.id]),
        )
        for s in systems
    ]
    account = Account(
        name=account_name, prepared_systems=Connection(total_count=len(system_objects), nodes=system_objects)
    )
    return Query(viewer_object=Viewer(account=account))
