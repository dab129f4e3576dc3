"""What an account owns besides sites: systems with their gateway, pools of systems, clusters of devices."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import UUID
from sqlmodel import Field, SQLModel

from app.models.columns import account_field, created_at_field, fk_field, id_field, timestamp_field


class System(SQLModel, table=True):
    id: uuid.UUID = id_field()
    account_id: uuid.UUID = account_field()
    name: str
    created_at: datetime = created_at_field()


class Gateway(SQLModel, table=True):
    """The box that connects a system's devices to the cloud; exactly one per system."""

    id: uuid.UUID = id_field()
    account_id: uuid.UUID = account_field()
    system_id: uuid.UUID = Field(
        sa_column=Column(UUID(as_uuid=True), ForeignKey("system.id", ondelete="CASCADE"), unique=True)
    )
    serial_number: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    model: str = ""
    online: bool = False
    last_seen_at: datetime | None = timestamp_field()
    created_at: datetime = created_at_field()


class SystemPool(SQLModel, table=True):
    """A community or virtual power plant: a set of systems whose measurements add up."""

    __tablename__ = "system_pool"

    id: uuid.UUID = id_field()
    account_id: uuid.UUID = account_field()
    name: str
    created_at: datetime = created_at_field()


class SystemPoolMember(SQLModel, table=True):
    __tablename__ = "system_pool_member"

    pool_id: uuid.UUID = Field(
        sa_column=Column(UUID(as_uuid=True), ForeignKey("system_pool.id", ondelete="CASCADE"), primary_key=True)
    )
    system_id: uuid.UUID = Field(
        sa_column=Column(UUID(as_uuid=True), ForeignKey("system.id", ondelete="CASCADE"), primary_key=True, index=True)
    )


class Cluster(SQLModel, table=True):
    """A named group of one system's devices; clusters nest."""

    __table_args__ = (UniqueConstraint("system_id", "name"),)

    id: uuid.UUID = id_field()
    account_id: uuid.UUID = account_field()
    system_id: uuid.UUID = fk_field("system.id")
    parent_id: uuid.UUID | None = fk_field("cluster.id", nullable=True, ondelete="CASCADE")
    name: str
    created_at: datetime = created_at_field()


class ClusterDevice(SQLModel, table=True):
    __tablename__ = "cluster_device"

    cluster_id: uuid.UUID = Field(
        sa_column=Column(UUID(as_uuid=True), ForeignKey("cluster.id", ondelete="CASCADE"), primary_key=True)
    )
    device_id: uuid.UUID = Field(
        sa_column=Column(UUID(as_uuid=True), ForeignKey("device.id", ondelete="CASCADE"), primary_key=True, index=True)
    )
