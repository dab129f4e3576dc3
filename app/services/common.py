"""Helpers every service uses: loading a caller's row, and the small field rules shared across inputs."""

from __future__ import annotations

import re
import uuid
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import Principal
from app.domain.bounds import name_issue
from app.errors import ErrorCode, Issue, NotFound, ValidationFailed
from app.tenancy import in_subtree

ModelT = TypeVar("ModelT")


async def get_owned(
    session: AsyncSession, caller: Principal, model: type[ModelT], pk: uuid.UUID, *, lock: bool = False
) -> ModelT:
    """The row, if it exists and lies in the caller's subtree; otherwise NotFound (the two look the same)."""
    statement = select(model).where(model.id == pk, in_subtree(caller, model))  # type: ignore[attr-defined]
    if getattr(model, "deleted_at", None) is not None:
        statement = statement.where(model.deleted_at.is_(None))  # type: ignore[attr-defined]
    if lock:
        statement = statement.with_for_update()
    row = (await session.execute(statement)).scalars().first()
    if row is None:
        raise NotFound(f"no {model.__name__} with id {pk} that you can see")
    return row


def clean_name(value: str, field: str = "name") -> str:
    name = value.strip()
    if not name:
        raise ValidationFailed.one(ErrorCode.REQUIRED, field, "must not be empty")
    issue = name_issue(name)
    if issue is not None:
        raise ValidationFailed.one(issue[0], field, issue[1])
    return name


def clean_text(value: str, field: str) -> str:
    """An optional name-like text (may be empty): stripped, at most 200 printable characters."""
    text = value.strip()
    issue = name_issue(text) if text else None
    if issue is not None:
        raise ValidationFailed.one(issue[0], field, issue[1])
    return text


def timezone_issue(value: str, field: str) -> Issue | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return Issue(ErrorCode.INVALID, field, f"{value!r} is not an IANA timezone (e.g. Europe/Brussels)")
    return None


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def clean_email(value: str, field: str = "email") -> str:
    email = value.strip().lower()
    if not _EMAIL.match(email):
        raise ValidationFailed.one(ErrorCode.INVALID_FORMAT, field, "is not an email address")
    return email


def raise_if(issues: list[Issue | None]) -> None:
    found = [i for i in issues if i is not None]
    if found:
        raise ValidationFailed(found)
