"""A site's electrical topology: the collector tree and the devices hanging on it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from app.models.columns import DriverArray, account_field, created_at_field, fk_field, id_field


class Collector(SQLModel, table=True):
    """A fuse or sub-board; Pleevi's collector with every field kept."""

    __table_args__ = (UniqueConstraint("site_id", "name"),)

    id: uuid.UUID = id_field()
    account_id: uuid.UUID = account_field()
    site_id: uuid.UUID = fk_field("site.id")
    parent_id: uuid.UUID | None = fk_field("collector.id", nullable=True, ondelete="CASCADE")
    name: str
    line_current: float
    phase_voltage: float | None = None
    line_voltage: float | None = None
    commodity: str = "electricity"
    phase_type: str = "3P"
    nb_of_phases: int = 3
    phase: str | None = None
    phase_permutations: dict[str, str] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    position: int = 0


class Device(SQLModel, table=True):
    """One table for every device type (single-table inheritance) so a level of a nested query is one
    statement whatever the mix of types; type-specific columns are null for the other types.

    `site_id` and `collector_id` become null when a site is deleted: the device and its history stay with
    the system, detached, instead of being silently destroyed."""

    __table_args__ = (UniqueConstraint("site_id", "name"),)

    id: uuid.UUID = id_field()
    account_id: uuid.UUID = account_field()
    system_id: uuid.UUID = fk_field("system.id")
    site_id: uuid.UUID | None = fk_field("site.id", nullable=True, ondelete="SET NULL")
    collector_id: uuid.UUID | None = fk_field("collector.id", nullable=True, ondelete="SET NULL")
    name: str
    type: str
    line_current: float | None = None
    pin_list: list[str] | None = Field(default=None, sa_column=Column(DriverArray(Text), nullable=True))
    phase_list: list[str] | None = Field(default=None, sa_column=Column(DriverArray(Text), nullable=True))
    forecast_type: str | None = None
    should_be_aggregated: bool | None = None
    charging_efficiency: float | None = None
    discharging_efficiency: float | None = None
    maximum_charging_power: float | None = None
    maximum_discharging_power: float | None = None
    operational_battery_capacity: float | None = None
    charging_priority: int | None = None
    discharging_priority: int | None = None
    policies: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    supports_phase_switching: bool | None = None
    bidirectional: bool | None = None
    maximum_power: float | None = None
    conversion_efficiency: float | None = None
    minimum_power: float | None = None
    position: int = 0
    created_at: datetime = created_at_field()
