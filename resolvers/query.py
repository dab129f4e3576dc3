"""The root query: the caller, Relay node lookup, and the top-level lists of the caller's subtree."""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy import ColumnElement, exists, func, select
from sqlmodel import col
from strawberry import relay

from app.models import Account as AccountRow
from app.models import Site as SiteRow
from app.models import SupplyPoint
from app.models import System as SystemRow
from app.vocabulary import SiteStatus, UpstreamStatus
from resolvers.connection import Connection, Window
from resolvers.context import Info
from resolvers.prefetch import prefetched
from resolvers.types.account import Account
from resolvers.types.node import First, LoadedNode
from resolvers.types.site import Site
from resolvers.types.system import System
from resolvers.types.viewer import Viewer


@strawberry.type
class Query:
    @strawberry.field
    def viewer(self, info: Info) -> Viewer:
        caller = info.context.caller()
        return Viewer(
            role=caller.role,
            is_api_key=caller.kind == "api_key",
            account_id=caller.account_id,
            principal_id=caller.id,
        )

    @strawberry.field(description="Any object by its global id; null when it does not exist or is not the caller's.")
    async def node(self, info: Info, id: relay.GlobalID) -> relay.Node | None:
        info.context.caller()
        type_definition = info.schema.get_type_by_name(id.type_name)
        origin = getattr(type_definition, "origin", None)
        if not (isinstance(origin, type) and issubclass(origin, LoadedNode)):
            return None
        (node,) = await origin.resolve_nodes(info=info, node_ids=[id.node_id])
        return node

    @strawberry.field(description="Every account in the caller's subtree, its own included.")
    async def accounts(self, info: Info, first: First = None, after: str | None = None) -> Connection[Account]:
        info.context.caller()
        window = Window.of(info.context.settings, first, after)
        page = await info.context.loaders.root_page(AccountRow, window, [col(AccountRow.path)])
        return await prefetched(info, Connection.of(page, window, Account.from_row))

    @strawberry.field(description="Every system in the caller's subtree.")
    async def systems(self, info: Info, first: First = None, after: str | None = None) -> Connection[System]:
        info.context.caller()
        window = Window.of(info.context.settings, first, after)
        page = await info.context.loaders.root_page(SystemRow, window, [col(SystemRow.name)])
        return await prefetched(info, Connection.of(page, window, System.from_row))

    @strawberry.field(description="Every live site in the caller's subtree, optionally filtered.")
    async def sites(
        self,
        info: Info,
        first: First = None,
        after: str | None = None,
        status: SiteStatus | None = None,
        upstream_status: UpstreamStatus | None = None,
        grid_identifier: Annotated[
            str | None,
            strawberry.argument(description="Matches any supply point of the site (spaces and case ignored)."),
        ] = None,
    ) -> Connection[Site]:
        info.context.caller()
        window = Window.of(info.context.settings, first, after)
        conditions: list[ColumnElement[bool]] = [col(SiteRow.deleted_at).is_(None)]
        if status is not None:
            conditions.append(col(SiteRow.status) == status.value)
        if upstream_status is not None:
            conditions.append(func.upstream_status(col(SiteRow.id), func.now()) == upstream_status.value)
        if grid_identifier is not None:
            normalized = grid_identifier.replace(" ", "").upper()
            conditions.append(
                exists(
                    select(col(SupplyPoint.id)).where(
                        col(SupplyPoint.site_id) == col(SiteRow.id), col(SupplyPoint.grid_identifier) == normalized
                    )
                )
            )
        page = await info.context.loaders.root_page(SiteRow, window, [col(SiteRow.name)], *conditions)
        return await prefetched(info, Connection.of(page, window, Site.from_row))
