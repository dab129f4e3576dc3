"""Measurements in, constraints set and removed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from app.auth import Principal
from app.metrics import INGESTED_POINTS
from app.services import constraints, measurements
from resolvers.context import Info
from resolvers.errors import UserError
from resolvers.mutations.base import DeletePayload, delete, mutate, pk
from resolvers.mutations.measurement_points import MeasurementPoints, parse_points
from resolvers.types.constraint import Constraint
from resolvers.types.device import DEVICE_TYPES

DEVICE_TYPE_NAMES = tuple(t.__name__ for t in DEVICE_TYPES.values())


@strawberry.type
class IngestPayload:
    accepted: int = strawberry.field(default=0, description="Distinct (device, timestamp) points stored.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ConstraintPayload:
    constraint: Constraint | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class MeasurementMutations:
    @strawberry.mutation(
        description=(
            "Stores up to 10,000 points in one statement, all or none. The same device and timestamp again "
            "replaces the earlier point; a refused batch names the point's index and field."
        )
    )
    async def ingest_measurements(self, info: Info, points: MeasurementPoints) -> IngestPayload:
        async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
            return {"accepted": await measurements.ingest(session, caller, parse_points(points))}

        payload = await mutate(info, IngestPayload, work)
        INGESTED_POINTS.inc(payload.accepted)  # after the commit: stored points only
        return payload

    @strawberry.mutation(
        description=(
            "Adds a constraint to a device: bounds and/or a set point (W), a priority (0..2147483647, higher "
            "wins) and an expiry at most 25 h ahead. The device's physical limits always rank above it."
        )
    )
    async def set_constraint(
        self,
        info: Info,
        device_id: relay.GlobalID,
        priority: int,
        invalid_at: datetime,
        min_active_power: float | None = None,
        max_active_power: float | None = None,
        active_power: float | None = None,
    ) -> ConstraintPayload:
        async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
            row = await constraints.set_constraint(
                session,
                caller,
                pk(device_id, DEVICE_TYPE_NAMES, "deviceId"),
                min_active_power=min_active_power,
                max_active_power=max_active_power,
                active_power=active_power,
                priority=priority,
                invalid_at=invalid_at,
            )
            return {"constraint": Constraint.from_row(row)}

        return await mutate(info, ConstraintPayload, work)

    @strawberry.mutation
    async def remove_constraint(self, info: Info, id: relay.GlobalID) -> DeletePayload:
        return await delete(info, id, ("Constraint",), constraints.remove_constraint)
