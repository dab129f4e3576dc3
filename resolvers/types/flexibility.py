"""Flexibility (gridX): the latest measurement, the bounds the live constraints resolve to, the set point."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import strawberry

from app.domain.flexibility import Bound, flexibility_bounds
from resolvers.context import Info
from resolvers.types.constraint import Constraint, constraint_view
from resolvers.types.ocpp import control_warning


@strawberry.type(description="A device's operating boundary now; read only. Powers in W, consumption positive.")
class Flexibility:
    active_power: float | None = strawberry.field(description="The latest measured power.")
    state_of_charge: float | None = strawberry.field(description="The latest measured state of charge, %.")
    min_active_power: float
    max_active_power: float
    set_point: float | None = strawberry.field(description="The winning set point, held within the bounds.")
    updated_at: datetime | None = strawberry.field(description="The newest measurement or constraint behind it.")
    invalid_at: datetime | None = strawberry.field(description="When it changes by itself: the first expiry.")
    min_active_power_decided_by: Constraint | None = strawberry.field(description="Null: the physical limit.")
    max_active_power_decided_by: Constraint | None = strawberry.field(description="Null: the physical limit.")
    set_point_decided_by: Constraint | None
    control_warning: str | None = strawberry.field(
        default=None, description="Why the device does not follow its limits (its OCPP station refuses or is offline)."
    )


@strawberry.type(description="The sum of the flexibilities of a system's (or pool's) devices, W.")
class AggregateFlexibility:
    min_active_power: float
    max_active_power: float
    active_power: float = strawberry.field(description="Sum of the latest measured powers.")
    set_point: float | None = strawberry.field(description="Sum of the set points, null when no device has one.")
    devices: int


async def device_flexibility(info: Info, device: Any) -> Flexibility:
    loaders = info.context.loaders
    collector, constraint_rows, latest, station = await asyncio.gather(
        loaders.collector.load(device.collector_id) if device.collector_id else asyncio.sleep(0, None),
        loaders.live_constraints_by_device.load(device.id),
        loaders.latest_measurement_by_device.load(device.id),
        loaders.ocpp_station_by_device.load(device.id),
    )
    resolved = flexibility_bounds(device, collector, [constraint_view(c) for c in constraint_rows], datetime.now(UTC))
    emitters = {c.id: c.emitter for c in constraint_rows}

    def decider(bound: Bound | None) -> Constraint | None:
        if bound is None or bound.decided_by is None:
            return None
        return Constraint.from_view(bound.decided_by, device.id, emitters[bound.decided_by.id])

    stamps = [c.created_at for c in constraint_rows] + ([latest.ts] if latest else [])
    return Flexibility(
        active_power=latest.power_w if latest else None,
        state_of_charge=latest.soc if latest else None,
        min_active_power=resolved.minimum.value,
        max_active_power=resolved.maximum.value,
        set_point=resolved.set_point.value if resolved.set_point else None,
        updated_at=max(stamps, default=None),
        invalid_at=resolved.invalid_at,
        min_active_power_decided_by=decider(resolved.minimum),
        max_active_power_decided_by=decider(resolved.maximum),
        set_point_decided_by=decider(resolved.set_point),
        control_warning=control_warning(station, info.context.settings),
    )


async def aggregate_flexibility(info: Info, devices: list[Any]) -> AggregateFlexibility:
    parts = await asyncio.gather(*(device_flexibility(info, d) for d in devices))
    set_points = [p.set_point for p in parts if p.set_point is not None]
    return AggregateFlexibility(
        min_active_power=sum(p.min_active_power for p in parts),
        max_active_power=sum(p.max_active_power for p in parts),
        active_power=sum(p.active_power or 0.0 for p in parts),
        set_point=sum(set_points) if set_points else None,
        devices=len(parts),
    )
