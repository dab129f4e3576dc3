"""The site topology: the whole Pleevi document at once, or one collector or device at a time."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import UNSET, relay
from strawberry.scalars import JSON

from app.auth import Principal
from app.models import Collector as CollectorRow
from app.services import topology
from app.services.common import get_owned
from resolvers.context import Info
from resolvers.errors import UserError
from resolvers.mutations.base import DeletePayload, delete, mutate, pk
from resolvers.mutations.topology_inputs import (
    BatteryInput,
    ChargingPoleInput,
    CollectorInput,
    DcChargingPoleInput,
    ForecastedSeriesInput,
    UpdateBatteryInput,
    UpdateChargingPoleInput,
    UpdateCollectorInput,
    UpdateDcChargingPoleInput,
    UpdateForecastedSeriesInput,
    document_entry,
)
from resolvers.types.collector import Collector
from resolvers.types.device import (
    DEVICE_TYPES,
    Battery,
    ChargingPole,
    DcChargingPole,
    Device,
    ForecastedSeries,
    device_from_row,
)
from resolvers.types.site import Site

DEVICE_TYPE_NAMES = tuple(t.__name__ for t in DEVICE_TYPES.values())


@strawberry.type
class SiteConfigurationPayload:
    site: Site | None = strawberry.field(default=None, description="Read `site.validation` for the optimizer's view.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CollectorPayload:
    collector: Collector | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DevicePayload:
    device: Device | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


async def _collector(session: AsyncSession, caller: Principal, global_id: Any, field: str) -> CollectorRow | None:
    if global_id is None or global_id is UNSET:
        return None
    return await get_owned(session, caller, CollectorRow, pk(global_id, ("Collector",), field))


async def _create_device(info: Info, collector_id: relay.GlobalID, entry: dict[str, Any]) -> DevicePayload:
    async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
        row = await topology.create_device(session, caller, pk(collector_id, ("Collector",), "collectorId"), entry)
        return {"device": device_from_row(row)}

    return await mutate(info, DevicePayload, work)


async def _update_device(info: Info, id: relay.GlobalID, type_name: str, input: Any, type_value: str) -> DevicePayload:
    async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
        collector = await _collector(session, caller, input.collector_id, "input.collectorId")
        changes = document_entry(input, type=type_value)
        row = await topology.update_device(session, caller, pk(id, (type_name,), "id"), changes, collector)
        return {"device": device_from_row(row)}

    return await mutate(info, DevicePayload, work)


@strawberry.type
class TopologyMutations:
    @strawberry.mutation(
        description=(
            "Replaces the site's collectors and devices with Pleevi's site-configuration document "
            "({collector_list, device_list}, snake_case), in one transaction: all of it or, with `errors`, none. "
            "Collectors and devices that keep their name keep their id."
        )
    )
    async def apply_site_configuration(
        self, info: Info, site_id: relay.GlobalID, document: JSON
    ) -> SiteConfigurationPayload:
        async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
            row = await topology.apply_site_configuration(session, caller, pk(site_id, ("Site",), "siteId"), document)
            return {"site": Site.from_row(row)}

        return await mutate(info, SiteConfigurationPayload, work)

    @strawberry.mutation
    async def create_collector(self, info: Info, site_id: relay.GlobalID, input: CollectorInput) -> CollectorPayload:
        async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
            parent = await _collector(session, caller, input.parent_id, "input.parentId")
            row = await topology.create_collector(
                session, caller, pk(site_id, ("Site",), "siteId"), document_entry(input), parent
            )
            return {"collector": Collector.from_row(row)}

        return await mutate(info, CollectorPayload, work)

    @strawberry.mutation
    async def update_collector(self, info: Info, id: relay.GlobalID, input: UpdateCollectorInput) -> CollectorPayload:
        async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
            parent = await _collector(session, caller, input.parent_id, "input.parentId")
            row = await topology.update_collector(
                session, caller, pk(id, ("Collector",), "id"), document_entry(input), parent
            )
            return {"collector": Collector.from_row(row)}

        return await mutate(info, CollectorPayload, work)

    @strawberry.mutation(description="Refused while devices or child collectors hang on it.")
    async def delete_collector(self, info: Info, id: relay.GlobalID) -> DeletePayload:
        return await delete(info, id, ("Collector",), topology.delete_collector)

    @strawberry.mutation
    async def create_charging_pole(
        self, info: Info, collector_id: relay.GlobalID, input: ChargingPoleInput
    ) -> DevicePayload:
        return await _create_device(info, collector_id, document_entry(input, type=ChargingPole.device_type.value))

    @strawberry.mutation
    async def update_charging_pole(
        self, info: Info, id: relay.GlobalID, input: UpdateChargingPoleInput
    ) -> DevicePayload:
        return await _update_device(info, id, "ChargingPole", input, ChargingPole.device_type.value)

    @strawberry.mutation
    async def create_dc_charging_pole(
        self, info: Info, collector_id: relay.GlobalID, input: DcChargingPoleInput
    ) -> DevicePayload:
        return await _create_device(info, collector_id, document_entry(input, type=DcChargingPole.device_type.value))

    @strawberry.mutation
    async def update_dc_charging_pole(
        self, info: Info, id: relay.GlobalID, input: UpdateDcChargingPoleInput
    ) -> DevicePayload:
        return await _update_device(info, id, "DcChargingPole", input, DcChargingPole.device_type.value)

    @strawberry.mutation
    async def create_forecasted_series(
        self, info: Info, collector_id: relay.GlobalID, input: ForecastedSeriesInput
    ) -> DevicePayload:
        return await _create_device(info, collector_id, document_entry(input, type=ForecastedSeries.device_type.value))

    @strawberry.mutation
    async def update_forecasted_series(
        self, info: Info, id: relay.GlobalID, input: UpdateForecastedSeriesInput
    ) -> DevicePayload:
        return await _update_device(info, id, "ForecastedSeries", input, ForecastedSeries.device_type.value)

    @strawberry.mutation
    async def create_battery(self, info: Info, collector_id: relay.GlobalID, input: BatteryInput) -> DevicePayload:
        return await _create_device(info, collector_id, document_entry(input, type=Battery.device_type.value))

    @strawberry.mutation
    async def update_battery(self, info: Info, id: relay.GlobalID, input: UpdateBatteryInput) -> DevicePayload:
        return await _update_device(info, id, "Battery", input, Battery.device_type.value)

    @strawberry.mutation(description="Removes a device of any type (a detached one too).")
    async def delete_device(self, info: Info, id: relay.GlobalID) -> DeletePayload:
        return await delete(info, id, DEVICE_TYPE_NAMES, topology.delete_device)
