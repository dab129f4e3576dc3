from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import Private, relay

from resolvers.context import Info
from resolvers.types.node import LoadedNode, relation

if TYPE_CHECKING:
    from resolvers.types.system import System


@strawberry.type(description="The box that connects a system's devices to Phasewise.")
class Gateway(LoadedNode):
    loader_name = "gateway"

    id: relay.NodeID[str]
    serial_number: str
    model: str
    online: bool
    last_seen_at: datetime | None
    system_id: Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: Any) -> Gateway:
        return cls(
            id=str(row.id),
            serial_number=row.serial_number,
            model=row.model,
            online=row.online,
            last_seen_at=row.last_seen_at,
            system_id=row.system_id,
        )

    @strawberry.field
    def system(self, info: Info) -> Annotated[System, strawberry.lazy("resolvers.types.system")] | None:
        from resolvers.types.system import System

        return relation(info, info.context.loaders.system, self.system_id, System.from_row)
