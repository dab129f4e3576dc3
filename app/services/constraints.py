"""Setting and removing device constraints (OPERATOR work, in the caller's subtree)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import Principal, Role
from app.domain.bounds import MAX_POWER_W, magnitude_issue
from app.errors import ErrorCode, Issue
from app.events import EventKind, notify
from app.models import Device, DeviceConstraint
from app.services.common import get_owned, raise_if

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
    device = await get_owned(session, caller, Device, device_id)
    raise_if(_issues(min_active_power, max_active_power, active_power, priority, invalid_at))
    constraint = DeviceConstraint(
        account_id=device.account_id,
        device_id=device.id,
        min_active_power=min_active_power,
        max_active_power=max_active_power,
        active_power=active_power,
        priority=priority,
        invalid_at=invalid_at,
        emitter=f"{caller.kind}:{caller.id}",
    )
    session.add(constraint)
    await session.flush()
    await notify(session, EventKind.FLEXIBILITY_CHANGED, device.site_id, device=device.id)
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
