"""The ASGI application: GraphQL over HTTP (GraphiQL in the browser) and websockets, plus a health probe."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from app.auth import authenticate, bearer
from app.database import Database
from app.errors import Unauthenticated
from app.migrate import migrate
from app.settings import Settings, get_settings
from resolvers.context import Context
from resolvers.schema import schema


class PhasewiseGraphQL(GraphQL[Context, None]):
    def __init__(self, db: Database, settings: Settings) -> None:
        super().__init__(schema, subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,))
        self.db = db
        self.settings = settings

    async def get_context(self, request: Request | WebSocket, response: Any = None) -> Context:
        context = Context(self.db, self.settings, None)
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

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)


def create_app(settings: Settings | None = None, database_url: str | None = None) -> Starlette:
    """The app for one process; the database is migrated when it starts."""
    settings = settings or get_settings()
    db = Database.from_settings(settings, database_url)
    graphql = PhasewiseGraphQL(db, settings)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await migrate(db.engine)
        yield
        await db.dispose()

    async def health(_: Request) -> JSONResponse:
        await db.fetch(_select_one())
        return JSONResponse({"status": "ok"})

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/health", health),
        ],
        lifespan=lifespan,
    )
    app.state.db = db
    app.state.settings = settings
    return app


def _select_one() -> Any:
    from sqlalchemy import literal, select

    return select(literal(1))
