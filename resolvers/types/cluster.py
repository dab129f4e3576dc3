from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import Private, relay

from resolvers.connection import Connection
from resolvers.context import Info
from resolvers.types.node import First, LoadedNode, connection, relation

if TYPE_CHECKING:
    from resolvers.types.constraint import Constraint
    from resolvers.types.device import Device
    from resolvers.types.system import System


@strawberry.type(description="A named group of one system's devices; clusters nest.")
class Cluster(LoadedNode):
    loader_name = "cluster"

    id: relay.NodeID[str]
    name: str
    created_at: datetime
    pk: Private[uuid.UUID]
    system_id: Private[uuid.UUID]
    parent_id: Private[uuid.UUID | None]

    @classmethod
    def from_row(cls, row: Any) -> Cluster:
        return cls(
            id=str(row.id),
            pk=row.id,
            name=row.name,
            created_at=row.created_at,
            system_id=row.system_id,
            parent_id=row.parent_id,
        )

    @strawberry.field
    def system(self, info: Info) -> Annotated[System, strawberry.lazy("resolvers.types.system")] | None:
        from resolvers.types.system import System

        return relation(info, info.context.loaders.system, self.system_id, System.from_row)

    @strawberry.field
    def parent(self, info: Info) -> Cluster | None:
        return relation(info, info.context.loaders.cluster, self.parent_id, Cluster.from_row)

    @strawberry.field
    def children(self, info: Info, first: First = None, after: str | None = None) -> Connection[Cluster]:
        return connection(info, info.context.loaders.clusters_by_parent, self.pk, first, after, Cluster.from_row)

    @strawberry.field(description="The devices directly in this cluster (not those of its children).")
    def devices(
        self, info: Info, first: First = None, after: str | None = None
    ) -> Connection[Annotated[Device, strawberry.lazy("resolvers.types.device")]]:
        from resolvers.types.device import device_from_row

        return connection(info, info.context.loaders.devices_by_cluster, self.pk, first, after, device_from_row)

    @strawberry.field(description="The live constraints of the devices in this cluster, highest priority first.")
    def constraints(
        self, info: Info, first: First = None, after: str | None = None
    ) -> Connection[Annotated[Constraint, strawberry.lazy("resolvers.types.constraint")]]:
        from resolvers.types.constraint import Constraint

        return connection(info, info.context.loaders.constraints_by_cluster, self.pk, first, after, Constraint.from_row)
