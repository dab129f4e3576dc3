"""The stations connected to this process, by site, and the limits pusher: every stored run of a site with a
connected station (whichever process computed it, heard through the event bus) goes out as charging
profiles, a station that connects gets the latest valid limits at once, and a constraint that lowers a
connected pole holds its station under the new bound at once (`app.ocpp.ceiling`), before the re-plan.

Each push reads only the enforced limits of the poles connected here (`app.ocpp.reads`), one statement per
run, and every station's call goes out concurrently (one sender task per station)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from app.database import Database
from app.events import Event, EventKind
from app.live.bus import Bus
from app.ocpp.ceiling import pole_ceiling
from app.ocpp.link import StationLink
from app.ocpp.reads import latest_limits_of, run_limits_of
from app.ocpp.served import Served

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
        self._spawn(self._deliver_latest(site_id, [station]))

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
        if event.site_id is None or event.site_id not in self._stations:
            if event.kind is EventKind.RESYNC:
                for site_id, poles in list(self._stations.items()):
                    self._spawn(self._deliver_latest(site_id, list(poles.values())))
            return
        if event.kind is EventKind.RUN_STORED and "run" in event.ids:
            self._spawn(self._deliver(event.site_id, uuid.UUID(event.ids["run"])))
        elif event.kind is EventKind.FLEXIBILITY_CHANGED and "device" in event.ids:
            station = self._stations[event.site_id].get(uuid.UUID(event.ids["device"]))
            if station is not None:
                self._spawn(self._hold(station))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, site_id: uuid.UUID, run_id: uuid.UUID) -> None:
        poles = dict(self._stations.get(site_id, {}))
        try:
            limits = await run_limits_of(self._db, run_id, poles)
        except Exception:
            log.exception("reading run %s for its stations failed", run_id)
            return
        for device_id, pole_limits in limits.items():
            station = poles.get(device_id)
            if station is not None:
                station.offer(pole_limits)

    async def _deliver_latest(self, site_id: uuid.UUID, stations: list[Served]) -> None:
        try:
            limits = await latest_limits_of(self._db, site_id, [s.link.device_id for s in stations])
        except Exception:
            log.exception("reading the latest run of site %s failed", site_id)
            return
        for station in stations:
            if station.link.device_id in limits:
                station.offer(limits[station.link.device_id])

    async def _hold(self, station: Served) -> None:
        """A constraint changed the pole's flexibility: its station is held under the new bound at once."""
        try:
            ceiling = await pole_ceiling(self._db, station.link.device_id, datetime.now(UTC))
        except Exception:
            log.exception("reading the bound of pole %s failed", station.link.device_id)
            return
        if ceiling is not None:
            station.hold(ceiling)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
