from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import strawberry
from strawberry import Private, relay

from resolvers.context import Info
from resolvers.types.node import LoadedNode, relation
from resolvers.types.upstream_site import UpstreamSite


@strawberry.type(description="A supplier's contract on an upstream site: agreed or not, from `startAt` to `endAt`.")
class Contract(LoadedNode):
    loader_name = "contract"

    id: relay.NodeID[str]
    start_at: datetime
    end_at: datetime | None = strawberry.field(description="Null for an open-ended contract.")
    agreed: bool = strawberry.field(description="Whether the end customer agreed to it.")
    created_at: datetime
    upstream_site_id: Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: Any) -> Contract:
        return cls(
            id=str(row.id),
            start_at=row.start_at,
            end_at=row.end_at,
            agreed=row.agreed,
            created_at=row.created_at,
            upstream_site_id=row.upstream_site_id,
        )

    @strawberry.field
    def upstream_site(self, info: Info) -> UpstreamSite | None:
        return relation(info, info.context.loaders.upstream_site, self.upstream_site_id, UpstreamSite.from_row)
