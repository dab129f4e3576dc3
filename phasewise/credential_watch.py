"""Open websockets end with their credential: a revoked API key, a deleted user or a changed password closes
the connection within a few seconds (code 4401), whichever process holds it.

Each connection re-checks its principal every `credential_check_s` with one indexed read; a database that does
not answer keeps the connection (the token's own expiry still closes it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.websockets import WebSocket, WebSocketState

from app.auth import Principal, revalidate
from app.database import Database
from app.errors import Unauthenticated

logger = logging.getLogger("phasewise.credentials")
_watchers: set[asyncio.Task[None]] = set()


def _open(websocket: WebSocket) -> bool:
    return WebSocketState.DISCONNECTED not in (websocket.client_state, websocket.application_state)


async def _watch(websocket: WebSocket, db: Database, principal: Principal, interval_s: float) -> None:
    while _open(websocket):
        await asyncio.sleep(interval_s)
        if not _open(websocket):
            return
        try:
            await revalidate(db, principal)
        except Unauthenticated as exc:
            with contextlib.suppress(Exception):
                await websocket.close(code=4401, reason=exc.message[:120])
            return
        except Exception:  # noqa: BLE001  (the database may be away for a while; try again)
            logger.warning("could not re-check a websocket's credential", exc_info=True)


def watch_credential(websocket: WebSocket, db: Database, principal: Principal, interval_s: float) -> asyncio.Task[None]:
    """The watch's task; the connection cancels it when it closes."""
    task = asyncio.create_task(_watch(websocket, db, principal, interval_s), name="phasewise-credential-watch")
    _watchers.add(task)
    task.add_done_callback(_watchers.discard)
    return task
