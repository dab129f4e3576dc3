"""What every mutation shares: the caller, one transaction, typed errors, global-id inputs."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from app.auth import Principal
from app.errors import ErrorCode, NotFound, ValidationFailed
from resolvers.context import Info
from resolvers.errors import UserError, user_errors

T = TypeVar("T")
PayloadT = TypeVar("PayloadT")


def pk(global_id: relay.GlobalID, type_names: tuple[str, ...], field: str) -> uuid.UUID:
    """The row id inside a global id, refusing ids of another type."""
    if global_id.type_name not in type_names:
        raise ValidationFailed.one(ErrorCode.INVALID, field, f"must be the id of a {' or '.join(type_names)}")
    try:
        return uuid.UUID(global_id.node_id)
    except ValueError as exc:
        raise NotFound(f"no {type_names[0]} with id {global_id}") from exc


def pks(global_ids: list[relay.GlobalID], type_names: tuple[str, ...], field: str) -> list[uuid.UUID]:
    return [pk(g, type_names, f"{field}[{i}]") for i, g in enumerate(global_ids)]


async def mutate(
    info: Info,
    payload: Callable[..., PayloadT],
    work: Callable[[AsyncSession, Principal], Awaitable[dict[str, Any]]],
) -> PayloadT:
    """Runs `work` in one transaction; on a refused input nothing is written and the payload carries `errors`.

    Access errors (no or bad credentials, too low a role) propagate as GraphQL errors."""
    caller = info.context.caller()
    try:
        async with info.context.db.transaction() as session:
            fields = await work(session, caller)
    except (ValidationFailed, NotFound) as exc:
        return payload(errors=user_errors(exc))
    except IntegrityError as exc:
        return payload(errors=[UserError(code=ErrorCode.CONFLICT, field=None, message=_conflict(exc))])
    return payload(**fields)


def _conflict(exc: IntegrityError) -> str:
    """A concurrent write won a uniqueness race that the service's own check could not see yet."""
    constraint = getattr(getattr(exc.orig, "__cause__", None), "constraint_name", None)
    return f"conflicts with a concurrent change ({constraint or 'a uniqueness rule'}); try again"


@strawberry.type(description="The answer of a delete: the id that is gone, or why nothing was deleted.")
class DeletePayload:
    deleted_id: strawberry.ID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


async def delete(
    info: Info,
    global_id: relay.GlobalID,
    type_names: tuple[str, ...],
    work: Callable[[AsyncSession, Principal, uuid.UUID], Awaitable[None]],
) -> DeletePayload:
    async def run(session: AsyncSession, caller: Principal) -> dict[str, Any]:
        await work(session, caller, pk(global_id, type_names, "id"))
        return {"deleted_id": strawberry.ID(str(global_id))}

    return await mutate(info, DeletePayload, run)
