"""Systems with their gateway, pools of systems, clusters of devices: OPERATOR work."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth import Principal, Role
from app.errors import ErrorCode, ValidationFailed
from app.models import (
    Account,
    ChargingSession,
    Cluster,
    ClusterDevice,
    Collector,
    Device,
    DeviceConstraint,
    Gateway,
    OptimizationRun,
    Site,
    SupplyPoint,
    System,
    SystemPool,
    SystemPoolMember,
)
from app.services.common import clean_name, clean_text, get_owned

# Tables whose rows follow their system when it moves to another account.
SYSTEM_OWNED: tuple[Any, ...] = (Site, Device, Cluster, Gateway)
"""Rows that name their system; the rest of a system's rows name its site or device and move with them."""
SITE_OWNED: tuple[Any, ...] = (Collector, SupplyPoint, ChargingSession, OptimizationRun)
DEVICE_OWNED: tuple[Any, ...] = (DeviceConstraint,)


async def create_system(
    session: AsyncSession,
    caller: Principal,
    *,
    account_id: uuid.UUID,
    name: str,
    gateway_serial_number: str | None,
    gateway_model: str | None,
) -> System:
    caller.require(Role.OPERATOR)
    account = await get_owned(session, caller, Account, account_id)
    system = System(account_id=account.id, name=clean_name(name))
    session.add(system)
    await session.flush()
    if gateway_serial_number is not None:
        await create_gateway(
            session,
            caller,
            system_id=system.id,
            serial_number=gateway_serial_number,
            model=gateway_model or "",
        )
    return system


async def update_system(
    session: AsyncSession,
    caller: Principal,
    system_id: uuid.UUID,
    *,
    name: str | None,
    account_id: uuid.UUID | None,
) -> System:
    """Renames a system or hands it, with everything on it, to another account of the caller's subtree."""
    caller.require(Role.OPERATOR)
    system = await get_owned(session, caller, System, system_id, lock=True)
    if name is not None:
        system.name = clean_name(name)
    if account_id is not None and account_id != system.account_id:
        account = await get_owned(session, caller, Account, account_id)
        system.account_id = account.id
        site_ids = select(col(Site.id)).where(col(Site.system_id) == system.id).scalar_subquery()
        device_ids = select(col(Device.id)).where(col(Device.system_id) == system.id).scalar_subquery()
        for model in SITE_OWNED:
            await session.execute(update(model).where(col(model.site_id).in_(site_ids)).values(account_id=account.id))
        for model in DEVICE_OWNED:
            await session.execute(
                update(model).where(col(model.device_id).in_(device_ids)).values(account_id=account.id)
            )
        for model in SYSTEM_OWNED:
            await session.execute(update(model).where(col(model.system_id) == system.id).values(account_id=account.id))
    session.add(system)
    await session.flush()
    return system


async def delete_system(session: AsyncSession, caller: Principal, system_id: uuid.UUID) -> None:
    caller.require(Role.OPERATOR)
    system = await get_owned(session, caller, System, system_id, lock=True)
    await session.delete(system)
    await session.flush()


async def _serial_free(session: AsyncSession, serial: str, except_id: uuid.UUID | None = None) -> str:
    serial = clean_name(serial, "serialNumber")
    statement = select(col(Gateway.id)).where(col(Gateway.serial_number) == serial)
    if except_id is not None:
        statement = statement.where(col(Gateway.id) != except_id)
    if (await session.execute(statement)).first():
        raise ValidationFailed.one(ErrorCode.DUPLICATE, "serialNumber", "a gateway with this serial number exists")
    return serial


async def create_gateway(
    session: AsyncSession, caller: Principal, *, system_id: uuid.UUID, serial_number: str, model: str
) -> Gateway:
    caller.require(Role.OPERATOR)
    system = await get_owned(session, caller, System, system_id, lock=True)
    if (await session.execute(select(col(Gateway.id)).where(col(Gateway.system_id) == system.id))).first():
        raise ValidationFailed.one(ErrorCode.CONFLICT, "systemId", "the system has a gateway already")
    gateway = Gateway(
        account_id=system.account_id,
        system_id=system.id,
        serial_number=await _serial_free(session, serial_number),
        model=clean_text(model, "model"),
    )
    session.add(gateway)
    await session.flush()
    return gateway


async def update_gateway(
    session: AsyncSession,
    caller: Principal,
    gateway_id: uuid.UUID,
    *,
    serial_number: str | None,
    model: str | None,
    online: bool | None,
    last_seen_at: datetime | None,
) -> Gateway:
    caller.require(Role.OPERATOR)
    gateway = await get_owned(session, caller, Gateway, gateway_id, lock=True)
    if serial_number is not None:
        gateway.serial_number = await _serial_free(session, serial_number, gateway.id)
    if model is not None:
        gateway.model = clean_text(model, "model")
    if online is not None:
        gateway.online = online
    if last_seen_at is not None:
        gateway.last_seen_at = last_seen_at
    session.add(gateway)
    await session.flush()
    return gateway


async def delete_gateway(session: AsyncSession, caller: Principal, gateway_id: uuid.UUID) -> None:
    caller.require(Role.OPERATOR)
    gateway = await get_owned(session, caller, Gateway, gateway_id, lock=True)
    await session.delete(gateway)
    await session.flush()


async def _owned_ids(
    session: AsyncSession,
    caller: Principal,
    model: type,
    ids: list[uuid.UUID],
    field: str,
    *conditions: ColumnElement[bool],
) -> list[uuid.UUID]:
    """All of `ids` exist in the caller's subtree (and meet `conditions`), or a ValidationFailed naming one."""
    found = set(
        (
            await session.execute(
                select(model.id).where(model.id.in_(ids), caller.owns(model.account_id), *conditions)  # type: ignore[attr-defined]
            )
        ).scalars()
    )
    for index, pk in enumerate(ids):
        if pk not in found:
            raise ValidationFailed.one(
                ErrorCode.UNKNOWN_REFERENCE, f"{field}[{index}]", f"no suitable {model.__name__} {pk}"
            )
    return list(dict.fromkeys(ids))


async def _set_pool_members(
    session: AsyncSession, caller: Principal, pool: SystemPool, system_ids: list[uuid.UUID]
) -> None:
    account = await get_owned(session, caller, Account, pool.account_id)
    subtree = select(col(Account.id)).where(col(Account.path).startswith(account.path))
    ids = await _owned_ids(session, caller, System, system_ids, "systemIds", col(System.account_id).in_(subtree))
    await session.execute(delete(SystemPoolMember).where(col(SystemPoolMember.pool_id) == pool.id))
    session.add_all([SystemPoolMember(pool_id=pool.id, system_id=i) for i in ids])


async def create_pool(
    session: AsyncSession, caller: Principal, *, account_id: uuid.UUID, name: str, system_ids: list[uuid.UUID]
) -> SystemPool:
    """A pool gathers systems of its account's subtree."""
    caller.require(Role.OPERATOR)
    account = await get_owned(session, caller, Account, account_id)
    pool = SystemPool(account_id=account.id, name=clean_name(name))
    session.add(pool)
    await session.flush()
    await _set_pool_members(session, caller, pool, system_ids)
    await session.flush()
    return pool


async def update_pool(
    session: AsyncSession,
    caller: Principal,
    pool_id: uuid.UUID,
    *,
    name: str | None,
    system_ids: list[uuid.UUID] | None,
) -> SystemPool:
    caller.require(Role.OPERATOR)
    pool = await get_owned(session, caller, SystemPool, pool_id, lock=True)
    if name is not None:
        pool.name = clean_name(name)
    if system_ids is not None:
        await _set_pool_members(session, caller, pool, system_ids)
    session.add(pool)
    await session.flush()
    return pool


async def delete_pool(session: AsyncSession, caller: Principal, pool_id: uuid.UUID) -> None:
    caller.require(Role.OPERATOR)
    await session.delete(await get_owned(session, caller, SystemPool, pool_id, lock=True))
    await session.flush()


async def _set_cluster_devices(
    session: AsyncSession, caller: Principal, cluster: Cluster, device_ids: list[uuid.UUID]
) -> None:
    ids = await _owned_ids(session, caller, Device, device_ids, "deviceIds", col(Device.system_id) == cluster.system_id)
    await session.execute(delete(ClusterDevice).where(col(ClusterDevice.cluster_id) == cluster.id))
    session.add_all([ClusterDevice(cluster_id=cluster.id, device_id=i) for i in ids])


async def _cluster_parent(session: AsyncSession, caller: Principal, cluster: Cluster, parent_id: uuid.UUID) -> None:
    parent = await get_owned(session, caller, Cluster, parent_id)
    if parent.system_id != cluster.system_id:
        raise ValidationFailed.one(ErrorCode.INVALID, "parentId", "the parent cluster belongs to another system")
    ancestor: Cluster | None = parent
    while ancestor is not None:
        if ancestor.id == cluster.id:
            raise ValidationFailed.one(ErrorCode.CYCLE, "parentId", "a cluster cannot be its own ancestor")
        ancestor = await session.get(Cluster, ancestor.parent_id) if ancestor.parent_id else None
    cluster.parent_id = parent.id


async def create_cluster(
    session: AsyncSession,
    caller: Principal,
    *,
    system_id: uuid.UUID,
    name: str,
    parent_id: uuid.UUID | None,
    device_ids: list[uuid.UUID],
) -> Cluster:
    caller.require(Role.OPERATOR)
    system = await get_owned(session, caller, System, system_id)
    cluster = Cluster(account_id=system.account_id, system_id=system.id, name=clean_name(name))
    await _unique_cluster_name(session, cluster)
    if parent_id is not None:
        await _cluster_parent(session, caller, cluster, parent_id)
    session.add(cluster)
    await session.flush()
    await _set_cluster_devices(session, caller, cluster, device_ids)
    await session.flush()
    return cluster


async def _unique_cluster_name(session: AsyncSession, cluster: Cluster) -> None:
    statement = select(col(Cluster.id)).where(
        col(Cluster.system_id) == cluster.system_id, col(Cluster.name) == cluster.name, col(Cluster.id) != cluster.id
    )
    if (await session.execute(statement)).first():
        raise ValidationFailed.one(ErrorCode.DUPLICATE, "name", "the system has a cluster of this name")


async def update_cluster(
    session: AsyncSession,
    caller: Principal,
    cluster_id: uuid.UUID,
    *,
    name: str | None,
    parent_id: uuid.UUID | None,
    device_ids: list[uuid.UUID] | None,
) -> Cluster:
    caller.require(Role.OPERATOR)
    cluster = await get_owned(session, caller, Cluster, cluster_id, lock=True)
    if name is not None:
        cluster.name = clean_name(name)
        await _unique_cluster_name(session, cluster)
    if parent_id is not None:
        await _cluster_parent(session, caller, cluster, parent_id)
    if device_ids is not None:
        await _set_cluster_devices(session, caller, cluster, device_ids)
    session.add(cluster)
    await session.flush()
    return cluster


async def delete_cluster(session: AsyncSession, caller: Principal, cluster_id: uuid.UUID) -> None:
    caller.require(Role.OPERATOR)
    await session.delete(await get_owned(session, caller, Cluster, cluster_id, lock=True))
    await session.flush()
