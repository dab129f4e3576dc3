"""Systems, gateways, system pools and clusters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from app.auth import Principal
from app.services import systems
from resolvers.context import Info
from resolvers.errors import UserError
from resolvers.mutations.base import DeletePayload, delete, mutate, pk, pks
from resolvers.types.cluster import Cluster
from resolvers.types.device import DEVICE_TYPES
from resolvers.types.gateway import Gateway
from resolvers.types.pool import SystemPool
from resolvers.types.system import System

DEVICE_TYPE_NAMES = tuple(t.__name__ for t in DEVICE_TYPES.values())


@strawberry.type
class SystemPayload:
    system: System | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class GatewayPayload:
    gateway: Gateway | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SystemPoolPayload:
    system_pool: SystemPool | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ClusterPayload:
    cluster: Cluster | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class GatewayInput:
    serial_number: str
    model: str = ""


@strawberry.input
class CreateSystemInput:
    account_id: relay.GlobalID
    name: str
    gateway: GatewayInput | None = None


@strawberry.input
class UpdateSystemInput:
    name: str | None = None
    account_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Hands the system, with its sites and devices, to another account."
    )


@strawberry.input
class UpdateGatewayInput:
    serial_number: str | None = None
    model: str | None = None
    online: bool | None = None
    last_seen_at: datetime | None = None


@strawberry.input
class CreateSystemPoolInput:
    account_id: relay.GlobalID
    name: str
    system_ids: list[relay.GlobalID] = strawberry.field(default_factory=list)


@strawberry.input
class UpdateSystemPoolInput:
    name: str | None = None
    system_ids: list[relay.GlobalID] | None = strawberry.field(default=None, description="Replaces the members.")


@strawberry.input
class CreateClusterInput:
    system_id: relay.GlobalID
    name: str
    parent_id: relay.GlobalID | None = None
    device_ids: list[relay.GlobalID] = strawberry.field(default_factory=list)


@strawberry.input
class UpdateClusterInput:
    name: str | None = None
    parent_id: relay.GlobalID | None = None
    device_ids: list[relay.GlobalID] | None = strawberry.field(default=None, description="Replaces the members.")


@strawberry.type
class SystemMutations:
    @strawberry.mutation(description="Creates a system, with its gateway when one is given.")
    async def create_system(self, info: Info, input: CreateSystemInput) -> SystemPayload:
        async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
            row = await systems.create_system(
                session,
                caller,
                account_id=pk(input.account_id, ("Account",), "accountId"),
                name=input.name,
                gateway_serial_number=input.gateway.serial_number if input.gateway else None,
                gateway_model=input.gateway.model if input.gateway else None,
            )
            return {"system": System.from_row(row)}

        return await mutate(info, SystemPayload, work)

    @strawberry.mutation
    async def update_system(self, info: Info, id: relay.GlobalID, input: UpdateSystemInput) -> SystemPayload:
        async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
            account_id = None if input.account_id is None else pk(input.account_id, ("Account",), "accountId")
            row = await systems.update_system(
                session, caller, pk(id, ("System",), "id"), name=input.name, account_id=account_id
            )
            return {"system": System.from_row(row)}

        return await mutate(info, SystemPayload, work)

    @strawberry.mutation(description="Deletes the system with its gateway, sites, topology and devices.")
    async def delete_system(self, info: Info, id: relay.GlobalID) -> DeletePayload:
        return await delete(info, id, ("System",), systems.delete_system)

    @strawberry.mutation
    async def create_gateway(self, info: Info, system_id: relay.GlobalID, input: GatewayInput) -> GatewayPayload:
        async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
            row = await systems.create_gateway(
                session,
                caller,
                system_id=pk(system_id, ("System",), "systemId"),
                serial_number=input.serial_number,
                model=input.model,
            )
            return {"gateway": Gateway.from_row(row)}

        return await mutate(info, GatewayPayload, work)

    @strawberry.mutation
    async def update_gateway(self, info: Info, id: relay.GlobalID, input: UpdateGatewayInput) -> GatewayPayload:
        async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
            row = await systems.update_gateway(
                session,
                caller,
                pk(id, ("Gateway",), "id"),
                serial_number=input.serial_number,
                model=input.model,
                online=input.online,
                last_seen_at=input.last_seen_at,
            )
            return {"gateway": Gateway.from_row(row)}

        return await mutate(info, GatewayPayload, work)

    @strawberry.mutation
    async def delete_gateway(self, info: Info, id: relay.GlobalID) -> DeletePayload:
        return await delete(info, id, ("Gateway",), systems.delete_gateway)

    @strawberry.mutation
    async def create_system_pool(self, info: Info, input: CreateSystemPoolInput) -> SystemPoolPayload:
        async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
            row = await systems.create_pool(
                session,
                caller,
                account_id=pk(input.account_id, ("Account",), "accountId"),
                name=input.name,
                system_ids=pks(input.system_ids, ("System",), "systemIds"),
            )
            return {"system_pool": SystemPool.from_row(row)}

        return await mutate(info, SystemPoolPayload, work)

    @strawberry.mutation
    async def update_system_pool(
        self, info: Info, id: relay.GlobalID, input: UpdateSystemPoolInput
    ) -> SystemPoolPayload:
        async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
            system_ids = None if input.system_ids is None else pks(input.system_ids, ("System",), "systemIds")
            row = await systems.update_pool(
                session, caller, pk(id, ("SystemPool",), "id"), name=input.name, system_ids=system_ids
            )
            return {"system_pool": SystemPool.from_row(row)}

        return await mutate(info, SystemPoolPayload, work)

    @strawberry.mutation
    async def delete_system_pool(self, info: Info, id: relay.GlobalID) -> DeletePayload:
        return await delete(info, id, ("SystemPool",), systems.delete_pool)

    @strawberry.mutation
    async def create_cluster(self, info: Info, input: CreateClusterInput) -> ClusterPayload:
        async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
            row = await systems.create_cluster(
                session,
                caller,
                system_id=pk(input.system_id, ("System",), "systemId"),
                name=input.name,
                parent_id=None if input.parent_id is None else pk(input.parent_id, ("Cluster",), "parentId"),
                device_ids=pks(input.device_ids, DEVICE_TYPE_NAMES, "deviceIds"),
            )
            return {"cluster": Cluster.from_row(row)}

        return await mutate(info, ClusterPayload, work)

    @strawberry.mutation
    async def update_cluster(self, info: Info, id: relay.GlobalID, input: UpdateClusterInput) -> ClusterPayload:
        async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
            row = await systems.update_cluster(
                session,
                caller,
                pk(id, ("Cluster",), "id"),
                name=input.name,
                parent_id=None if input.parent_id is None else pk(input.parent_id, ("Cluster",), "parentId"),
                device_ids=None if input.device_ids is None else pks(input.device_ids, DEVICE_TYPE_NAMES, "deviceIds"),
            )
            return {"cluster": Cluster.from_row(row)}

        return await mutate(info, ClusterPayload, work)

    @strawberry.mutation
    async def delete_cluster(self, info: Info, id: relay.GlobalID) -> DeletePayload:
        return await delete(info, id, ("Cluster",), systems.delete_cluster)
