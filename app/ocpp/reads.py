"""The enforced limits a station needs, read lean: only the `enforced_limits` entries of the poles asked for
(filtered in PostgreSQL), never the run's whole plan, each entry parsed as the stored document it is."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import UTC, datetime

import orjson
from sqlalchemy import text

from app.database import Database
from app.ocpp.profiles import PoleLimits
from app.optimization.documents import EnforcedLimitsDocument

_ENTRIES = """
    SELECT r.id, r.created_at, r.finished_at, e.entry::text AS entry
    FROM {runs} AS r CROSS JOIN LATERAL jsonb_array_elements(coalesce(r.enforced_limits, '[]')) AS e(entry)
    WHERE e.entry->>'uuid' = ANY(CAST(:devices AS text[]))
"""
OF_RUN = text(_ENTRIES.format(runs="(SELECT * FROM optimization_run WHERE id = :run)"))
OF_LATEST_RUN = text(
    _ENTRIES.format(runs="(SELECT * FROM optimization_run WHERE site_id = :site ORDER BY created_at DESC LIMIT 1)")
)


def _limits(rows: list[object], now: datetime) -> dict[uuid.UUID, PoleLimits]:
    """Limits past `valid_until` are never sent."""
    limits = {}
    for row in rows:
        entry = EnforcedLimitsDocument.model_validate(orjson.loads(row.entry))  # type: ignore[attr-defined]
        pole = PoleLimits.from_entry(row.id, row.created_at, row.finished_at or row.created_at, entry, now)  # type: ignore[attr-defined]
        if pole.valid_until > now:
            limits[pole.device_id] = pole
    return limits


async def run_limits_of(db: Database, run_id: uuid.UUID, devices: Collection[uuid.UUID]) -> dict[uuid.UUID, PoleLimits]:
    """The valid limits of `devices` in the run `run_id`."""
    async with db.session() as session:
        rows = (await session.execute(OF_RUN, {"run": run_id, "devices": [str(d) for d in devices]})).all()
    return _limits(list(rows), datetime.now(UTC))


async def latest_limits_of(
    db: Database, site_id: uuid.UUID, devices: Collection[uuid.UUID]
) -> dict[uuid.UUID, PoleLimits]:
    """The valid limits of `devices` in the site's latest run (the newest plan, as every reader takes it)."""
    async with db.session() as session:
        rows = (await session.execute(OF_LATEST_RUN, {"site": site_id, "devices": [str(d) for d in devices]})).all()
    return _limits(list(rows), datetime.now(UTC))
