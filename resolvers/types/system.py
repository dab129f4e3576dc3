from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import Private, relay

from resolvers.connection import Connection
from resolvers.context import Info
from resolvers.types.flows import AggregatedFlows
from resolvers.types.measurement import LiveFlows, live_flows
from resolvers.types.node import First, LoadedNode, connection, relation

if TYPE_CHECKING:
    from resolvers.types.account import Account
    from resolvers.types.cluster import Cluster
    from resolvers.types.device import Device
    from resolvers.types.gateway import Gateway
    from resolvers.types.pool import SystemPool
    from resolvers.types.site import Site


@strawberry.type(description="One installation with its gateway; it has one site per grid connection.")
class System(LoadedNode, AggregatedFlows):
    loader_name = "system"
    measurement_loader = "system_measurements"

    id: relay.NodeID[str]
    name: str
    created_at: datetime
    pk: Private[uuid.UUID]
    account_id: Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: Any) -> System:
        return cls(id=str(row.id), pk=row.id, name=row.name, created_at=row.created_at, account_id=row.account_id)

    @strawberry.field
    def account(self, info: Info) -> Annotated[Account, strawberry.lazy("resolvers.types.account")] | None:
        from resolvers.types.account import Account

        return relation(info, info.context.loaders.account, self.account_id, Account.from_row)

    @strawberry.field
    def gateway(self, info: Info) -> Annotated[Gateway, strawberry.lazy("resolvers.types.gateway")] | None:
        from resolvers.types.gateway import Gateway

        return relation(info, info.context.loaders.gateway_by_system, self.pk, Gateway.from_row)

    @strawberry.field
    def sites(
        self, info: Info, first: First = None, after: str | None = None
    ) -> Connection[Annotated[Site, strawberry.lazy("resolvers.types.site")]]:
        from resolvers.types.site import Site

        return connection(info, info.context.loaders.sites_by_system, self.pk, first, after, Site.from_row)

    @strawberry.field(description="The system's top-level clusters; each has its children.")
    def clusters(
        self, info: Info, first: First = None, after: str | None = None
    ) -> Connection[Annotated[Cluster, strawberry.lazy("resolvers.types.cluster")]]:
        from resolvers.types.cluster import Cluster

        return connection(info, info.context.loaders.clusters_by_system, self.pk, first, after, Cluster.from_row)

    @strawberry.field(description="Every device of the system, on any of its sites or detached from a deleted one.")
    def devices(
        self, info: Info, first: First = None, after: str | None = None
    ) -> Connection[Annotated[Device, strawberry.lazy("resolvers.types.device")]]:
        from resolvers.types.device import device_from_row

        return connection(info, info.context.loaders.devices_by_system, self.pk, first, after, device_from_row)

    @strawberry.field
    def pools(
        self, info: Info, first: First = None, after: str | None = None
    ) -> Connection[Annotated[SystemPool, strawberry.lazy("resolvers.types.pool")]]:
        from resolvers.types.pool import SystemPool

        return connection(info, info.context.loaders.pools_by_system, self.pk, first, after, SystemPool.from_row)

    async def member_devices(self, info: Info) -> list[Any]:
        return await info.context.loaders.all_devices_by_system.load(self.pk)

    @strawberry.field(description="Current flows from the devices' latest points.")
    async def live(self, info: Info) -> LiveFlows:
        loaders = info.context.loaders
        devices = await loaders.all_devices_by_system.load(self.pk)
        latest = await loaders.latest_measurement_by_device.load_many([d.id for d in devices])
        return live_flows(devices, latest, datetime.now(UTC))
