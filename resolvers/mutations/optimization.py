"""Running the optimizer on demand."""

from __future__ import annotations

import strawberry
from strawberry import relay

from app.errors import NotFound, ValidationFailed
from app.optimization.runner import optimize_site
from resolvers.context import Info
from resolvers.errors import UserError, user_errors
from resolvers.mutations.base import pk
from resolvers.types.run import OptimizationRun


@strawberry.type
class OptimizationRunPayload:
    run: OptimizationRun | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class OptimizationMutations:
    @strawberry.mutation(
        description=(
            "Plans the site now and stores the run: schedules, cost, binding limits, enforced limits. The solver "
            "runs in a separate process; a second run of the same site waits for the first."
        )
    )
    async def optimize_site(self, info: Info, site_id: relay.GlobalID) -> OptimizationRunPayload:
        caller = info.context.caller()
        try:
            run = await optimize_site(info.context.db, info.context.settings, caller, pk(site_id, ("Site",), "siteId"))
        except (ValidationFailed, NotFound) as exc:
            return OptimizationRunPayload(errors=user_errors(exc))
        return OptimizationRunPayload(run=OptimizationRun.from_row(run))
