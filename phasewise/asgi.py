"""The ASGI application: GraphQL over HTTP (GraphiQL in the browser) and websockets, plus a health probe."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import literal, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from app.auth import authenticate, bearer
from app.database import Database
from app.errors import Unauthenticated
from app.live.bus import Bus
from app.live.controller import Controller
from app.migrate import migrate
from app.ocpp.endpoint import ocpp_route
from app.ocpp.registry import StationRegistry
from app.optimization.runner import configure_pool, shutdown_pool
from app.settings import Settings, get_settings
from resolvers.context import Context
from resolvers.schema import schema


class PhasewiseGraphQL(GraphQL[Context, None]):
    def __init__(self, db: Database, settings: Settings, bus: Bus) -> None:
        super().__init__(
            schema, subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,), keep_alive=True, keep_alive_interval=15
        )
        self.db = db
        self.settings = settings
        self.bus = bus

    async def get_context(self, request: Request | WebSocket, response: Any = None) -> Context:
        context = Context(self.db, self.settings, None, self.bus)
        if isinstance(request, WebSocket):
            context.websocket = request
            return context
        try:
            credential = bearer(request.headers.get("authorization"))
            if credential:
                async with self.db.session() as session:
                    context = Context(
                        self.db,
                        self.settings,
                        await authenticate(session, credential, self.settings.resolved_jwt_secret()),
                    )
        except Unauthenticated as exc:
            context.credential_error = exc
        return context

    async def on_ws_connect(self, context: Context) -> None:
        """Authenticate from connection_init's payload ({"Authorization": "Bearer <token or API key>"});
        the connection closes when the token expires."""
        params = context.connection_params or {}
        header = params.get("Authorization") or params.get("authorization")
        try:
            credential = bearer(header) if header else None
            if not credential:
                raise Unauthenticated("connection_init must carry Authorization: Bearer <token or API key>")
            async with self.db.session() as session:
                principal = await authenticate(session, credential, self.settings.resolved_jwt_secret())
        except Unauthenticated as exc:
            raise ConnectionRejectionError({"code": exc.code.value, "message": exc.message}) from exc
        assert principal is not None
        context.authenticate_as(principal)
        if principal.expires_at is not None:
            websocket: WebSocket = context.websocket
            delay = (principal.expires_at - datetime.now(UTC)).total_seconds()
            asyncio.get_running_loop().call_later(
                max(delay, 0), lambda: asyncio.ensure_future(_close_expired(websocket))
            )

    def encode_json(self, data: object) -> str:
        """Text, not bytes: graphql-transport-ws peers expect text frames."""
        return orjson.dumps(data).decode()

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)


async def _close_expired(websocket: WebSocket) -> None:
    with contextlib.suppress(Exception):
        await websocket.close(code=4401, reason="token expired")


def create_app(settings: Settings | None = None, database_url: str | None = None) -> Starlette:
    """The app for one process; the database is migrated when it starts, then events and the control loop run."""
    settings = settings or get_settings()
    db = Database.from_settings(settings, database_url)
    configure_pool(settings.solver_processes)
    bus = Bus(db.url)
    controller = Controller(db, bus, settings) if settings.control_loop else None
    graphql = PhasewiseGraphQL(db, settings, bus)
    stations = StationRegistry(db, bus)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await migrate(db.engine)
        await bus.start()
        if controller is not None:
            await controller.start()
        yield
        await stations.stop()
        if controller is not None:
            await controller.stop()
        await bus.stop()
        await asyncio.to_thread(shutdown_pool)
        await db.dispose()

    async def health(_: Request) -> JSONResponse:
        """Healthy when the database answers and this process still hears events."""
        await db.fetch(select(literal(1)))
        return JSONResponse({"status": "ok" if bus.healthy else "degraded", "events": bus.healthy})

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/health", health),
            ocpp_route(db, settings, stations),
        ],
        lifespan=lifespan,
    )
    app.state.db = db
    app.state.settings = settings
    return app
