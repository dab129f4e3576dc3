from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import Private, relay

from app.domain.flexibility import ConstraintView
from resolvers.context import Info
from resolvers.types.node import LoadedNode, relation

if TYPE_CHECKING:
    from resolvers.types.device import Device


@strawberry.type(description="An operating constraint on a device (gridX): live until `invalidAt`.")
class Constraint(LoadedNode):
    loader_name = "constraint"

    id: relay.NodeID[str]
    min_active_power: float | None = strawberry.field(description="W; consumption positive.")
    max_active_power: float | None = strawberry.field(description="W; consumption positive.")
    active_power: float | None = strawberry.field(description="The set point, W.")
    priority: int = strawberry.field(description="0..2147483647; higher wins.")
    invalid_at: datetime
    emitter: str = strawberry.field(description="Who set it: 'user:<id>' or 'api_key:<id>'.")
    created_at: datetime
    device_id: Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: Any) -> Constraint:
        return cls(
            id=str(row.id),
            min_active_power=row.min_active_power,
            max_active_power=row.max_active_power,
            active_power=row.active_power,
            priority=row.priority,
            invalid_at=row.invalid_at,
            emitter=row.emitter,
            created_at=row.created_at,
            device_id=row.device_id,
        )

    @classmethod
    def from_view(cls, view: ConstraintView, device_id: uuid.UUID, emitter: str) -> Constraint:
        return cls(
            id=str(view.id),
            min_active_power=view.min_active_power,
            max_active_power=view.max_active_power,
            active_power=view.active_power,
            priority=view.priority,
            invalid_at=view.invalid_at,
            emitter=emitter,
            created_at=view.created_at,
            device_id=device_id,
        )

    @strawberry.field
    def device(self, info: Info) -> Annotated[Device, strawberry.lazy("resolvers.types.device")] | None:
        from resolvers.types.device import device_from_row

        return relation(info, info.context.loaders.device, self.device_id, device_from_row)


def constraint_view(row: Any) -> ConstraintView:
    return ConstraintView(
        id=row.id,
        min_active_power=row.min_active_power,
        max_active_power=row.max_active_power,
        active_power=row.active_power,
        priority=row.priority,
        invalid_at=row.invalid_at,
        created_at=row.created_at,
    )
