from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import Private, relay

from resolvers.connection import Connection
from resolvers.context import Info
from resolvers.types.node import First, LoadedNode, connection, relation

if TYPE_CHECKING:
    from resolvers.types.account import Account
    from resolvers.types.contract import Contract


@strawberry.type(description="A supplier's registration of a grid identifier; sites with that identifier match it.")
class UpstreamSite(LoadedNode):
    loader_name = "upstream_site"

    id: relay.NodeID[str]
    grid_identifier: str
    supplier: str
    created_at: datetime
    pk: Private[uuid.UUID]
    account_id: Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: Any) -> UpstreamSite:
        return cls(
            id=str(row.id),
            pk=row.id,
            grid_identifier=row.grid_identifier,
            supplier=row.supplier,
            created_at=row.created_at,
            account_id=row.account_id,
        )

    @strawberry.field
    def account(self, info: Info) -> Annotated[Account, strawberry.lazy("resolvers.types.account")] | None:
        from resolvers.types.account import Account

        return relation(info, info.context.loaders.account, self.account_id, Account.from_row)

    @strawberry.field
    def contracts(
        self, info: Info, first: First = None, after: str | None = None
    ) -> Connection[Annotated[Contract, strawberry.lazy("resolvers.types.contract")]]:
        from resolvers.types.contract import Contract

        return connection(
            info, info.context.loaders.contracts_by_upstream_site, self.pk, first, after, Contract.from_row
        )
