from __future__ import annotations

import uuid

import strawberry
from strawberry import Private

from app.auth import Role
from resolvers.context import Info
from resolvers.types.account import Account
from resolvers.types.node import relation, then
from resolvers.types.user import User


@strawberry.type(description="Who is calling: a user (logged in) or a partner's API key, and their account.")
class Viewer:
    role: Role
    is_api_key: bool
    account_id: Private[uuid.UUID]
    principal_id: Private[uuid.UUID]

    @strawberry.field(description="The top of what the caller may see: everything below this account.")
    def account(self, info: Info) -> Account:
        return then(relation(info, info.context.loaders.account, self.account_id, Account.from_row), _present)

    @strawberry.field(description="Null when the caller is an API key.")
    def user(self, info: Info) -> User | None:
        if self.is_api_key:
            return None
        return relation(info, info.context.loaders.user, self.principal_id, User.from_row)


def _present(account: Account | None) -> Account:
    assert account is not None, "a principal's own account is always in its subtree"
    return account
