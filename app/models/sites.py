"""Grid connections and the supplier side they are matched against."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, Index, Text, text
from sqlmodel import Field, SQLModel

from app.models.columns import account_field, created_at_field, fk_field, id_field, timestamp_field


class Site(SQLModel, table=True):
    """One grid connection. `status` is kept by the services (devices added or removed, pause, delete);
    `upstream_status` is derived at read time because contracts start and end with the clock."""

    __table_args__ = (Index("ix_site_status", "status"),)

    id: uuid.UUID = id_field()
    account_id: uuid.UUID = account_field()
    system_id: uuid.UUID = fk_field("system.id")
    name: str
    country: str
    grid_identifier: str = Field(sa_column=Column(Text, nullable=False, index=True))
    timezone: str
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    status: str = "no_resources"
    created_at: datetime = created_at_field()
    deleted_at: datetime | None = timestamp_field()


class SupplyPoint(SQLModel, table=True):
    """A metering point of a site; an identifier belongs to at most one live site."""

    __tablename__ = "supply_point"
    __table_args__ = (Index("ux_supply_point_identifier", "grid_identifier", unique=True),)

    id: uuid.UUID = id_field()
    account_id: uuid.UUID = account_field()
    site_id: uuid.UUID = fk_field("site.id")
    grid_identifier: str
    direction: str
    position: int = 0


class UpstreamSite(SQLModel, table=True):
    """A supplier's registration of a grid identifier; sites match it by identifier, across accounts."""

    __tablename__ = "upstream_site"

    id: uuid.UUID = id_field()
    account_id: uuid.UUID = account_field()
    grid_identifier: str = Field(sa_column=Column(Text, nullable=False, index=True))
    supplier: str = ""
    created_at: datetime = created_at_field()


class Contract(SQLModel, table=True):
    __table_args__ = (Index("ix_contract_upstream", "upstream_site_id", text("start_at")),)

    id: uuid.UUID = id_field()
    account_id: uuid.UUID = account_field()
    upstream_site_id: uuid.UUID = fk_field("upstream_site.id", index=False)
    start_at: datetime = timestamp_field(nullable=False)
    end_at: datetime | None = timestamp_field()
    agreed: bool = False
    created_at: datetime = created_at_field()
