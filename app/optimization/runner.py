"""Runs one optimization of a site: snapshot, solve in a solver process, store the run.

Two runs of one site never overlap: a PostgreSQL advisory lock, held on its own connection for the whole
run, serialises them across every process and host on the database. The solver never runs on the event
loop: it runs in a spawned process pool (building the LP and HiGHS's solve are CPU-bound and would hold it)."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text

from app.auth import Principal, Role
from app.database import Database
from app.errors import ErrorCode, ValidationFailed
from app.events import EventKind, notify
from app.metrics import FALLBACK_RUNS, OPTIMIZER_FAILURES, OPTIMIZER_RUNS, OPTIMIZER_SECONDS
from app.models import OptimizationRun, Site
from app.optimization.documents import enforced_document, result_document, timings_document
from app.optimization.phase_state import record_phase_counts, with_phase_switching
from app.optimization.run_cache import remember
from app.optimization.snapshot import take_snapshot
from app.optimization.stored_run import StoredRun
from app.optimization.worker import solve_site, warm_up
from app.services.common import get_owned
from app.settings import Settings
from app.vocabulary import SiteStatus

PAUSED_WARNING = "the site is paused: not optimized, its devices get the equal-share fallback's fuse-safe limits"
_pool: ProcessPoolExecutor | None = None
_pool_size = 1


def configure_pool(processes: int) -> None:
    global _pool_size
    _pool_size = processes


def solver_pool() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ProcessPoolExecutor(
            max_workers=_pool_size,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=warm_up,
            initargs=(os.getpid(),),
        )
    return _pool


def shutdown_pool(wait: bool = True) -> None:
    """Stop the solver processes now (the app's shutdown; a broken pool is replaced at the next run). A solve
    in flight is abandoned rather than awaited: its run could not be stored any more, and a stop signal must
    not wait for a large site's solve."""
    global _pool
    pool, _pool = _pool, None
    if pool is None:
        return
    processes = list(pool._processes.values())  # the executor's own table of its worker processes
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    if wait:
        for process in processes:
            process.join(timeout=10)


def site_lock_key(site_id: uuid.UUID) -> int:
    """A 63-bit key of its own per site (the measurement locks hash device ids with another seed)."""
    return site_id.int % (2**63 - 1)


async def optimize_site(
    db: Database, settings: Settings, caller: Principal, site_id: uuid.UUID, trigger: str = "manual"
) -> StoredRun:
    """A paused site is refused: it is not optimized (the control loop keeps its poles on fuse-safe limits)."""
    caller.require(Role.OPERATOR)
    async with db.session() as session:
        site = await get_owned(session, caller, Site, site_id)
    if site.status == SiteStatus.PAUSED.value:
        raise ValidationFailed.one(
            ErrorCode.SITE_PAUSED,
            "siteId",
            "the site is paused, so it is not optimized; resume it (updateSite paused: false) to optimize it",
        )
    return await run_site(db, settings, site, trigger)


async def run_site(db: Database, settings: Settings, site: Site, trigger: str) -> StoredRun:
    clock = time.perf_counter()
    try:
        run = await _run_site(db, settings, site, trigger)
    except Exception:
        OPTIMIZER_FAILURES.inc()
        raise
    OPTIMIZER_RUNS.labels(run.status, trigger).inc()
    OPTIMIZER_SECONDS.labels(run.status).observe(time.perf_counter() - clock)
    if run.used_fallback:
        FALLBACK_RUNS.inc()
    return run


async def _run_site(db: Database, settings: Settings, site: Site, trigger: str) -> StoredRun:
    async with db.engine.connect() as lock:
        await lock.execute(select(func.pg_advisory_lock(site_lock_key(site.id))))
        try:
            started = datetime.now(UTC)
            async with db.session() as session, session.begin():
                await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
                snapshot = await take_snapshot(
                    session,
                    site,
                    started,
                    timedelta(seconds=settings.heartbeat_lead_s),
                    timedelta(seconds=settings.enforced_valid_for_s),
                )
            snapshot = with_phase_switching(snapshot, settings)
            paused = site.status == SiteStatus.PAUSED.value
            loop = asyncio.get_running_loop()
            try:
                result = await loop.run_in_executor(solver_pool(), solve_site, str(site.id), snapshot.problem, paused)
            except BrokenProcessPool:
                shutdown_pool(wait=False)
                raise
            timings = timings_document(result.timings)
            warnings = (*snapshot.warnings, *((PAUSED_WARNING,) if paused else ()))
            document = result_document(result, warnings)
            issued = datetime.now(UTC)
            enforced = enforced_document(result.enforced_limits, issued)
            run = OptimizationRun(
                account_id=site.account_id,
                site_id=site.id,
                created_at=started,
                finished_at=datetime.now(UTC),
                trigger=trigger,
                status="site_paused" if paused else result.status,
                used_fallback=result.used_fallback,
                solver=snapshot.problem.config.solver,
                horizon_start=snapshot.problem.start,
                valid_until=min((e.valid_until for e in enforced), default=None),
                step_s=int(snapshot.problem.config.step.total_seconds()),
                energy_cost=result.cost.energy,
                peak_cost=result.cost.peak,
                currency=snapshot.currency,
                timings=timings.stored(),
                result=document.stored(),
                enforced_limits=[e.stored() for e in enforced],
            )
            async with db.transaction() as session:
                session.add(run)
                await session.flush()
                await record_phase_counts(session, site.id, enforced)
                await notify(session, EventKind.RUN_STORED, site.id, run=run.id)
            # The documents as written, not parsed back from their JSON.
            stored = StoredRun.model_validate(
                {**run.model_dump(), "timings": timings, "result": document, "enforced_limits": enforced}
            )
            remember(stored)
            return stored
        finally:
            await lock.execute(select(func.pg_advisory_unlock(site_lock_key(site.id))))
