"""The ASGI application: GraphQL over HTTP (GraphiQL in the browser) and websockets, probes and metrics."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import orjson
from starlette.applications import Starlette
from starlette.background import BackgroundTasks
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult, SubscriptionExecutionResult

from app.auth import authenticate, bearer
from app.availability import is_unavailable, outage
from app.database import Database
from app.errors import Unauthenticated
from app.lifeline import die_with_parent
from app.live.bus import Bus
from app.live.controller import Controller
from app.migrate import migrate
from app.ocpp.endpoint import ocpp_route
from app.ocpp.registry import StationRegistry
from app.optimization.runner import configure_pool, shutdown_pool
from app.settings import Settings, get_settings
from phasewise.body_limit import BodySizeLimit
from phasewise.cors import cors_middleware
from phasewise.dashboard import dashboard_routes
from phasewise.gc_tuning import tune_collector
from phasewise.graphiql import PAGE as GRAPHIQL_PAGE
from phasewise.graphiql import graphiql_assets
from phasewise.http_errors import CodedHTTPErrors
from phasewise.json_response import json_response
from phasewise.logs import install_filters, request_id_of
from phasewise.observability import metrics, worker_stopped
from phasewise.probes import Probes
from phasewise.signals import ignore_hangup_in_worker
from phasewise.websockets import TransportWS
from resolvers.availability import answers_unavailable
from resolvers.context import Context
from resolvers.schema import schema

if TYPE_CHECKING:
    from cross_web import AsyncHTTPRequestAdapter
    from strawberry.http import GraphQLRequestData


class PhasewiseGraphQL(CodedHTTPErrors, GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TransportWS

    def __init__(self, db: Database, settings: Settings, bus: Bus) -> None:
        super().__init__(
            schema,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            keep_alive=True,
            keep_alive_interval=15,
            allowed_origins=settings.cors_origins,
        )
        self.db = db
        self.settings = settings
        self.bus = bus

    async def get_context(self, request: Request | WebSocket, response: Any = None) -> Context:
        context = Context(self.db, self.settings, None, self.bus, request_id=request_id_of(request.headers))
        if isinstance(request, WebSocket):
            context.websocket = request
            return context
        try:
            credential = bearer(request.headers.get("authorization"))
            if credential:
                principal = await authenticate(self.db, credential, self.settings.resolved_jwt_secret())
                if principal is not None:
                    context.authenticate_as(principal)
        except Unauthenticated as exc:
            context.credential_error = exc
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            context.credential_error = outage.failed(exc, "authentication")
        if response is not None:
            response.headers["X-Request-Id"] = context.request_id
        return context

    async def execute_operation(  # noqa: PLR0917
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> ExecutionResult | list[ExecutionResult] | SubscriptionExecutionResult:
        """Once an answer has been sent, its context lets go of the rows it loaded: graphql-core's execution
        context is a reference cycle that holds the context, so they would otherwise wait for a full
        collection (`resolvers.loader_kinds` explains why the loaders themselves hold no cycle). Freeing a
        large answer's rows takes some 10 ms that its client need not wait for."""
        result = await super().execute_operation(
            request, request_adapter, request_data, context, root_value, sub_response
        )
        if isinstance(result, ExecutionResult | list):  # streamed answers still need their loaders
            after = BackgroundTasks([sub_response.background] if sub_response.background is not None else [])
            after.add_task(context.fresh_loaders)
            sub_response.background = after
        return result

    async def on_ws_connect(self, context: Context) -> None:
        """Authenticate from connection_init's payload ({"Authorization": "Bearer <token or API key>"})."""
        params = context.connection_params or {}
        header = params.get("Authorization") or params.get("authorization")
        try:
            credential = bearer(header) if header else None
            if not credential:
                raise Unauthenticated("connection_init must carry Authorization: Bearer <token or API key>")
            principal = await authenticate(self.db, credential, self.settings.resolved_jwt_secret())
        except Unauthenticated as exc:
            raise ConnectionRejectionError({"code": exc.code.value, "message": exc.message}) from exc
        except Exception as exc:
            if is_unavailable(exc):
                raise outage.failed(exc, "a websocket's authentication") from exc
            raise
        assert principal is not None
        context.authenticate_as(principal)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse(GRAPHIQL_PAGE)

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        """An answer reporting a database outage is a 503: retryable for proxies and clients alike."""
        if answers_unavailable(response_data):
            sub_response.status_code = 503
            sub_response.headers["Retry-After"] = "1"
        return json_response(response_data, sub_response)

    def encode_json(self, data: object) -> str:
        """Text, not bytes: graphql-transport-ws peers expect text frames."""
        return orjson.dumps(data).decode()

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)


def create_app(settings: Settings | None = None, database_url: str | None = None) -> Starlette:
    """The app for one process; the database is migrated when it starts, then events and the control loop run."""
    settings = settings or get_settings()
    supervisor = multiprocessing.parent_process()
    if supervisor is not None and supervisor.pid is not None:  # a worker of `serve --workers N`
        die_with_parent(supervisor.pid)
        ignore_hangup_in_worker()
    install_filters()
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
        tune_collector()
        yield
        await stations.stop()
        if controller is not None:
            await controller.stop()
        await bus.stop()
        await asyncio.to_thread(shutdown_pool)
        await db.dispose()
        worker_stopped()

    probes = Probes(db, bus, settings.db_connect_timeout_s)

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/health", probes.health),
            Route("/ready", probes.ready),
            Route("/metrics", metrics),
            graphiql_assets(),
            *dashboard_routes(),
            ocpp_route(db, settings, stations),
        ],
        lifespan=lifespan,
        middleware=[
            Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes),
            *cors_middleware(settings.cors_origins),
        ],
    )
    app.state.db = db
    app.state.settings = settings
    return app
