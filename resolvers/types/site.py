from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import Private, relay

from app.vocabulary import DeviceType, SiteStatus, SupplyDirection, UpstreamStatus
from resolvers.connection import Connection
from resolvers.context import Info
from resolvers.loaders import SpanKey
from resolvers.types.node import First, LoadedNode, connection, ready, relation, then

if TYPE_CHECKING:
    from resolvers.types.collector import Collector
    from resolvers.types.device import Device
    from resolvers.types.run import EnforcedLimits, OptimizationRun
    from resolvers.types.steering import ChargingSession, ExternalLimits, OptimizationConfiguration, PriceSeries
    from resolvers.types.system import System


@strawberry.type(description="A metering point of the site.")
class SupplyPoint:
    grid_identifier: str
    direction: SupplyDirection


@strawberry.type(description="Where the site is: an address, coordinates, or both.")
class Location:
    address: str | None
    latitude: float | None
    longitude: float | None


@strawberry.type(description="Something the site needs before the optimizer can plan it.")
class MissingItem:
    code: str
    message: str


@strawberry.type(description="Whether the site's configuration is complete enough to optimize, and what is missing.")
class SiteValidation:
    valid_for_optimization: bool
    missing: list[MissingItem]


def _upstream_status(status: str | None) -> UpstreamStatus:
    assert status is not None, "the caller's own site has a status"
    return UpstreamStatus(status)


CONTROLLABLE = {DeviceType.CHARGING_POLE.value, DeviceType.DC_CHARGING_POLE.value, DeviceType.BATTERY.value}


@strawberry.type(description="One grid connection of a system, with its electrical topology.")
class Site(LoadedNode):
    loader_name = "site"

    id: relay.NodeID[str]
    name: str
    country: str = strawberry.field(description="ISO 3166-1 alpha-2.")
    grid_identifier: str = strawberry.field(description="The identifier of the offtake (or bidirectional) point.")
    timezone: str = strawberry.field(description="IANA timezone.")
    location: Location
    status: SiteStatus
    created_at: datetime
    pk: Private[uuid.UUID]
    system_id: Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: Any) -> Site:
        return cls(
            id=str(row.id),
            pk=row.id,
            name=row.name,
            country=row.country,
            grid_identifier=row.grid_identifier,
            timezone=row.timezone,
            location=Location(address=row.address, latitude=row.latitude, longitude=row.longitude),
            status=SiteStatus(row.status),
            created_at=row.created_at,
            system_id=row.system_id,
        )

    @strawberry.field
    def supply_points(self, info: Info) -> list[SupplyPoint]:
        return then(
            ready(info.context.loaders.supply_points_by_site, self.pk),
            lambda rows: [
                SupplyPoint(grid_identifier=r.grid_identifier, direction=SupplyDirection(r.direction)) for r in rows
            ],
        )

    @strawberry.field(description="Derived now from the upstream sites and contracts matching the grid identifiers.")
    def upstream_status(self, info: Info) -> UpstreamStatus:
        return then(ready(info.context.loaders.upstream_status_by_site, self.pk), _upstream_status)

    @strawberry.field
    async def validation(self, info: Info) -> SiteValidation:
        loaders = info.context.loaders
        main = await loaders.main_collector_by_site.load(self.pk)
        counts: dict[str, int] = await loaders.device_counts_by_site.load(self.pk)
        missing = []
        if main is None:
            missing.append(MissingItem(code="COLLECTORS", message="no collector tree: add at least the main fuse"))
        if not counts:
            missing.append(MissingItem(code="DEVICES", message="no device on the site"))
        elif not CONTROLLABLE & counts.keys():
            missing.append(
                MissingItem(code="CONTROLLABLE_DEVICE", message="no charging pole or battery: nothing to steer")
            )
        if self.status is SiteStatus.PAUSED:
            missing.append(MissingItem(code="PAUSED", message="the site is paused"))
        return SiteValidation(valid_for_optimization=not missing, missing=missing)

    @strawberry.field
    def system(self, info: Info) -> Annotated[System, strawberry.lazy("resolvers.types.system")] | None:
        from resolvers.types.system import System

        return relation(info, info.context.loaders.system, self.system_id, System.from_row)

    @strawberry.field(description="The root of the collector tree (the grid connection's fuse).")
    def main_collector(self, info: Info) -> Annotated[Collector, strawberry.lazy("resolvers.types.collector")] | None:
        from resolvers.types.collector import Collector

        return relation(info, info.context.loaders.main_collector_by_site, self.pk, Collector.from_row)

    @strawberry.field(description="Every collector of the site, flat, in configuration order.")
    def collectors(
        self, info: Info, first: First = None, after: str | None = None
    ) -> Connection[Annotated[Collector, strawberry.lazy("resolvers.types.collector")]]:
        from resolvers.types.collector import Collector

        return connection(info, info.context.loaders.collectors_by_site, self.pk, first, after, Collector.from_row)

    @strawberry.field
    def devices(
        self, info: Info, first: First = None, after: str | None = None
    ) -> Connection[Annotated[Device, strawberry.lazy("resolvers.types.device")]]:
        from resolvers.types.device import device_from_row

        return connection(info, info.context.loaders.devices_by_site, self.pk, first, after, device_from_row)

    @strawberry.field(description="Charging sessions on the site's poles, newest first.")
    def charging_sessions(
        self, info: Info, first: First = None, after: str | None = None
    ) -> Connection[Annotated[ChargingSession, strawberry.lazy("resolvers.types.steering")]]:
        from resolvers.types.steering import ChargingSession

        return connection(info, info.context.loaders.sessions_by_site, self.pk, first, after, ChargingSession.from_row)

    @strawberry.field(description="Price changes with from <= timestamp < to; each holds until the next.")
    async def prices(
        self, info: Info, from_: Annotated[datetime, strawberry.argument(name="from")], to: datetime
    ) -> Annotated[PriceSeries, strawberry.lazy("resolvers.types.steering")]:
        from resolvers.types.steering import PriceSeries

        rows = await info.context.loaders.prices_by_site.load(SpanKey(self.pk, from_, to))
        return PriceSeries.from_rows(rows)

    @strawberry.field(description="External limit changes with from <= timestamp < to; each holds until the next.")
    async def external_limits(
        self, info: Info, from_: Annotated[datetime, strawberry.argument(name="from")], to: datetime
    ) -> Annotated[ExternalLimits, strawberry.lazy("resolvers.types.steering")]:
        from resolvers.types.steering import ExternalLimits

        rows = await info.context.loaders.external_limits_by_site.load(SpanKey(self.pk, from_, to))
        return ExternalLimits.from_rows(rows)

    @strawberry.field(description="The site's optimization settings (defaults until set).")
    async def optimization_configuration(
        self, info: Info
    ) -> Annotated[OptimizationConfiguration, strawberry.lazy("resolvers.types.steering")]:
        from app.models import OptimizationConfiguration as Row
        from resolvers.types.steering import OptimizationConfiguration

        row = await info.context.loaders.configuration_by_site.load(self.pk)
        return OptimizationConfiguration.from_row(row or Row(site_id=self.pk))

    @strawberry.field(description="The latest optimization run: the plan in force.")
    def schedule(self, info: Info) -> Annotated[OptimizationRun, strawberry.lazy("resolvers.types.run")] | None:
        from resolvers.types.run import OptimizationRun

        return relation(info, info.context.loaders.latest_run_by_site, self.pk, OptimizationRun.from_row)

    @strawberry.field(description="Every stored run, newest first.")
    def optimization_runs(
        self, info: Info, first: First = None, after: str | None = None
    ) -> Connection[Annotated[OptimizationRun, strawberry.lazy("resolvers.types.run")]]:
        from resolvers.types.run import OptimizationRun

        return connection(info, info.context.loaders.runs_by_site, self.pk, first, after, OptimizationRun.from_row)

    @strawberry.field(description="The enforced limits of the latest run, one per controllable device.")
    async def enforced_limits(
        self, info: Info
    ) -> list[Annotated[EnforcedLimits, strawberry.lazy("resolvers.types.run")]]:
        from resolvers.types.run import EnforcedLimits

        run = await info.context.loaders.latest_run_by_site.load(self.pk)
        return [EnforcedLimits.from_document(e) for e in run.enforced_limits] if run else []
