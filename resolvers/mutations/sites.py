"""Sites, upstream (supplier) sites and contracts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from app.auth import Principal
from app.services import sites
from app.services.sites import LocationInput as Location
from app.services.sites import SupplyPointInput as SupplyPointValue
from app.vocabulary import SupplyDirection
from resolvers.context import Info
from resolvers.errors import UserError
from resolvers.mutations.base import DeletePayload, delete, mutate, pk
from resolvers.types.contract import Contract
from resolvers.types.site import Site
from resolvers.types.upstream_site import UpstreamSite


@strawberry.type
class SitePayload:
    site: Site | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UpstreamSitePayload:
    upstream_site: UpstreamSite | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ContractPayload:
    contract: Contract | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class SupplyPointInput:
    grid_identifier: str = strawberry.field(description="EAN, PRM, MPAN, MPRN, POD or CUPS, per the site's country.")
    direction: SupplyDirection


@strawberry.input(description="An address, coordinates, or both.")
class LocationInput:
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@strawberry.input
class CreateSiteInput:
    system_id: relay.GlobalID
    name: str
    country: str = strawberry.field(description="ISO 3166-1 alpha-2: BE, NL, LU, FR, GB, IE, IT or ES.")
    supply_points: list[SupplyPointInput] = strawberry.field(
        description="One bidirectional, one offtake, or one offtake plus one injection."
    )
    location: LocationInput
    timezone: str = strawberry.field(description="IANA timezone, e.g. Europe/Brussels.")


@strawberry.input
class UpdateSiteInput:
    name: str | None = None
    supply_points: list[SupplyPointInput] | None = None
    location: LocationInput | None = None
    timezone: str | None = None
    paused: bool | None = strawberry.field(default=None, description="Pause or resume the site.")


@strawberry.input
class CreateUpstreamSiteInput:
    account_id: relay.GlobalID
    country: str
    grid_identifier: str
    supplier: str = ""


@strawberry.input
class UpdateUpstreamSiteInput:
    supplier: str | None = None


@strawberry.input
class CreateContractInput:
    upstream_site_id: relay.GlobalID
    start_at: datetime
    end_at: datetime | None = None
    agreed: bool = False


@strawberry.input
class UpdateContractInput:
    start_at: datetime | None = None
    end_at: datetime | None = strawberry.field(default=None, description="Set to now to terminate the contract.")
    agreed: bool | None = None


def _points(points: list[SupplyPointInput]) -> list[SupplyPointValue]:
    return [SupplyPointValue(p.grid_identifier, p.direction) for p in points]


def _location(location: LocationInput) -> Location:
    return Location(location.address, location.latitude, location.longitude)


@strawberry.type
class SiteMutations:
    @strawberry.mutation
    async def create_site(self, info: Info, input: CreateSiteInput) -> SitePayload:
        async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
            row = await sites.create_site(
                session,
                caller,
                system_id=pk(input.system_id, ("System",), "systemId"),
                name=input.name,
                country=input.country,
                supply_points=_points(input.supply_points),
                location=_location(input.location),
                timezone=input.timezone,
            )
            return {"site": Site.from_row(row)}

        return await mutate(info, SitePayload, work)

    @strawberry.mutation
    async def update_site(self, info: Info, id: relay.GlobalID, input: UpdateSiteInput) -> SitePayload:
        async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
            row = await sites.update_site(
                session,
                caller,
                pk(id, ("Site",), "id"),
                name=input.name,
                supply_points=None if input.supply_points is None else _points(input.supply_points),
                location=None if input.location is None else _location(input.location),
                timezone=input.timezone,
                paused=input.paused,
            )
            return {"site": Site.from_row(row)}

        return await mutate(info, SitePayload, work)

    @strawberry.mutation(
        description=(
            "Permanent: the site leaves every list; its devices stay with the system, detached, with their history."
        )
    )
    async def delete_site(self, info: Info, id: relay.GlobalID) -> DeletePayload:
        return await delete(info, id, ("Site",), sites.delete_site)

    @strawberry.mutation
    async def create_upstream_site(self, info: Info, input: CreateUpstreamSiteInput) -> UpstreamSitePayload:
        async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
            row = await sites.create_upstream_site(
                session,
                caller,
                account_id=pk(input.account_id, ("Account",), "accountId"),
                country=input.country,
                grid_identifier=input.grid_identifier,
                supplier=input.supplier,
            )
            return {"upstream_site": UpstreamSite.from_row(row)}

        return await mutate(info, UpstreamSitePayload, work)

    @strawberry.mutation
    async def update_upstream_site(
        self, info: Info, id: relay.GlobalID, input: UpdateUpstreamSiteInput
    ) -> UpstreamSitePayload:
        async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
            row = await sites.update_upstream_site(
                session, caller, pk(id, ("UpstreamSite",), "id"), supplier=input.supplier
            )
            return {"upstream_site": UpstreamSite.from_row(row)}

        return await mutate(info, UpstreamSitePayload, work)

    @strawberry.mutation
    async def delete_upstream_site(self, info: Info, id: relay.GlobalID) -> DeletePayload:
        return await delete(info, id, ("UpstreamSite",), sites.delete_upstream_site)

    @strawberry.mutation
    async def create_contract(self, info: Info, input: CreateContractInput) -> ContractPayload:
        async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
            row = await sites.create_contract(
                session,
                caller,
                upstream_site_id=pk(input.upstream_site_id, ("UpstreamSite",), "upstreamSiteId"),
                start_at=input.start_at,
                end_at=input.end_at,
                agreed=input.agreed,
            )
            return {"contract": Contract.from_row(row)}

        return await mutate(info, ContractPayload, work)

    @strawberry.mutation
    async def update_contract(self, info: Info, id: relay.GlobalID, input: UpdateContractInput) -> ContractPayload:
        async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
            row = await sites.update_contract(
                session,
                caller,
                pk(id, ("Contract",), "id"),
                start_at=input.start_at,
                end_at=input.end_at,
                agreed=input.agreed,
            )
            return {"contract": Contract.from_row(row)}

        return await mutate(info, ContractPayload, work)

    @strawberry.mutation
    async def delete_contract(self, info: Info, id: relay.GlobalID) -> DeletePayload:
        return await delete(info, id, ("Contract",), sites.delete_contract)
