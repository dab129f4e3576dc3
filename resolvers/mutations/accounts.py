"""Accounts, users, API keys and login."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from app.auth import Principal, Role
from app.errors import Unauthenticated
from app.services import accounts
from app.vocabulary import AccountKind
from resolvers.context import Info
from resolvers.errors import UserError
from resolvers.mutations.base import DeletePayload, delete, mutate, pk
from resolvers.types.account import Account
from resolvers.types.api_key import ApiKey
from resolvers.types.user import User


@strawberry.type
class LoginPayload:
    token: str | None = strawberry.field(default=None, description="Send as 'Authorization: Bearer <token>'.")
    expires_at: datetime | None = None
    user: User | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AccountPayload:
    account: Account | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UserPayload:
    user: User | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ApiKeyPayload:
    api_key: ApiKey | None = None
    secret: str | None = strawberry.field(
        default=None, description="Only in the answer to createApiKey: keep it now, it cannot be shown again."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class CreateAccountInput:
    name: str
    kind: AccountKind
    parent_id: relay.GlobalID | None = strawberry.field(default=None, description="Defaults to the caller's account.")


@strawberry.input
class UpdateAccountInput:
    name: str | None = None
    kind: AccountKind | None = None
    parent_id: relay.GlobalID | None = strawberry.field(default=None, description="Moves the account and its subtree.")


@strawberry.input
class CreateUserInput:
    account_id: relay.GlobalID
    email: str
    name: str = ""
    role: Role = Role.VIEWER
    password: str


@strawberry.input
class UpdateUserInput:
    email: str | None = None
    name: str | None = None
    role: Role | None = None
    password: str | None = None


@strawberry.input
class CreateApiKeyInput:
    account_id: relay.GlobalID
    name: str
    role: Role = Role.OPERATOR
    expires_at: datetime | None = None


@strawberry.input
class UpdateApiKeyInput:
    name: str | None = None
    expires_at: datetime | None = None


def _account_id(global_id: relay.GlobalID | None, field: str) -> Any:
    return None if global_id is None else pk(global_id, ("Account",), field)


@strawberry.type
class AccountMutations:
    @strawberry.mutation(description="Exchange an email and password for a bearer token. The only anonymous field.")
    async def login(self, info: Info, email: str, password: str) -> LoginPayload:
        settings = info.context.settings
        try:
            async with info.context.db.session() as session:
                user, token, expires_at = await accounts.login(
                    session,
                    email=email,
                    password=password,
                    secret=settings.resolved_jwt_secret(),
                    ttl=timedelta(seconds=settings.token_ttl_seconds),
                )
        except Unauthenticated as exc:
            return LoginPayload(errors=[UserError(code=exc.code, field="password", message=exc.message)])
        return LoginPayload(token=token, expires_at=expires_at, user=User.from_row(user))

    @strawberry.mutation
    async def create_account(self, info: Info, input: CreateAccountInput) -> AccountPayload:
        async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
            row = await accounts.create_account(
                session,
                caller,
                name=input.name,
                kind=input.kind,
                parent_id=_account_id(input.parent_id, "parentId"),
            )
            return {"account": Account.from_row(row)}

        return await mutate(info, AccountPayload, work)

    @strawberry.mutation
    async def update_account(self, info: Info, id: relay.GlobalID, input: UpdateAccountInput) -> AccountPayload:
        async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
            row = await accounts.update_account(
                session,
                caller,
                pk(id, ("Account",), "id"),
                name=input.name,
                kind=input.kind,
                parent_id=_account_id(input.parent_id, "parentId"),
            )
            return {"account": Account.from_row(row)}

        return await mutate(info, AccountPayload, work)

    @strawberry.mutation(description="Deletes an account without child accounts, with everything it owns.")
    async def delete_account(self, info: Info, id: relay.GlobalID) -> DeletePayload:
        return await delete(info, id, ("Account",), accounts.delete_account)

    @strawberry.mutation
    async def create_user(self, info: Info, input: CreateUserInput) -> UserPayload:
        async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
            row = await accounts.create_user(
                session,
                caller,
                account_id=pk(input.account_id, ("Account",), "accountId"),
                email=input.email,
                name=input.name,
                role=input.role,
                password=input.password,
            )
            return {"user": User.from_row(row)}

        return await mutate(info, UserPayload, work)

    @strawberry.mutation
    async def update_user(self, info: Info, id: relay.GlobalID, input: UpdateUserInput) -> UserPayload:
        async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
            row = await accounts.update_user(
                session,
                caller,
                pk(id, ("User",), "id"),
                email=input.email,
                name=input.name,
                role=input.role,
                password=input.password,
            )
            return {"user": User.from_row(row)}

        return await mutate(info, UserPayload, work)

    @strawberry.mutation
    async def delete_user(self, info: Info, id: relay.GlobalID) -> DeletePayload:
        return await delete(info, id, ("User",), accounts.delete_user)

    @strawberry.mutation
    async def create_api_key(self, info: Info, input: CreateApiKeyInput) -> ApiKeyPayload:
        async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
            row, secret = await accounts.create_api_key(
                session,
                caller,
                account_id=pk(input.account_id, ("Account",), "accountId"),
                name=input.name,
                role=input.role,
                expires_at=input.expires_at,
            )
            return {"api_key": ApiKey.from_row(row), "secret": secret}

        return await mutate(info, ApiKeyPayload, work)

    @strawberry.mutation
    async def update_api_key(self, info: Info, id: relay.GlobalID, input: UpdateApiKeyInput) -> ApiKeyPayload:
        async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
            row = await accounts.update_api_key(
                session, caller, pk(id, ("ApiKey",), "id"), name=input.name, expires_at=input.expires_at
            )
            return {"api_key": ApiKey.from_row(row)}

        return await mutate(info, ApiKeyPayload, work)

    @strawberry.mutation(description="Revokes the key at once.")
    async def delete_api_key(self, info: Info, id: relay.GlobalID) -> DeletePayload:
        return await delete(info, id, ("ApiKey",), accounts.delete_api_key)
