"""Stored runs as their readers in a process need them (the overload check after every ingest, subscribers):
one read and one parse per run per process, however many wait, and none for a run this process stored."""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict

from sqlalchemy import select
from sqlmodel import col

from app.database import Database
from app.models import OptimizationRun
from app.optimization.stored_run import StoredRun, parse_run

_KEEP = 64
_runs: OrderedDict[uuid.UUID, asyncio.Future[StoredRun | None]] = OrderedDict()


def _kept(run_id: uuid.UUID) -> asyncio.Future[StoredRun | None]:
    future: asyncio.Future[StoredRun | None] = asyncio.get_running_loop().create_future()
    _runs[run_id] = future
    while len(_runs) > _KEEP:
        _runs.popitem(last=False)
    return future


def remember(run: StoredRun) -> None:
    """A run this process has just stored: its readers here (the overload check after every ingest, subscribers)
    take it as written, where reading and parsing its document back cost more than the run's own bookkeeping."""
    if run.id not in _runs:
        _kept(run.id).set_result(run)


async def stored_run(db: Database, run_id: uuid.UUID) -> StoredRun | None:
    future = _runs.get(run_id)
    if future is None:
        future = _kept(run_id)
        try:
            async with db.reads() as session:
                row = (
                    (await session.execute(select(OptimizationRun).where(col(OptimizationRun.id) == run_id)))
                    .scalars()
                    .first()
                )
            future.set_result(None if row is None else parse_run(row))
        except Exception as exc:
            _runs.pop(run_id, None)
            future.set_exception(exc)
            raise
    return await asyncio.shield(future)
