from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import Private, relay

from app.auth import Role
from resolvers.context import Info
from resolvers.types.node import LoadedNode, relation

if TYPE_CHECKING:
    from resolvers.types.account import Account


@strawberry.type(
    description="A person who logs in; sees and changes what their role allows in their account's subtree."
)
class User(LoadedNode):
    loader_name = "user"

    id: relay.NodeID[str]
    email: str
    name: str
    role: Role
    created_at: datetime
    account_id: Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: Any) -> User:
        return cls(
            id=str(row.id),
            email=row.email,
            name=row.name,
            role=Role(row.role),
            created_at=row.created_at,
            account_id=row.account_id,
        )

    @strawberry.field
    def account(self, info: Info) -> Annotated[Account, strawberry.lazy("resolvers.types.account")] | None:
        from resolvers.types.account import Account

        return relation(info, info.context.loaders.account, self.account_id, Account.from_row)
