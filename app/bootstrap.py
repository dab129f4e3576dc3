"""What the machine's operator does before any caller exists: the first accounts and users (CLI, demo, tests)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth import Principal, Role
from app.models import Account, User
from app.services.accounts import create_user
from app.vocabulary import AccountKind


async def top_account(session: AsyncSession, name: str, kind: AccountKind = AccountKind.ORGANIZATION) -> Account:
    """The top-level account of this name, created when missing."""
    existing = (
        (await session.execute(select(Account).where(col(Account.name) == name, col(Account.parent_id).is_(None))))
        .scalars()
        .first()
    )
    if existing is not None:
        return existing
    account = Account(id=uuid.uuid4(), name=name, kind=kind.value, path="")
    account.path = f"/{account.id}/"
    session.add(account)
    await session.flush()
    return account


def operator_of(account: Account) -> Principal:
    """The machine operator acting as an ADMIN of `account` (never reachable over the API)."""
    return Principal("operator", uuid.UUID(int=0), account.id, account.path, Role.ADMIN)


async def ensure_user(
    session: AsyncSession, account: Account, *, email: str, password: str, role: Role, name: str = ""
) -> User:
    existing = (await session.execute(select(User).where(col(User.email) == email.lower()))).scalars().first()
    if existing is not None:
        return existing
    return await create_user(
        session,
        operator_of(account),
        account_id=account.id,
        email=email,
        name=name,
        role=role,
        password=password,
    )
