"""The stations connected to this process, by site, and the limits pusher: every stored run of a site with a
connected station (whichever process computed it, heard through the event bus) goes out as charging
profiles, and a station that connects gets the latest valid limits at once."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import Coroutine
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlmodel import col

from app.database import Database
from app.events import Event, EventKind
from app.live.bus import Bus
from app.live.runs import stored_run
from app.models import OptimizationRun
from app.ocpp.link import StationLink
from app.ocpp.profiles import run_limits
from app.ocpp.served import Served
from app.optimization.stored_run import parse_run

log = logging.getLogger(__name__)
ACCEPTED_BATCH_S = 0.5
WRITE_ACCEPTED = text(
    """
    UPDATE ocpp_station SET last_profile_at = u.t, last_seen_at = greatest(last_seen_at, u.t)
    FROM unnest(CAST(:d AS uuid[]), CAST(:t AS timestamptz[])) AS u(d, t) WHERE device_id = u.d
    """
)


class StationRegistry:
    def __init__(self, db: Database, bus: Bus) -> None:
        self._db = db
        self._stations: dict[uuid.UUID, dict[uuid.UUID, Served]] = defaultdict(dict)
        self._tasks: set[asyncio.Task[None]] = set()
        self._accepted: dict[uuid.UUID, datetime] = {}
        bus.add_handler(self.on_event)

    def attach(self, site_id: uuid.UUID, station: Served) -> None:
        """A newer connection of the same pole replaces the older one."""
        self._stations[site_id][station.link.device_id] = station
        self._spawn(self._deliver_latest(site_id, station))

    def detach(self, site_id: uuid.UUID, station: Served) -> None:
        poles = self._stations.get(site_id, {})
        if poles.get(station.link.device_id) is station:
            del poles[station.link.device_id]
        if not poles:
            self._stations.pop(site_id, None)

    def accepted(self, link: StationLink, at: datetime) -> None:
        """A run reaches every station of a site at once: their stamps are written in one statement."""
        if not self._accepted:
            self._spawn(self._write_accepted())
        self._accepted[link.device_id] = at

    async def _write_accepted(self) -> None:
        await asyncio.sleep(ACCEPTED_BATCH_S)
        accepted, self._accepted = self._accepted, {}
        try:
            async with self._db.transaction() as session:
                await session.execute(WRITE_ACCEPTED, {"d": list(accepted), "t": list(accepted.values())})
        except Exception:
            log.exception("noting %d accepted profiles failed", len(accepted))

    def connected(self) -> int:
        return sum(len(poles) for poles in self._stations.values())

    def on_event(self, event: Event) -> None:
        if event.kind is EventKind.RUN_STORED and event.site_id in self._stations and "run" in event.ids:
            self._spawn(self._deliver(event.site_id, uuid.UUID(event.ids["run"])))
        elif event.kind is EventKind.RESYNC:
            for site_id, poles in list(self._stations.items()):
                for station in list(poles.values()):
                    self._spawn(self._deliver_latest(site_id, station))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, site_id: uuid.UUID, run_id: uuid.UUID) -> None:
        try:
            run = await stored_run(self._db, run_id)
        except Exception:
            log.exception("reading run %s for its stations failed", run_id)
            return
        if run is None:
            return
        limits = run_limits(run)
        for device_id, station in list(self._stations.get(site_id, {}).items()):
            if device_id in limits:
                station.offer(limits[device_id])

    async def _deliver_latest(self, site_id: uuid.UUID, station: Served) -> None:
        try:
            async with self._db.session() as session:
                row = (
                    await session.execute(
                        select(OptimizationRun)
                        .where(col(OptimizationRun.site_id) == site_id)
                        .order_by(col(OptimizationRun.created_at).desc())
                        .limit(1)
                    )
                ).scalar()
            run = parse_run(row) if row is not None else None
        except Exception:
            log.exception("reading the latest run of site %s failed", site_id)
            return
        limits = run_limits(run) if run is not None else {}
        if station.link.device_id in limits:
            station.offer(limits[station.link.device_id])

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
