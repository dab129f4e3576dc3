"""Accounts, users and API keys: ADMIN work, always inside the caller's own subtree."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth import Principal, Role, hash_password, issue_token, new_api_key, verify_password
from app.errors import ErrorCode, Unauthenticated, ValidationFailed
from app.models import Account, ApiKey, User
from app.services.common import clean_email, clean_name, clean_text, get_owned
from app.vocabulary import AccountKind

MIN_PASSWORD_LENGTH = 10


async def create_account(
    session: AsyncSession, caller: Principal, *, name: str, kind: AccountKind, parent_id: uuid.UUID | None
) -> Account:
    caller.require(Role.ADMIN)
    _refuse_supplier_kind(kind)
    parent = await get_owned(session, caller, Account, parent_id or caller.account_id)
    if parent.kind == AccountKind.CUSTOMER.value:
        raise ValidationFailed.one(ErrorCode.INVALID, "parentId", "a customer account is a leaf: it has no children")
    account = Account(id=uuid.uuid4(), name=clean_name(name), kind=kind.value, parent_id=parent.id, path="")
    account.path = f"{parent.path}{account.id}/"
    session.add(account)
    await session.flush()
    return account


async def update_account(
    session: AsyncSession,
    caller: Principal,
    account_id: uuid.UUID,
    *,
    name: str | None,
    kind: AccountKind | None,
    parent_id: uuid.UUID | None,
) -> Account:
    """Renames, re-kinds or moves an account (with its whole subtree) within the caller's subtree."""
    caller.require(Role.ADMIN)
    account = await get_owned(session, caller, Account, account_id, lock=True)
    if name is not None:
        account.name = clean_name(name)
    if kind is not None and kind.value != account.kind:
        _refuse_supplier_kind(kind)
        if account.kind == AccountKind.SUPPLIER.value:
            raise ValidationFailed.one(
                ErrorCode.FORBIDDEN, "kind", "a supplier account keeps its kind; the platform's operator changes it"
            )
        if kind is AccountKind.CUSTOMER and await _has_children(session, account.id):
            raise ValidationFailed.one(ErrorCode.CONFLICT, "kind", "an account with children cannot be a customer")
        account.kind = kind.value
    if parent_id is not None and parent_id != account.parent_id:
        await _move(session, caller, account, parent_id)
    session.add(account)
    await session.flush()
    return account


def _refuse_supplier_kind(kind: AccountKind) -> None:
    """Being a supplier lets an account make other accounts' sites CONTRACT_ACTIVE, so no tenant grants it."""
    if kind is AccountKind.SUPPLIER:
        raise ValidationFailed.one(
            ErrorCode.FORBIDDEN,
            "kind",
            "supplier accounts are set up by the platform's operator (phasewise create-user --kind SUPPLIER)",
        )


async def _move(session: AsyncSession, caller: Principal, account: Account, parent_id: uuid.UUID) -> None:
    if account.id == caller.account_id:
        raise ValidationFailed.one(ErrorCode.FORBIDDEN, "parentId", "you cannot move your own account")
    parent = await get_owned(session, caller, Account, parent_id)
    if parent.path.startswith(account.path):
        raise ValidationFailed.one(ErrorCode.CYCLE, "parentId", "an account cannot move below itself")
    if parent.kind == AccountKind.CUSTOMER.value:
        raise ValidationFailed.one(ErrorCode.INVALID, "parentId", "a customer account is a leaf: it has no children")
    old_prefix, new_prefix = account.path, f"{parent.path}{account.id}/"
    await session.execute(
        update(Account)
        .where(col(Account.path).startswith(old_prefix))
        .values(path=func.concat(new_prefix, func.substr(col(Account.path), len(old_prefix) + 1)))
        .execution_options(synchronize_session=False)
    )
    account.parent_id, account.path = parent.id, new_prefix


async def _has_children(session: AsyncSession, account_id: uuid.UUID) -> bool:
    return bool((await session.execute(select(exists().where(col(Account.parent_id) == account_id)))).scalar())


async def delete_account(session: AsyncSession, caller: Principal, account_id: uuid.UUID) -> None:
    """Deletes the account and everything it owns directly; its child accounts must go first."""
    caller.require(Role.ADMIN)
    account = await get_owned(session, caller, Account, account_id, lock=True)
    if account.id == caller.account_id:
        raise ValidationFailed.one(ErrorCode.FORBIDDEN, "id", "you cannot delete your own account")
    if await _has_children(session, account.id):
        raise ValidationFailed.one(
            ErrorCode.CONFLICT, "id", "the account has child accounts: delete or move them first"
        )
    await session.delete(account)
    await session.flush()


def _password_hash(password: str, field: str = "password") -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed.one(
            ErrorCode.OUT_OF_RANGE, field, f"must have at least {MIN_PASSWORD_LENGTH} characters"
        )
    return hash_password(password)


async def _email_free(session: AsyncSession, email: str, except_id: uuid.UUID | None = None) -> None:
    statement = select(col(User.id)).where(col(User.email) == email)
    if except_id is not None:
        statement = statement.where(col(User.id) != except_id)
    if (await session.execute(statement)).first():
        raise ValidationFailed.one(ErrorCode.DUPLICATE, "email", "is already in use")


async def create_user(
    session: AsyncSession,
    caller: Principal,
    *,
    account_id: uuid.UUID,
    email: str,
    name: str,
    role: Role,
    password: str,
) -> User:
    caller.require(Role.ADMIN)
    account = await get_owned(session, caller, Account, account_id)
    email = clean_email(email)
    await _email_free(session, email)
    user = User(
        account_id=account.id,
        email=email,
        name=clean_text(name, "name"),
        role=role.value,
        password_hash=_password_hash(password),
    )
    session.add(user)
    await session.flush()
    return user


async def update_user(
    session: AsyncSession,
    caller: Principal,
    user_id: uuid.UUID,
    *,
    email: str | None,
    name: str | None,
    role: Role | None,
    password: str | None,
) -> User:
    caller.require(Role.ADMIN)
    user = await get_owned(session, caller, User, user_id, lock=True)
    if email is not None:
        user.email = clean_email(email)
        await _email_free(session, user.email, user.id)
    if name is not None:
        user.name = clean_text(name, "name")
    if role is not None:
        if user.id == caller.id and role is not Role.ADMIN:
            raise ValidationFailed.one(ErrorCode.FORBIDDEN, "role", "you cannot lower your own role")
        user.role = role.value
    if password is not None:
        user.password_hash = _password_hash(password)
        user.token_generation += 1
    session.add(user)
    await session.flush()
    return user


async def delete_user(session: AsyncSession, caller: Principal, user_id: uuid.UUID) -> None:
    caller.require(Role.ADMIN)
    user = await get_owned(session, caller, User, user_id, lock=True)
    if user.id == caller.id:
        raise ValidationFailed.one(ErrorCode.FORBIDDEN, "id", "you cannot delete yourself")
    await session.delete(user)
    await session.flush()


async def login(
    session: AsyncSession, *, email: str, password: str, secret: str, ttl: timedelta
) -> tuple[User, str, datetime]:
    """The same answer for an unknown email and a wrong password, so accounts cannot be probed."""
    user = (await session.execute(select(User).where(col(User.email) == email.strip().lower()))).scalars().first()
    if user is None or not verify_password(user.password_hash, password):
        raise Unauthenticated("unknown email or wrong password")
    token, expires_at = issue_token(user.id, secret, ttl, user.token_generation)
    return user, token, expires_at


async def create_api_key(
    session: AsyncSession,
    caller: Principal,
    *,
    account_id: uuid.UUID,
    name: str,
    role: Role,
    expires_at: datetime | None,
) -> tuple[ApiKey, str]:
    """Returns the key and its secret; the secret is not stored and cannot be shown again."""
    caller.require(Role.ADMIN)
    account = await get_owned(session, caller, Account, account_id)
    _future(expires_at)
    secret, prefix, secret_hash = new_api_key()
    key = ApiKey(
        account_id=account.id,
        name=clean_name(name),
        role=role.value,
        prefix=prefix,
        secret_hash=secret_hash,
        expires_at=expires_at,
    )
    session.add(key)
    await session.flush()
    return key, secret


def _future(expires_at: datetime | None) -> None:
    if expires_at is not None and expires_at <= datetime.now(UTC):
        raise ValidationFailed.one(ErrorCode.OUT_OF_RANGE, "expiresAt", "must lie in the future")


async def update_api_key(
    session: AsyncSession,
    caller: Principal,
    key_id: uuid.UUID,
    *,
    name: str | None,
    expires_at: datetime | None,
) -> ApiKey:
    caller.require(Role.ADMIN)
    key = await get_owned(session, caller, ApiKey, key_id, lock=True)
    if name is not None:
        key.name = clean_name(name)
    if expires_at is not None:
        _future(expires_at)
        key.expires_at = expires_at
    session.add(key)
    await session.flush()
    return key


async def delete_api_key(session: AsyncSession, caller: Principal, key_id: uuid.UUID) -> None:
    caller.require(Role.ADMIN)
    key = await get_owned(session, caller, ApiKey, key_id, lock=True)
    await session.delete(key)
    await session.flush()
