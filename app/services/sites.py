"""Sites (grid connections), and the supplier side they are matched against: upstream sites and contracts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth import Principal, Role
from app.domain.grid_identifiers import (
    normalize_grid_identifier,
    validate_grid_identifier,
    validate_supply_points,
)
from app.errors import ErrorCode, Issue, ValidationFailed
from app.events import EventKind, notify
from app.models import Account, ChargingSession, Collector, Contract, Device, Site, SupplyPoint, System, UpstreamSite
from app.services.common import clean_name, clean_text, get_owned, raise_if, timezone_issue
from app.vocabulary import AccountKind, SessionState, SiteStatus, SupplyDirection


@dataclass(frozen=True)
class SupplyPointInput:
    grid_identifier: str
    direction: SupplyDirection


@dataclass(frozen=True)
class LocationInput:
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None


def _location_issues(location: LocationInput) -> list[Issue | None]:
    has_address = bool(location.address and clean_text(location.address, "location.address"))
    has_coordinates = location.latitude is not None and location.longitude is not None
    issues: list[Issue | None] = []
    if not has_address and not has_coordinates:
        issues.append(
            Issue(
                ErrorCode.REQUIRED,
                "location",
                "give an address, coordinates (latitude and longitude), or both",
            )
        )
    if (location.latitude is None) != (location.longitude is None):
        issues.append(Issue(ErrorCode.REQUIRED, "location", "latitude and longitude go together"))
    if location.latitude is not None and not -90 <= location.latitude <= 90:
        issues.append(Issue(ErrorCode.OUT_OF_RANGE, "location.latitude", "must be between -90 and 90"))
    if location.longitude is not None and not -180 <= location.longitude <= 180:
        issues.append(Issue(ErrorCode.OUT_OF_RANGE, "location.longitude", "must be between -180 and 180"))
    return issues


async def _supply_point_issues(
    session: AsyncSession, country: str, points: list[SupplyPointInput], site_id: uuid.UUID | None
) -> list[Issue]:
    issues = validate_supply_points(country, [(p.grid_identifier, p.direction.value) for p in points])
    if issues:
        return issues
    identifiers = [normalize_grid_identifier(p.grid_identifier) for p in points]
    statement = select(col(SupplyPoint.grid_identifier)).where(col(SupplyPoint.grid_identifier).in_(identifiers))
    if site_id is not None:
        statement = statement.where(col(SupplyPoint.site_id) != site_id)
    taken = set((await session.execute(statement)).scalars())
    return [
        Issue(
            ErrorCode.DUPLICATE,
            f"supplyPoints[{i}].gridIdentifier",
            "this grid identifier belongs to another site",
        )
        for i, identifier in enumerate(identifiers)
        if identifier in taken
    ]


def _primary_identifier(points: list[SupplyPointInput]) -> str:
    """The site's identifier: its offtake (or bidirectional) point's, the one suppliers match first."""
    for point in points:
        if point.direction is not SupplyDirection.INJECTION:
            return normalize_grid_identifier(point.grid_identifier)
    return normalize_grid_identifier(points[0].grid_identifier)


async def _replace_supply_points(session: AsyncSession, site: Site, points: list[SupplyPointInput]) -> None:
    await session.execute(delete(SupplyPoint).where(col(SupplyPoint.site_id) == site.id))
    await session.flush()
    session.add_all(
        [
            SupplyPoint(
                account_id=site.account_id,
                site_id=site.id,
                grid_identifier=normalize_grid_identifier(p.grid_identifier),
                direction=p.direction.value,
                position=i,
            )
            for i, p in enumerate(points)
        ]
    )
    site.grid_identifier = _primary_identifier(points)


async def create_site(
    session: AsyncSession,
    caller: Principal,
    *,
    system_id: uuid.UUID,
    name: str,
    country: str,
    supply_points: list[SupplyPointInput],
    location: LocationInput,
    timezone: str,
) -> Site:
    caller.require(Role.OPERATOR)
    system = await get_owned(session, caller, System, system_id)
    country = country.strip().upper()
    raise_if(
        [
            *await _supply_point_issues(session, country, supply_points, None),
            *_location_issues(location),
            timezone_issue(timezone, "timezone"),
        ]
    )
    site = Site(
        account_id=system.account_id,
        system_id=system.id,
        name=clean_name(name),
        country=country,
        grid_identifier="",
        timezone=timezone,
        address=location.address,
        latitude=location.latitude,
        longitude=location.longitude,
        status=SiteStatus.NO_RESOURCES.value,
    )
    session.add(site)
    await session.flush()
    await _replace_supply_points(session, site, supply_points)
    await session.flush()
    return site


async def update_site(
    session: AsyncSession,
    caller: Principal,
    site_id: uuid.UUID,
    *,
    name: str | None,
    supply_points: list[SupplyPointInput] | None,
    location: LocationInput | None,
    timezone: str | None,
    paused: bool | None,
) -> Site:
    caller.require(Role.OPERATOR)
    site = await get_owned(session, caller, Site, site_id, lock=True)
    raise_if(
        [
            *(
                await _supply_point_issues(session, site.country, supply_points, site.id)
                if supply_points is not None
                else []
            ),
            *(_location_issues(location) if location is not None else []),
            timezone_issue(timezone, "timezone") if timezone is not None else None,
        ]
    )
    if name is not None:
        site.name = clean_name(name)
    if supply_points is not None:
        await _replace_supply_points(session, site, supply_points)
    if location is not None:
        site.address, site.latitude, site.longitude = location.address, location.latitude, location.longitude
    if timezone is not None:
        site.timezone = timezone
    await notify(session, EventKind.SITE_CHANGED, site.id)
    if paused is True:
        site.status = SiteStatus.PAUSED.value
    elif paused is False and site.status == SiteStatus.PAUSED.value:
        site.status = SiteStatus.NO_RESOURCES.value
        await refresh_site_status(session, site)
    session.add(site)
    await session.flush()
    return site


async def delete_site(session: AsyncSession, caller: Principal, site_id: uuid.UUID) -> None:
    """Permanent: the site leaves every list, its topology goes, its devices stay with the system, detached,
    so their history is kept; its grid identifiers become free to register again. Its open charging sessions
    end now (a car on a deleted site is no longer steered)."""
    caller.require(Role.OPERATOR)
    site = await get_owned(session, caller, Site, site_id, lock=True)
    now = datetime.now(UTC)
    await session.execute(
        update(ChargingSession)
        .where(col(ChargingSession.site_id) == site.id, col(ChargingSession.state) != SessionState.ENDED.value)
        .values(state=SessionState.ENDED.value, ended_at=now, updated_at=now)
    )
    await session.execute(update(Device).where(col(Device.site_id) == site.id).values(site_id=None, collector_id=None))
    await session.execute(delete(Collector).where(col(Collector.site_id) == site.id))
    await session.execute(delete(SupplyPoint).where(col(SupplyPoint.site_id) == site.id))
    site.status, site.deleted_at = SiteStatus.DELETED.value, now
    await notify(session, EventKind.SITE_CHANGED, site.id)
    session.add(site)
    await session.flush()


async def refresh_site_status(session: AsyncSession, site: Site) -> None:
    """no_resources until the first device, onboarded while it has any; paused and deleted are left alone."""
    if site.status not in (SiteStatus.NO_RESOURCES.value, SiteStatus.ONBOARDED.value):
        return
    await session.flush()
    count = (await session.execute(select(func.count()).where(col(Device.site_id) == site.id))).scalar_one()
    site.status = (SiteStatus.ONBOARDED if count else SiteStatus.NO_RESOURCES).value
    session.add(site)


def _require_supplier(account: Account, field: str) -> None:
    """Upstream sites and contracts decide other accounts' upstream status: suppliers alone register them."""
    if account.kind != AccountKind.SUPPLIER.value:
        raise ValidationFailed.one(
            ErrorCode.FORBIDDEN, field, "only a supplier account registers upstream sites and contracts"
        )


async def create_upstream_site(
    session: AsyncSession,
    caller: Principal,
    *,
    account_id: uuid.UUID,
    country: str,
    grid_identifier: str,
    supplier: str,
) -> UpstreamSite:
    caller.require(Role.OPERATOR)
    account = await get_owned(session, caller, Account, account_id)
    _require_supplier(account, "accountId")
    raise_if([*validate_grid_identifier(country, grid_identifier, "gridIdentifier")])
    upstream = UpstreamSite(
        account_id=account.id,
        grid_identifier=normalize_grid_identifier(grid_identifier),
        supplier=clean_text(supplier, "supplier"),
    )
    session.add(upstream)
    await session.flush()
    return upstream


async def update_upstream_site(
    session: AsyncSession, caller: Principal, upstream_site_id: uuid.UUID, *, supplier: str | None
) -> UpstreamSite:
    caller.require(Role.OPERATOR)
    upstream = await get_owned(session, caller, UpstreamSite, upstream_site_id, lock=True)
    if supplier is not None:
        upstream.supplier = clean_text(supplier, "supplier")
    session.add(upstream)
    await session.flush()
    return upstream


async def delete_upstream_site(session: AsyncSession, caller: Principal, upstream_site_id: uuid.UUID) -> None:
    caller.require(Role.OPERATOR)
    upstream = await get_owned(session, caller, UpstreamSite, upstream_site_id, lock=True)
    await session.execute(delete(Contract).where(col(Contract.upstream_site_id) == upstream.id))
    await session.delete(upstream)
    await session.flush()


def _period_issue(start_at: datetime, end_at: datetime | None) -> Issue | None:
    if start_at.tzinfo is None or (end_at is not None and end_at.tzinfo is None):
        return Issue(ErrorCode.INVALID_FORMAT, "startAt", "date-times need a timezone offset")
    if end_at is not None and end_at <= start_at:
        return Issue(ErrorCode.OUT_OF_RANGE, "endAt", "must lie after startAt")
    return None


async def create_contract(
    session: AsyncSession,
    caller: Principal,
    *,
    upstream_site_id: uuid.UUID,
    start_at: datetime,
    end_at: datetime | None,
    agreed: bool,
) -> Contract:
    caller.require(Role.OPERATOR)
    upstream = await get_owned(session, caller, UpstreamSite, upstream_site_id)
    _require_supplier(await get_owned(session, caller, Account, upstream.account_id), "upstreamSiteId")
    raise_if([_period_issue(start_at, end_at)])
    contract = Contract(
        account_id=upstream.account_id,
        upstream_site_id=upstream.id,
        start_at=start_at,
        end_at=end_at,
        agreed=agreed,
    )
    session.add(contract)
    await session.flush()
    return contract


async def update_contract(
    session: AsyncSession,
    caller: Principal,
    contract_id: uuid.UUID,
    *,
    start_at: datetime | None,
    end_at: datetime | None,
    agreed: bool | None,
) -> Contract:
    """Agree, reschedule or end (set `endAt`, e.g. to now, to terminate) a contract."""
    caller.require(Role.OPERATOR)
    contract = await get_owned(session, caller, Contract, contract_id, lock=True)
    _require_supplier(await get_owned(session, caller, Account, contract.account_id), "id")
    start = start_at or contract.start_at
    end = end_at or contract.end_at
    raise_if([_period_issue(start, end)])
    contract.start_at, contract.end_at = start, end
    if agreed is not None:
        contract.agreed = agreed
    session.add(contract)
    await session.flush()
    return contract


async def delete_contract(session: AsyncSession, caller: Principal, contract_id: uuid.UUID) -> None:
    caller.require(Role.OPERATOR)
    await session.delete(await get_owned(session, caller, Contract, contract_id, lock=True))
    await session.flush()
