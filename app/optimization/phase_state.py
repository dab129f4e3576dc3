"""The phase count in force per open charging session: what the enforced step's hysteresis needs next time.

Each stored run's limits name the phase count of every pole (`ac_max_phase_count`); where it differs from the
count the pole's open session had, the session records the new count and the moment of the switch, in the
run's own transaction. The next snapshot hands both to the solver, which switches again only after the
minimum time (setting `PHASEWISE_PHASE_SWITCH_MIN_INTERVAL_S`).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.optimization.documents import EnforcedLimitsDocument
from app.optimization.problem_mapping import Snapshot
from app.settings import Settings
from app.vocabulary import SessionState


def with_phase_switching(snapshot: Snapshot, settings: Settings) -> Snapshot:
    """The snapshot's problem with the phase-switching settings."""
    config = replace(
        snapshot.problem.config,
        phase_switch_min_interval=timedelta(seconds=settings.phase_switch_min_interval_s),
        phase_switch_hysteresis_W=settings.phase_switch_hysteresis_w,
    )
    return replace(snapshot, problem=replace(snapshot.problem, config=config))


_RECORD = text(
    """
    UPDATE charging_session AS s SET active_phase_count = v.count, phase_switched_at = v.issued
    FROM unnest(CAST(:devices AS uuid[]), CAST(:counts AS integer[]), CAST(:issued AS timestamptz[]))
        AS v(device_id, count, issued)
    WHERE s.site_id = :site AND s.device_id = v.device_id AND s.state <> :ended
      AND s.active_phase_count IS DISTINCT FROM v.count
    """
)


async def record_phase_counts(session: AsyncSession, site_id: uuid.UUID, limits: list[EnforcedLimitsDocument]) -> None:
    """Each open session whose pole's phase count changed records it and when (the limits' issue time): one
    statement for the whole site."""
    issued = [limit for limit in limits if not limit.fallback and limit.issued_at is not None]
    if not issued:
        return
    await session.execute(
        _RECORD,
        {
            "site": site_id,
            "ended": SessionState.ENDED.value,
            "devices": [limit.uuid for limit in issued],
            "counts": [limit.limits_root_side.ac_max_phase_count for limit in issued],
            "issued": [limit.issued_at for limit in issued],
        },
    )
