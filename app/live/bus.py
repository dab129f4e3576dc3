"""One LISTEN connection per process, fanning events out to the subscribers and handlers of this process.

After the connection drops it listens again (with backoff) and sends every subscriber a RESYNC event, so
they catch up from stored state (the latest run) instead of missing what happened during the gap."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from app.availability import is_unavailable, outage
from app.events import CHANNEL, Event, EventKind
from app.metrics import EVENT_LAG, EVENTS, OPEN_SUBSCRIPTIONS

log = logging.getLogger(__name__)
Handler = Callable[[Event], None]


def plain_dsn(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(("postgresql", *parts[1:]))


class Bus:
    def __init__(self, url: str) -> None:
        self._dsn = plain_dsn(url)
        self._queues: dict[uuid.UUID, set[asyncio.Queue[Event]]] = defaultdict(set)
        self._handlers: list[Handler] = []
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self.healthy = False

    def add_handler(self, handler: Handler) -> None:
        self._handlers.append(handler)

    @contextlib.asynccontextmanager
    async def subscribe(self, site_id: uuid.UUID) -> AsyncIterator[asyncio.Queue[Event]]:
        queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=1000)
        self._queues[site_id].add(queue)
        OPEN_SUBSCRIPTIONS.inc()
        try:
            yield queue
        finally:
            OPEN_SUBSCRIPTIONS.dec()
            self._queues[site_id].discard(queue)
            if not self._queues[site_id]:
                del self._queues[site_id]

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="phasewise-bus")
        await asyncio.wait_for(self._connected.wait(), timeout=30)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def publish_locally(self, event: Event) -> None:
        """Hand an event to this process's subscribers and handlers (the listener does this for NOTIFY)."""
        targets = self._queues.get(event.site_id, set()) if event.site_id else set()
        if event.kind is EventKind.RESYNC and event.site_id is None:
            targets = {q for queues in self._queues.values() for q in queues}
        for queue in list(targets):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                log.warning("a subscriber of site %s is not keeping up; dropping an event", event.site_id)
        for handler in self._handlers:
            handler(event)

    def _on_notify(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            event = Event.decode(payload)
        except (ValueError, KeyError):
            log.warning("ignoring a malformed event: %r", payload)
            return
        EVENTS.labels(event.kind.value).inc()
        if event.sent_at is not None:
            EVENT_LAG.observe(max(time.time() - event.sent_at, 0.0))
        self.publish_locally(event)

    async def _run(self) -> None:
        delay = 0.1
        first = True
        while True:
            lost = asyncio.Event()
            try:
                connection = await asyncpg.connect(self._dsn)
                connection.add_termination_listener(lambda _c, lost=lost: lost.set())
                await connection.add_listener(CHANNEL, self._on_notify)
                self.healthy, delay = True, 0.1
                outage.reached()
                self._connected.set()
                if not first:
                    self.publish_locally(Event(EventKind.RESYNC, None))
                first = False
                try:
                    while not lost.is_set():
                        with contextlib.suppress(asyncio.TimeoutError):
                            await asyncio.wait_for(lost.wait(), timeout=5)
                        if not lost.is_set():
                            await connection.fetchval("SELECT 1")
                finally:
                    self.healthy = False
                    with contextlib.suppress(Exception):
                        await connection.close(timeout=1)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is gone: keep trying, publish nothing meanwhile
                self.healthy = False
                if is_unavailable(exc):
                    outage.failed(exc, "the event listener")
                else:
                    log.warning("event listener failed (%s); retrying in %.1f s", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
