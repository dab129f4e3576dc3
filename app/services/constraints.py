"""Setting and removing device constraints (OPERATOR work, in the caller's subtree)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth import Principal, Role
from app.domain.bounds import MAX_POWER_W, magnitude_issue
from app.errors import ErrorCode, Issue, NotFound
from app.events import CHANNEL, EventKind, notify, payload
from app.models import Device, DeviceConstraint
from app.services.common import get_owned, raise_if
from app.tenancy import in_subtree

MAX_PRIORITY = 2_147_483_647
MAX_LIFETIME = timedelta(hours=25)


def _issues(
    minimum: float | None, maximum: float | None, active: float | None, priority: int, invalid_at: datetime
) -> list[Issue | None]:
    now = datetime.now(UTC)
    issues: list[Issue | None] = []
    if minimum is None and maximum is None and active is None:
        issues.append(
            Issue(ErrorCode.REQUIRED, None, "set at least one of minActivePower, maxActivePower, activePower")
        )
    for field, value in (("minActivePower", minimum), ("maxActivePower", maximum), ("activePower", active)):
        issue = magnitude_issue(value, MAX_POWER_W, "W") if value is not None else None
        if issue is not None:
            issues.append(Issue(ErrorCode.OUT_OF_RANGE, field, issue))
    if minimum is not None and maximum is not None and minimum > maximum:
        issues.append(Issue(ErrorCode.OUT_OF_RANGE, "maxActivePower", "must be at least minActivePower"))
    if not 0 <= priority <= MAX_PRIORITY:
        issues.append(Issue(ErrorCode.OUT_OF_RANGE, "priority", f"must be between 0 and {MAX_PRIORITY}"))
    if invalid_at.tzinfo is None:
        issues.append(Issue(ErrorCode.INVALID_FORMAT, "invalidAt", "needs a timezone offset"))
    elif invalid_at <= now:
        issues.append(Issue(ErrorCode.OUT_OF_RANGE, "invalidAt", "must lie in the future"))
    elif invalid_at > now + MAX_LIFETIME:
        issues.append(Issue(ErrorCode.OUT_OF_RANGE, "invalidAt", "must lie at most 25 h ahead"))
    return issues


async def set_constraint(
    session: AsyncSession,
    caller: Principal,
    device_id: uuid.UUID,
    *,
    min_active_power: float | None,
    max_active_power: float | None,
    active_power: float | None,
    priority: int,
    invalid_at: datetime,
) -> DeviceConstraint:
    caller.require(Role.OPERATOR)
    device = (
        await session.execute(
            select(col(Device.account_id), col(Device.site_id)).where(
                col(Device.id) == device_id, in_subtree(caller, Device)
            )
        )
    ).first()
    if device is None:
        raise NotFound(f"no Device with id {device_id} that you can see")
    raise_if(_issues(min_active_power, max_active_power, active_power, priority, invalid_at))
    constraint = DeviceConstraint(
        account_id=device.account_id,
        device_id=device_id,
        min_active_power=min_active_power,
        max_active_power=max_active_power,
        active_power=active_power,
        priority=priority,
        invalid_at=invalid_at,
        emitter=f"{caller.kind}:{caller.id}",
    )
    # The row and its event in one round trip: a partner may set constraints many times a second.
    inserted = insert(DeviceConstraint).values(constraint.model_dump()).returning(literal(1)).cte("inserted")
    event = payload(EventKind.FLEXIBILITY_CHANGED, device.site_id, device=device_id)
    await session.execute(select(func.pg_notify(CHANNEL, event)).select_from(inserted))
    return constraint


async def remove_constraint(session: AsyncSession, caller: Principal, constraint_id: uuid.UUID) -> None:
    caller.require(Role.OPERATOR)
    constraint = await get_owned(session, caller, DeviceConstraint, constraint_id, lock=True)
    device = await session.get(Device, constraint.device_id)
    await session.delete(constraint)
    await session.flush()
    await notify(
        session, EventKind.FLEXIBILITY_CHANGED, device.site_id if device else None, device=constraint.device_id
    )
