from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import Private, relay

from app.vocabulary import AccountKind
from resolvers.connection import Connection
from resolvers.context import Info
from resolvers.types.node import First, LoadedNode, connection, relation

if TYPE_CHECKING:
    from resolvers.types.api_key import ApiKey
    from resolvers.types.pool import SystemPool
    from resolvers.types.system import System
    from resolvers.types.upstream_site import UpstreamSite
    from resolvers.types.user import User


@strawberry.type(description="An organisation unit or a customer (leaf) account; accounts form a tree.")
class Account(LoadedNode):
    loader_name = "account"

    id: relay.NodeID[str]
    name: str
    kind: AccountKind
    created_at: datetime
    pk: Private[uuid.UUID]
    parent_id: Private[uuid.UUID | None]

    @classmethod
    def from_row(cls, row: Any) -> Account:
        return cls(
            id=str(row.id),
            pk=row.id,
            name=row.name,
            kind=AccountKind(row.kind),
            created_at=row.created_at,
            parent_id=row.parent_id,
        )

    @strawberry.field(description="Null for the caller's own top account: what lies above it is not theirs.")
    def parent(self, info: Info) -> Account | None:
        return relation(info, info.context.loaders.account, self.parent_id, Account.from_row)

    @strawberry.field
    def children(self, info: Info, first: First = None, after: str | None = None) -> Connection[Account]:
        return connection(info, info.context.loaders.accounts_by_parent, self.pk, first, after, Account.from_row)

    @strawberry.field
    def users(
        self, info: Info, first: First = None, after: str | None = None
    ) -> Connection[Annotated[User, strawberry.lazy("resolvers.types.user")]]:
        from resolvers.types.user import User

        return connection(info, info.context.loaders.users_by_account, self.pk, first, after, User.from_row)

    @strawberry.field(name="apiKeys")
    def api_keys(
        self, info: Info, first: First = None, after: str | None = None
    ) -> Connection[Annotated[ApiKey, strawberry.lazy("resolvers.types.api_key")]]:
        from resolvers.types.api_key import ApiKey

        return connection(info, info.context.loaders.api_keys_by_account, self.pk, first, after, ApiKey.from_row)

    @strawberry.field(description="The systems owned directly by this account (not by its children).")
    def systems(
        self, info: Info, first: First = None, after: str | None = None
    ) -> Connection[Annotated[System, strawberry.lazy("resolvers.types.system")]]:
        from resolvers.types.system import System

        return connection(info, info.context.loaders.systems_by_account, self.pk, first, after, System.from_row)

    @strawberry.field
    def pools(
        self, info: Info, first: First = None, after: str | None = None
    ) -> Connection[Annotated[SystemPool, strawberry.lazy("resolvers.types.pool")]]:
        from resolvers.types.pool import SystemPool

        return connection(info, info.context.loaders.pools_by_account, self.pk, first, after, SystemPool.from_row)

    @strawberry.field(name="upstreamSites", description="Upstream (supplier) sites this account registered.")
    def upstream_sites(
        self, info: Info, first: First = None, after: str | None = None
    ) -> Connection[Annotated[UpstreamSite, strawberry.lazy("resolvers.types.upstream_site")]]:
        from resolvers.types.upstream_site import UpstreamSite

        return connection(
            info, info.context.loaders.upstream_sites_by_account, self.pk, first, after, UpstreamSite.from_row
        )
