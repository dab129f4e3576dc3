from __future__ import annotations

import uuid

import strawberry
from strawberry import Private

from app.auth import Role
from resolvers.context import Info
from resolvers.types.account import Account
from resolvers.types.node import related
from resolvers.types.user import User


@strawberry.type(description="Who is calling: a user (logged in) or a partner's API key, and their account.")
class Viewer:
    role: Role
    is_api_key: bool
    account_id: Private[uuid.UUID]
    principal_id: Private[uuid.UUID]

    @strawberry.field(description="The top of what the caller may see: everything below this account.")
    async def account(self, info: Info) -> Account:
        account = await related(info.context.loaders.account, self.account_id, Account.from_row)
        assert account is not None, "a principal's own account is always in its subtree"
        return account

    @strawberry.field(description="Null when the caller is an API key.")
    async def user(self, info: Info) -> User | None:
        if self.is_api_key:
            return None
        return await related(info.context.loaders.user, self.principal_id, User.from_row)
