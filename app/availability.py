"""Telling a database outage from a fault, and saying so once per outage.

While PostgreSQL is unreachable every request, the event listener and the control loop fail the same way;
logging each failure would bury the one line that matters. The first failure of an outage is logged as a
warning, the first successful connection afterwards as the recovery, with how long it lasted."""

from __future__ import annotations

import logging
import threading
import time

import asyncpg
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine

from app.errors import Unavailable

log = logging.getLogger("phasewise.database")

_CONNECTION_ERRORS = (
    OSError,  # refused, no such socket, unreachable
    TimeoutError,  # connecting took longer than the connect timeout
    sa_exc.TimeoutError,  # no pooled connection came free
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,  # starting up or shutting down
    asyncpg.exceptions.OperatorInterventionError,  # terminated by an administrator or a shutdown
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError,
)

UNAVAILABLE_MESSAGE = "the database is unavailable; retry shortly"


def is_unavailable(error: BaseException | None) -> bool:
    """Whether `error` (or what caused it) says the database cannot be reached, as opposed to a fault."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, (Unavailable, *_CONNECTION_ERRORS)):
            return True
        if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
            return True
        error = error.__cause__ or error.__context__
    return False


class Outage:
    """This process's view of the database: up, or down since a moment (thread-safe, for probes and logs)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._since: float | None = None

    @property
    def down(self) -> bool:
        return self._since is not None

    def failed(self, error: BaseException, where: str) -> Unavailable:
        """Record a failure to reach the database; the first one of an outage is logged."""
        with self._lock:
            first, self._since = self._since is None, self._since or time.monotonic()
        if first:
            log.warning(
                "database unavailable (%s, first seen in %s); answering UNAVAILABLE until it is back",
                _brief(error),
                where,
            )
        return Unavailable(UNAVAILABLE_MESSAGE)

    def reached(self) -> None:
        with self._lock:
            since, self._since = self._since, None
        if since is not None:
            log.warning("database reachable again after %.1f s", time.monotonic() - since)

    def watch(self, engine: AsyncEngine) -> None:
        """Every new pooled connection proves the database is back."""
        from sqlalchemy import event

        event.listen(engine.sync_engine, "connect", lambda *_: self.reached())


def _brief(error: BaseException) -> str:
    while error.__cause__ is not None:
        error = error.__cause__
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text[:200]}" if text else type(error).__name__


outage = Outage()
