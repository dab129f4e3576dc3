"""Column helpers shared by the tables: UUID keys, aware timestamps, the owning account."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Dialect, ForeignKey, Table, TypeDecorator
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlmodel import Field


def table_of(model: Any) -> Table:
    """A table model's Core table: its statements select plain rows, with no ORM entities to build."""
    return model.__table__


def utcnow() -> datetime:
    return datetime.now(UTC)


def id_field() -> Any:
    return Field(default_factory=uuid.uuid4, primary_key=True)


def created_at_field() -> Any:
    return Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


def timestamp_field(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable))


def fk_field(target: str, *, nullable: bool = False, ondelete: str = "CASCADE", index: bool = True) -> Any:
    """A UUID foreign key. Every owned row carries `account_id` so tenancy is one indexed filter."""
    return Field(
        default=None if nullable else ...,
        sa_column=Column(UUID(as_uuid=True), ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index),
    )


def account_field() -> Any:
    return fk_field("account.id", ondelete="CASCADE")


class DriverArray(TypeDecorator[list[Any]]):
    """A PostgreSQL array of values that need no conversion (text, numbers), read as asyncpg decodes it: a
    list. SQLAlchemy's `ARRAY` copies every array again through its item processor, and for the devices of a
    large inventory that took longer than decoding them. Written, compared and created as `ARRAY`."""

    impl = ARRAY
    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        if dialect.driver == "asyncpg":
            return None
        return super().result_processor(dialect, coltype)
