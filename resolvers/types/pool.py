from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import Private, relay

from resolvers.connection import Connection
from resolvers.context import Info
from resolvers.types.flows import AggregatedFlows
from resolvers.types.node import First, LoadedNode, connection, relation

if TYPE_CHECKING:
    from resolvers.types.account import Account
    from resolvers.types.system import System


@strawberry.type(description="A community or virtual power plant: a set of systems whose measurements add up.")
class SystemPool(LoadedNode, AggregatedFlows):
    loader_name = "system_pool"
    measurement_loader = "pool_measurements"

    id: relay.NodeID[str]
    name: str
    created_at: datetime
    pk: Private[uuid.UUID]
    account_id: Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: Any) -> SystemPool:
        return cls(id=str(row.id), pk=row.id, name=row.name, created_at=row.created_at, account_id=row.account_id)

    @strawberry.field
    def account(self, info: Info) -> Annotated[Account, strawberry.lazy("resolvers.types.account")] | None:
        from resolvers.types.account import Account

        return relation(info, info.context.loaders.account, self.account_id, Account.from_row)

    @strawberry.field
    def systems(
        self, info: Info, first: First = None, after: str | None = None
    ) -> Connection[Annotated[System, strawberry.lazy("resolvers.types.system")]]:
        from resolvers.types.system import System

        return connection(info, info.context.loaders.systems_by_pool, self.pk, first, after, System.from_row)

    async def member_devices(self, info: Info) -> list[Any]:
        systems = await info.context.loaders.all_systems_by_pool.load(self.pk)
        per_system = await info.context.loaders.all_devices_by_system.load_many([s.id for s in systems])
        return [d for devices in per_system for d in devices]
