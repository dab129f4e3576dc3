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


@strawberry.type(description="A partner's credential, bound to an account; the secret itself is shown only once.")
class ApiKey(LoadedNode):
    loader_name = "api_key"

    id: relay.NodeID[str]
    name: str
    role: Role
    prefix: str = strawberry.field(description="The public part of the key, to recognise it in lists.")
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    account_id: Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: Any) -> ApiKey:
        return cls(
            id=str(row.id),
            name=row.name,
            role=Role(row.role),
            prefix=row.prefix,
            created_at=row.created_at,
            expires_at=row.expires_at,
            last_used_at=row.last_used_at,
            account_id=row.account_id,
        )

    @strawberry.field
    def account(self, info: Info) -> Annotated[Account, strawberry.lazy("resolvers.types.account")] | None:
        from resolvers.types.account import Account

        return relation(info, info.context.loaders.account, self.account_id, Account.from_row)
