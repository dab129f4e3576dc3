"""Operating constraints on devices (gridX): bounds and set points with a priority and an expiry."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from app.models.columns import account_field, created_at_field, fk_field, id_field, timestamp_field


class DeviceConstraint(SQLModel, table=True):
    """Live while `invalid_at` lies ahead; expired rows simply stop matching (no job deletes them first)."""

    __tablename__ = "device_constraint"
    __table_args__ = (Index("ix_device_constraint_live", "device_id", "invalid_at"),)

    id: uuid.UUID = id_field()
    account_id: uuid.UUID = account_field()
    device_id: uuid.UUID = fk_field("device.id", index=False)
    min_active_power: float | None = None
    max_active_power: float | None = None
    active_power: float | None = None
    priority: int = Field(sa_column=Column(BigInteger, nullable=False))
    invalid_at: datetime = timestamp_field(nullable=False)
    emitter: str = ""
    created_at: datetime = created_at_field()
