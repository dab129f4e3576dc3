"""A charging pole's OCPP station: how it logs in, which EVSE/connector it is, and what it last said."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Text
from sqlalchemy.dialects.postgresql import UUID
from sqlmodel import Field, SQLModel

from app.models.columns import account_field, created_at_field, timestamp_field


class OcppStation(SQLModel, table=True):
    """One row per charging pole driven over OCPP; the pole's account owns it (tenancy of the station).

    `control_status` is `ok` while the station accepts the profiles it is sent, `refused` after it rejected
    one and `unresponsive` after a call went unanswered; the planner then assumes the pole draws its
    `fallback_current_a` (the station's own limit when it hears nothing)."""

    __tablename__ = "ocpp_station"

    device_id: uuid.UUID = Field(
        sa_column=Column(UUID(as_uuid=True), ForeignKey("device.id", ondelete="CASCADE"), primary_key=True)
    )
    account_id: uuid.UUID = account_field()
    station_id: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    evse_id: int = 1
    connector_id: int = 1
    password_hash: str
    fallback_current_a: float | None = None
    online: bool = False
    last_seen_at: datetime | None = timestamp_field()
    protocol: str | None = None
    connector_status: str | None = None
    vendor: str | None = None
    model: str | None = None
    firmware_version: str | None = None
    transaction_id: str | None = None
    phase_rotation: str | None = None
    phase_rotation_issue: str | None = None
    control_status: str = "ok"
    control_message: str | None = None
    control_changed_at: datetime | None = timestamp_field()
    last_profile_at: datetime | None = timestamp_field()
    created_at: datetime = created_at_field()
