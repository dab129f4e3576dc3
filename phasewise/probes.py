"""`/health` (liveness: the process answers) and `/ready` (it can serve: the database answers, its schema is
at the newest migration, the event listener is connected). JSON with 200 or 503, never a traceback: an
orchestrator restarts a process that fails `/health` and sends no traffic to one that fails `/ready`."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass

from alembic.script import ScriptDirectory
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse

from app.availability import is_unavailable, outage
from app.database import Database
from app.live.bus import Bus
from app.migrate import alembic_config


@dataclass(frozen=True)
class Readiness:
    database: bool
    migrations: bool
    events: bool

    @property
    def ready(self) -> bool:
        return self.database and self.migrations and self.events


class Probes:
    def __init__(self, db: Database, bus: Bus, timeout_s: float) -> None:
        self._db, self._bus, self._timeout_s = db, bus, timeout_s
        self._heads = frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())

    async def health(self, _: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def ready(self, _: Request) -> JSONResponse:
        readiness = await self.readiness()
        body = {"status": "ready" if readiness.ready else "not_ready", **asdict(readiness)}
        return JSONResponse(body, status_code=200 if readiness.ready else 503)

    async def readiness(self) -> Readiness:
        revisions = await self._revisions()
        return Readiness(
            database=revisions is not None,
            migrations=revisions is not None and revisions == self._heads,
            events=self._bus.healthy,
        )

    async def _revisions(self) -> frozenset[str] | None:
        """The database's migration revisions, or None when it does not answer in time."""
        try:
            async with asyncio.timeout(self._timeout_s), self._db.engine.connect() as connection:
                rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
                return frozenset(row[0] for row in rows)
        except TimeoutError as exc:
            outage.failed(exc, "the readiness probe")
        except Exception as exc:  # a probe answers; a fault that is not an outage says "not ready" too
            if is_unavailable(exc):
                outage.failed(exc, "the readiness probe")
            else:
                return frozenset()
        return None
