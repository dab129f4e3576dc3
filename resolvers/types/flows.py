"""What a system and a pool of systems share: combined measurements and summed flexibility."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, ClassVar

import strawberry
from strawberry import Private

from app.services.aggregation import Period, Resolution
from resolvers.context import Info
from resolvers.loaders import PeriodKey
from resolvers.types.flexibility import AggregateFlexibility, aggregate_flexibility
from resolvers.types.measurement import SystemMeasurement


@strawberry.type
class AggregatedFlows:
    measurement_loader: ClassVar[str]
    pk: Private[uuid.UUID]

    async def member_devices(self, info: Info) -> list[Any]:
        """Every device whose flows this object adds up."""
        raise NotImplementedError

    @strawberry.field(
        description="Combined flows per bucket; the timezone defaults to a system's first site's, a pool's UTC."
    )
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
        buckets = await getattr(info.context.loaders, self.measurement_loader).load(PeriodKey(self.pk, period))
        return [SystemMeasurement.of(b, resolution) for b in buckets]

    @strawberry.field(description="The sum of its devices' flexibilities.")
    async def flexibility(self, info: Info) -> AggregateFlexibility:
        return await aggregate_flexibility(info, await self.member_devices(info))
