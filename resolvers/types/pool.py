from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import Private, relay

from app.services.aggregation import Period, Resolution
from resolvers.connection import Connection
from resolvers.context import Info
from resolvers.loaders import PeriodKey
from resolvers.types.flexibility import AggregateFlexibility, aggregate_flexibility
from resolvers.types.measurement import SystemMeasurement
from resolvers.types.node import First, LoadedNode, paged, related

if TYPE_CHECKING:
    from resolvers.types.account import Account
    from resolvers.types.system import System


@strawberry.type(description="A community or virtual power plant: a set of systems whose measurements add up.")
class SystemPool(LoadedNode):
    loader_name = "system_pool"

    id: relay.NodeID[str]
    name: str
    created_at: datetime
    pk: Private[uuid.UUID]
    account_id: Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: Any) -> SystemPool:
        return cls(id=str(row.id), pk=row.id, name=row.name, created_at=row.created_at, account_id=row.account_id)

    @strawberry.field
    async def account(self, info: Info) -> Annotated[Account, strawberry.lazy("resolvers.types.account")] | None:
        from resolvers.types.account import Account

        return await related(info.context.loaders.account, self.account_id, Account.from_row)

    @strawberry.field
    async def systems(
        self, info: Info, first: First = None, after: str | None = None
    ) -> Connection[Annotated[System, strawberry.lazy("resolvers.types.system")]]:
        from resolvers.types.system import System

        return await paged(info, info.context.loaders.systems_by_pool, self.pk, first, after, System.from_row)

    @strawberry.field(description="Combined flows per bucket; the timezone defaults to UTC.")
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
        buckets = await info.context.loaders.pool_measurements.load(PeriodKey(self.pk, period))
        return [SystemMeasurement.of(b, resolution) for b in buckets]

    @strawberry.field(description="The sum of its devices' flexibilities.")
    async def flexibility(self, info: Info) -> AggregateFlexibility:
        systems = await info.context.loaders.all_systems_by_pool.load(self.pk)
        per_system = await info.context.loaders.all_devices_by_system.load_many([s.id for s in systems])
        devices = [d for ds in per_system for d in ds]
        return await aggregate_flexibility(info, devices)
