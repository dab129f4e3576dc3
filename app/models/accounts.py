"""Who: the account tree, its users and API keys."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from app.models.columns import account_field, created_at_field, fk_field, id_field, timestamp_field


class Account(SQLModel, table=True):
    """An organisation unit (ORGANIZATION) or an end-user's leaf account (CUSTOMER).

    `path` is the materialised chain of ancestor ids ("/root/child/self/") so that "everything below A"
    is one indexed prefix match instead of a recursive query per request.
    """

    __table_args__ = (Index("ix_account_path", "path", postgresql_ops={"path": "text_pattern_ops"}),)

    id: uuid.UUID = id_field()
    name: str
    kind: str
    parent_id: uuid.UUID | None = fk_field("account.id", nullable=True, ondelete="RESTRICT")
    path: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = created_at_field()


class User(SQLModel, table=True):
    __tablename__ = "app_user"

    id: uuid.UUID = id_field()
    account_id: uuid.UUID = account_field()
    email: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    name: str = ""
    role: str
    password_hash: str
    token_generation: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    """Part of every login token; a password change increments it, so older tokens stop working."""
    created_at: datetime = created_at_field()


class ApiKey(SQLModel, table=True):
    """A partner's key: only a SHA-256 of the secret is kept; the secret is shown once, at creation."""

    __tablename__ = "api_key"

    id: uuid.UUID = id_field()
    account_id: uuid.UUID = account_field()
    name: str
    role: str
    prefix: str
    secret_hash: str
    created_at: datetime = created_at_field()
    expires_at: datetime | None = timestamp_field()
    last_used_at: datetime | None = timestamp_field()
