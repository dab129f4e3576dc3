from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import Private, relay

from app.services.aggregation import Period, Resolution
from resolvers.connection import Connection
from resolvers.context import Info
from resolvers.loaders import PeriodKey
from resolvers.types.flexibility import AggregateFlexibility, aggregate_flexibility
from resolvers.types.measurement import LiveFlows, SystemMeasurement, live_flows
from resolvers.types.node import First, LoadedNode, paged, related

if TYPE_CHECKING:
    from resolvers.types.account import Account
    from resolvers.types.cluster import Cluster
    from resolvers.types.device import Device
    from resolvers.types.gateway import Gateway
    from resolvers.types.pool import SystemPool
    from resolvers.types.site import Site


@strawberry.type(description="One installation with its gateway; it has one site per grid connection.")
class System(LoadedNode):
    loader_name = "system"

    id: relay.NodeID[str]
    name: str
    created_at: datetime
    pk: Private[uuid.UUID]
    account_id: Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: Any) -> System:
        return cls(id=str(row.id), pk=row.id, name=row.name, created_at=row.created_at, account_id=row.account_id)

    @strawberry.field
    async def account(self, info: Info) -> Annotated[Account, strawberry.lazy("resolvers.types.account")] | None:
        from resolvers.types.account import Account

        return await related(info.context.loaders.account, self.account_id, Account.from_row)

    @strawberry.field
    async def gateway(self, info: Info) -> Annotated[Gateway, strawberry.lazy("resolvers.types.gateway")] | None:
        from resolvers.types.gateway import Gateway

        return await related(info.context.loaders.gateway_by_system, self.pk, Gateway.from_row)

    @strawberry.field
    async def sites(
        self, info: Info, first: First = None, after: str | None = None
    ) -> Connection[Annotated[Site, strawberry.lazy("resolvers.types.site")]]:
        from resolvers.types.site import Site

        return await paged(info, info.context.loaders.sites_by_system, self.pk, first, after, Site.from_row)

    @strawberry.field(description="The system's top-level clusters; each has its children.")
    async def clusters(
        self, info: Info, first: First = None, after: str | None = None
    ) -> Connection[Annotated[Cluster, strawberry.lazy("resolvers.types.cluster")]]:
        from resolvers.types.cluster import Cluster

        return await paged(info, info.context.loaders.clusters_by_system, self.pk, first, after, Cluster.from_row)

    @strawberry.field(description="Every device of the system, on any of its sites or detached from a deleted one.")
    async def devices(
        self, info: Info, first: First = None, after: str | None = None
    ) -> Connection[Annotated[Device, strawberry.lazy("resolvers.types.device")]]:
        from resolvers.types.device import device_from_row

        return await paged(info, info.context.loaders.devices_by_system, self.pk, first, after, device_from_row)

    @strawberry.field
    async def pools(
        self, info: Info, first: First = None, after: str | None = None
    ) -> Connection[Annotated[SystemPool, strawberry.lazy("resolvers.types.pool")]]:
        from resolvers.types.pool import SystemPool

        return await paged(info, info.context.loaders.pools_by_system, self.pk, first, after, SystemPool.from_row)

    @strawberry.field(description="Combined flows per bucket; the timezone defaults to its first site's.")
    async def measurements(
        self,
        info: Info,
        resolution: Resolution,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        timezone: str | None = None,
    ) -> list[SystemMeasurement]:
        period = Period(resolution, from_, to, timezone)
        period.check()
        buckets = await info.context.loaders.system_measurements.load(PeriodKey(self.pk, period))
        return [SystemMeasurement.of(b, resolution) for b in buckets]

    @strawberry.field(description="The sum of its devices' flexibilities.")
    async def flexibility(self, info: Info) -> AggregateFlexibility:
        devices = await info.context.loaders.all_devices_by_system.load(self.pk)
        return await aggregate_flexibility(info, devices)

    @strawberry.field(description="Current flows from the devices' latest points.")
    async def live(self, info: Info) -> LiveFlows:
        loaders = info.context.loaders
        devices = await loaders.all_devices_by_system.load(self.pk)
        latest = await loaders.latest_measurement_by_device.load_many([d.id for d in devices])
        return live_flows(devices, latest, datetime.now(UTC))
