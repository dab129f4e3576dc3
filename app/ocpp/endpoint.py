"""The OCPP-J websocket endpoint `/ocpp/{stationId}`: subprotocol `ocpp2.0.1` or `ocpp1.6`, HTTP Basic
authentication of the station on the handshake (security profiles 1 and 2; refused with 401), then the
station's messages until it disconnects or falls silent."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
from collections.abc import Awaitable, Callable

from starlette.responses import PlainTextResponse
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from app.database import Database
from app.ocpp.link import StationLink
from app.ocpp.registry import StationRegistry
from app.ocpp.served import Served
from app.ocpp.station_v16 import StationV16
from app.ocpp.station_v201 import StationV201
from app.ocpp.stations import StationLogin, login
from app.settings import Settings

log = logging.getLogger(__name__)
PROTOCOLS: dict[str, type[StationV201] | type[StationV16]] = {"ocpp2.0.1": StationV201, "ocpp1.6": StationV16}


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


class Connection:
    """The ocpp library's view of a websocket (`recv`, `send`), noting when the station was last heard."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.last_heard = asyncio.get_running_loop().time()

    async def recv(self) -> str:
        message = await self.websocket.receive_text()
        self.last_heard = asyncio.get_running_loop().time()
        return message

    async def send(self, message: str) -> None:
        await self.websocket.send_text(message)


class OcppEndpoint:
    def __init__(self, db: Database, settings: Settings, registry: StationRegistry) -> None:
        self.db, self.settings, self.registry = db, settings, registry

    async def _deny(self, websocket: WebSocket, status: int, message: str) -> None:
        headers = {"WWW-Authenticate": 'Basic realm="ocpp"'} if status == 401 else None
        await websocket.send_denial_response(PlainTextResponse(message, status_code=status, headers=headers))

    async def handle(self, websocket: WebSocket) -> None:
        station_id = websocket.path_params["station_id"]
        offered = list(websocket.scope.get("subprotocols") or [])
        protocol = next((p for p in PROTOCOLS if p in offered), None)
        if protocol is None:
            await self._deny(websocket, 400, "offer the subprotocol ocpp2.0.1 or ocpp1.6")
            return
        credentials = basic_credentials(websocket.headers.get("authorization"))
        station = None
        if credentials is not None and credentials[0] == station_id:
            station = await login(self.db, station_id, credentials[1])
        if station is None:
            await self._deny(websocket, 401, "unknown station or wrong password")
            return
        await websocket.accept(subprotocol=protocol)
        await self._serve(websocket, station, protocol)

    async def _serve(self, websocket: WebSocket, station: StationLogin, protocol: str) -> None:
        connection = Connection(websocket)
        link = StationLink(self.db, station, protocol)
        reason = "the station disconnected"

        async def close(why: str) -> None:
            nonlocal reason
            reason = why
            with contextlib.suppress(Exception):
                await websocket.close(code=1001, reason=why[:120])

        served: Served = PROTOCOLS[protocol](
            station.station_id, connection, response_timeout=self.settings.ocpp_call_timeout_s
        )
        served.heartbeat_interval = self.settings.ocpp_heartbeat_interval_s  # type: ignore[attr-defined]
        served.init_served(link, close, self.registry.accepted)
        await link.connected()
        if station.site_id is not None:
            self.registry.attach(station.site_id, served)
        tasks = [
            asyncio.create_task(served.start()),  # type: ignore[attr-defined]
            asyncio.create_task(served.send_forever()),
            asyncio.create_task(self._watch(connection, close)),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:
                failure = task.exception() if task.done() and not task.cancelled() else None
                if failure is not None and not isinstance(failure, WebSocketDisconnect):
                    log.warning("station %s: %r", station.station_id, failure)
        finally:
            for task in tasks:
                task.cancel()
            if station.site_id is not None:
                self.registry.detach(station.site_id, served)
            with contextlib.suppress(Exception):
                await websocket.close()
            await asyncio.shield(link.disconnected(reason))

    async def _watch(self, connection: Connection, close: Callable[[str], Awaitable[None]]) -> None:
        """A station that sends nothing for two heartbeat intervals (plus a call's grace) is offline."""
        silence = 2 * self.settings.ocpp_heartbeat_interval_s + self.settings.ocpp_call_timeout_s
        loop = asyncio.get_running_loop()
        while True:
            quiet = loop.time() - connection.last_heard
            if quiet >= silence:
                await close(f"the station was silent for {quiet:.0f} s")
                return
            await asyncio.sleep(silence - quiet)


def ocpp_route(db: Database, settings: Settings, registry: StationRegistry) -> WebSocketRoute:
    return WebSocketRoute("/ocpp/{station_id}", OcppEndpoint(db, settings, registry).handle)
