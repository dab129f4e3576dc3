"""graphql-transport-ws connections: closed when their login token expires or their credential is revoked
(the timer and the watch go with the connection, so a closed websocket holds nothing), and refused with 1013
(try again later) during an outage."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage

from app.errors import Unavailable
from phasewise.credential_watch import watch_credential
from resolvers.context import Context

TRY_AGAIN_LATER = 1013
TOKEN_EXPIRED = 4401


class TransportWS(BaseGraphQLTransportWSHandler[Context, None]):
    _expiry: asyncio.TimerHandle | None = None
    _watch: asyncio.Task[None] | None = None

    async def handle(self) -> None:
        try:
            await super().handle()
        finally:
            if self._expiry is not None:
                self._expiry.cancel()
                self._expiry = None
            if self._watch is not None:
                self._watch.cancel()
                self._watch = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except Unavailable:
            await self.websocket.close(code=TRY_AGAIN_LATER, reason="database unavailable, retry")
            return
        principal = self.context.principal
        if self.connection_acknowledged and principal is not None:
            settings = self.context.settings
            self._watch = watch_credential(
                self.context.websocket, self.context.db, principal, settings.credential_check_s
            )
        if self.connection_acknowledged and principal is not None and principal.expires_at is not None:
            delay = max((principal.expires_at - datetime.now(UTC)).total_seconds(), 0)
            self._expiry = asyncio.get_running_loop().call_later(
                delay, lambda: asyncio.ensure_future(self._close_expired())
            )

    async def _close_expired(self) -> None:
        with contextlib.suppress(Exception):
            await self.websocket.close(code=TOKEN_EXPIRED, reason="token expired")
