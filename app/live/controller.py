"""The control loop of one process: plans sites on events, on timers and on measured overload.

- Events (sessions, constraints, prices, forecasts, limits, configuration, topology) mark a site; a burst
  ends after `replan_quiet_s` without a new event (or after `replan_max_wait_s`), then the site is planned
  once. An event during a run plans it once more afterwards.
- Each site is planned by one process at a time: the first to take the site's lease (a session-level
  advisory lock on this process's own connection) keeps it until the process or its connection ends.
- A constraint that expired after the latest run counts as an event (no job deletes it; the timer sees it).
- Timers: a site with something to control (an open session or a battery) is planned again shortly before
  its limits expire (`Settings.renewal_lead_s`: a third of their validity, default 60 s) and at least every
  `planning_interval_s`, so a listening charger never runs out of valid limits while the system is healthy.
  Without the database, nothing is planned or published, and chargers fall back when `validUntil` passes.
  A paused site is not optimized: its runs give every device the fallback's fuse-safe limits, marked so.
- Measurements that show more load than the plan expected trigger a run at once, without the quiet wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy import text

from app.availability import is_unavailable, outage
from app.database import Database
from app.events import REPLAN, Event, EventKind
from app.live.bus import Bus, plain_dsn
from app.live.overload import overloaded
from app.models import Site
from app.optimization.runner import run_site
from app.settings import Settings

log = logging.getLogger(__name__)
LEASE_SEED = 0x4C45415345  # distinct from the per-run site lock

DUE_SITES = text(
    """
    SELECT s.id FROM site s
    LEFT JOIN optimization_configuration cfg ON cfg.site_id = s.id
    LEFT JOIN LATERAL (
        SELECT r.valid_until, r.created_at FROM optimization_run r WHERE r.site_id = s.id
        ORDER BY r.created_at DESC LIMIT 1
    ) latest ON true
    WHERE s.deleted_at IS NULL AND s.status IN ('onboarded', 'paused')
      AND (EXISTS (SELECT 1 FROM charging_session c WHERE c.site_id = s.id AND c.state IN ('Started', 'Updated'))
           OR EXISTS (SELECT 1 FROM device d WHERE d.site_id = s.id AND d.type = 'battery_energy_storage_system'))
      AND (latest.created_at IS NULL
           OR latest.valid_until <= now() + make_interval(secs => least(:lead, coalesce(cfg.step_s, 900) / 3.0))
           OR latest.created_at <= now() - make_interval(secs => :interval)
           OR EXISTS (SELECT 1 FROM device_constraint dc JOIN device d ON d.id = dc.device_id
                      WHERE d.site_id = s.id AND dc.invalid_at <= now() AND dc.invalid_at > latest.created_at))
    """
)


def lease_key(site_id: uuid.UUID) -> int:
    return (site_id.int ^ LEASE_SEED) % (2**63 - 1)


class Controller:
    def __init__(self, db: Database, bus: Bus, settings: Settings) -> None:
        self._db, self._bus, self._settings = db, bus, settings
        self._waiting: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._running: set[uuid.UUID] = set()
        self._again: set[uuid.UUID] = set()
        self._last_event: dict[uuid.UUID, float] = {}
        self._leases: set[uuid.UUID] = set()
        self._lease_connection: asyncpg.Connection | None = None
        self._lease_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._ticker: asyncio.Task[None] | None = None
        # As many runs at once as there are solver processes: more would only queue there while holding
        # database connections.
        self._slots = asyncio.Semaphore(settings.solver_processes)
        bus.add_handler(self.on_event)

    async def start(self) -> None:
        self._ticker = asyncio.create_task(self._tick_forever(), name="phasewise-controller")

    async def stop(self) -> None:
        tasks = [t for t in [self._ticker, *self._waiting.values(), *self._tasks] if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._lease_connection is not None:
            self._lease_connection.terminate()

    def on_event(self, event: Event) -> None:
        if event.site_id is None:
            return
        if event.kind in REPLAN:
            self._coalesce(event.site_id, event.kind.value)
        elif event.kind is EventKind.MEASUREMENTS:
            self._spawn(self._check_overload(event.site_id))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _coalesce(self, site_id: uuid.UUID, trigger: str) -> None:
        loop = asyncio.get_running_loop()
        self._last_event[site_id] = loop.time()
        if site_id in self._running:
            self._again.add(site_id)
        elif site_id not in self._waiting:
            self._waiting[site_id] = loop.create_task(self._after_quiet(site_id, trigger, loop.time()))

    async def _after_quiet(self, site_id: uuid.UUID, trigger: str, first: float) -> None:
        loop = asyncio.get_running_loop()
        quiet, longest = self._settings.replan_quiet_s, self._settings.replan_max_wait_s
        try:
            while True:
                now = loop.time()
                wait = min(self._last_event[site_id] + quiet, first + longest) - now
                if wait <= 0:
                    break
                await asyncio.sleep(wait)
        finally:
            self._waiting.pop(site_id, None)
        await self.plan(site_id, trigger)

    async def plan(self, site_id: uuid.UUID, trigger: str) -> None:
        """Plan the site now if this process holds (or can take) its lease; once more if events came meanwhile."""
        if site_id in self._running:
            self._again.add(site_id)
            return
        self._running.add(site_id)  # waiting for a slot counts: the timers will not queue it twice
        try:
            async with self._slots:
                while True:
                    self._again.discard(site_id)
                    if not await self._lease(site_id):
                        return
                    async with self._db.reads() as session:
                        site = await session.get(Site, site_id)
                    if site is None or site.deleted_at is not None:
                        return
                    try:
                        await run_site(self._db, self._settings, site, trigger)
                    except Exception as exc:
                        if is_unavailable(exc):
                            outage.failed(exc, "the control loop")
                        else:
                            log.exception("planning site %s failed", site_id)
                        return
                    if site_id not in self._again:
                        return
                    trigger = "events_during_run"
        finally:
            self._running.discard(site_id)

    async def _lease(self, site_id: uuid.UUID) -> bool:
        async with self._lease_lock:
            if self._lease_connection is None or self._lease_connection.is_closed():
                self._leases.clear()
                self._lease_connection = await asyncpg.connect(plain_dsn(self._db.url))
            if site_id in self._leases:
                return True
            if await self._lease_connection.fetchval("SELECT pg_try_advisory_lock($1)", lease_key(site_id)):
                self._leases.add(site_id)
                return True
            return False

    async def _check_overload(self, site_id: uuid.UUID) -> None:
        try:
            if site_id not in self._running and await overloaded(self._db, site_id, datetime.now(UTC)):
                await self.plan(site_id, "measured_load")
        except Exception as exc:
            if is_unavailable(exc):
                outage.failed(exc, "the overload check")
            else:
                log.exception("checking measured load of site %s failed", site_id)

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(self._settings.controller_tick_s)
            try:
                async with self._db.reads() as session:
                    due = (
                        await session.execute(
                            DUE_SITES,
                            {"lead": self._settings.renewal_lead_s, "interval": self._settings.planning_interval_s},
                        )
                    ).scalars()
                    sites = list(due)
                for site_id in sites:
                    if site_id not in self._running and site_id not in self._waiting:
                        self._spawn(self.plan(site_id, "timer"))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is gone: plan nothing, publish nothing
                if is_unavailable(exc):
                    outage.failed(exc, "the control loop")
                else:
                    log.warning("controller tick failed: %s", exc)
                self._leases.clear()
                self._lease_connection = None
