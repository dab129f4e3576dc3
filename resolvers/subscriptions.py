"""Subscriptions over graphql-transport-ws: what chargers, gateways and front-ends listen for.

Authentication travels in connection_init; a subscription is held to the caller's subtree like a query.
Every event gets fresh loaders. After the event listener reconnects, subscribers re-read the stored state
(the latest run) so a gap costs nothing but a repeated message."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import AsyncGenerator
from datetime import UTC, datetime

import strawberry
from strawberry import relay

from app.auth import revalidate
from app.errors import NotFound
from app.events import Event, EventKind
from app.metrics import LIMIT_PUBLICATIONS
from app.optimization.run_cache import stored_run
from app.optimization.stored_run import StoredRun
from resolvers.context import Info
from resolvers.mutations.base import pk
from resolvers.types.device import Device, device_from_row
from resolvers.types.flexibility import Flexibility, device_flexibility
from resolvers.types.run import EnforcedLimits, OptimizationRun
from resolvers.types.site import Site


@strawberry.type(description="A device's flexibility after a constraint changed.")
class FlexibilityUpdate:
    device: Device
    flexibility: Flexibility


@strawberry.type(description="Points were stored for the site's devices; query the measurements you need.")
class MeasurementsReceived:
    received_at: datetime
    site: Site


_LIMITS_KEPT = 64
_limits_by_run: OrderedDict[uuid.UUID, list[EnforcedLimits]] = OrderedDict()


def limits_of_run(run: StoredRun) -> list[EnforcedLimits]:
    """Built once per run in this process and shared by every subscriber (they only read them)."""
    limits = _limits_by_run.get(run.id)
    if limits is None:
        limits = [EnforcedLimits.from_document(e) for e in run.enforced_limits]
        _limits_by_run[run.id] = limits
        while len(_limits_by_run) > _LIMITS_KEPT:
            _limits_by_run.popitem(last=False)
    return limits


def still_valid(run: StoredRun, now: datetime) -> bool:
    """Limits past their `validUntil` are never sent (a catch-up after a database outage may find only those)."""
    return all(e.valid_until > now for e in run.enforced_limits)


async def _site(info: Info, site_id: relay.GlobalID) -> uuid.UUID:
    info.context.caller()
    site_pk = pk(site_id, ("Site",), "siteId")
    if await info.context.loaders.site.load(site_pk) is None:
        raise NotFound(f"no Site with id {site_id} that you can see")
    return site_pk


async def _events(info: Info, site_pk: uuid.UUID, kinds: set[EventKind], catch_up: bool) -> AsyncGenerator[Event, None]:
    bus = info.context.bus
    assert bus is not None, "subscriptions need the event bus"
    async with bus.subscribe(site_pk) as queue:
        if catch_up:
            yield Event(EventKind.RESYNC, site_pk)
        while True:
            event = await queue.get()
            if event.kind in kinds or event.kind is EventKind.RESYNC:
                await _recheck(info, site_pk)
                yield event


async def _recheck(info: Info, site_pk: uuid.UUID) -> None:
    """Before every event: the credential as it stands now (revoked, deleted or a changed password end the
    subscription) and the site still in the caller's subtree (an account move ends it too); fresh loaders."""
    principal = info.context.caller()
    info.context.authenticate_as(await revalidate(info.context.db, principal))
    if await info.context.loaders.site.load(site_pk) is None:
        raise NotFound("the site is no longer in your account's subtree")


async def _runs(info: Info, site_pk: uuid.UUID) -> AsyncGenerator[StoredRun, None]:
    """The site's latest run now, then every new one."""
    async for event in _events(info, site_pk, {EventKind.RUN_STORED}, catch_up=True):
        if event.kind is EventKind.RUN_STORED:
            run = await stored_run(info.context.db, uuid.UUID(event.ids["run"]))
            run = run if run is not None and run.site_id == site_pk else None
        else:
            run = await info.context.loaders.latest_run_by_site.load(site_pk)
        if run is not None:
            yield run


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description=(
            "The enforced limits of the site's controllable devices: the current ones at once, then every new set "
            "as it is computed (events, timers, measured overload). Renewed before `validUntil` while healthy; limits "
            "whose `validUntil` has passed are never sent."
        )
    )
    async def enforced_limits(self, info: Info, site_id: relay.GlobalID) -> AsyncGenerator[list[EnforcedLimits], None]:
        async for run in _runs(info, await _site(info, site_id)):
            if still_valid(run, datetime.now(UTC)):
                LIMIT_PUBLICATIONS.inc()
                yield limits_of_run(run)

    @strawberry.subscription(description="The site's latest plan at once, then every new one.")
    async def schedule_updated(self, info: Info, site_id: relay.GlobalID) -> AsyncGenerator[OptimizationRun, None]:
        async for run in _runs(info, await _site(info, site_id)):
            yield OptimizationRun.from_row(run)

    @strawberry.subscription(description="A device's flexibility whenever a constraint on it is set or removed.")
    async def flexibility_changed(self, info: Info, site_id: relay.GlobalID) -> AsyncGenerator[FlexibilityUpdate, None]:
        site_pk = await _site(info, site_id)
        async for event in _events(info, site_pk, {EventKind.FLEXIBILITY_CHANGED}, catch_up=False):
            if "device" not in event.ids:
                continue
            row = await info.context.loaders.device.load(uuid.UUID(event.ids["device"]))
            if row is not None:
                yield FlexibilityUpdate(device=device_from_row(row), flexibility=await device_flexibility(info, row))

    @strawberry.subscription(description="Each time points are stored for the site's devices.")
    async def measurements_received(
        self, info: Info, site_id: relay.GlobalID
    ) -> AsyncGenerator[MeasurementsReceived, None]:
        site_pk = await _site(info, site_id)
        async for event in _events(info, site_pk, {EventKind.MEASUREMENTS}, catch_up=False):
            if event.kind is EventKind.MEASUREMENTS:
                row = await info.context.loaders.site.load(site_pk)
                if row is not None:
                    yield MeasurementsReceived(received_at=datetime.now(UTC), site=Site.from_row(row))
