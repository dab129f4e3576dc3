"""A real server (uvicorn on a loopback port) with the control loop on, and a graphql-transport-ws client."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport
from starlette.applications import Starlette

from app.settings import Settings
from phasewise.asgi import create_app
from tests.api.conftest import Api, Tenant, make_tenant
from tests.serving import serving

SECRET = "live-test-secret-of-at-least-thirty-two-bytes"
# Bounds on waits for events (a message, a closed connection): generous, so a busy machine only makes the
# tests slower, never failing; a healthy run sees each event far sooner.
EVENT_BOUND_S = 120.0


async def open_subscriptions(address: str) -> float:
    """The server's own count of subscriptions listening for events (its `/metrics`)."""
    from prometheus_client.parser import text_string_to_metric_families

    async with httpx.AsyncClient(base_url=f"http://{address}", timeout=EVENT_BOUND_S) as client:
        text = (await client.get("/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "phasewise_open_subscriptions":
                return sample.value
    raise AssertionError("no phasewise_open_subscriptions in /metrics")


def live_settings(tmp_path: Path) -> Settings:
    return Settings(
        jwt_secret=SECRET,
        data_dir=tmp_path,
        control_loop=True,
        replan_quiet_s=0.05,
        controller_tick_s=0.2,
    )


@pytest.fixture
async def server(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[Starlette, str]]:
    app = create_app(live_settings(tmp_path), database_url)
    async with serving(app) as address:
        yield app, address


@pytest.fixture
async def http(server: tuple[Starlette, str]) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=f"http://{server[1]}", timeout=30) as client:
        yield Api(client)


@pytest.fixture
async def alpha(server: tuple[Starlette, str], http: Api) -> Tenant:
    return await make_tenant(server[0], http, "alpha")


@pytest.fixture
async def bravo(server: tuple[Starlette, str], http: Api) -> Tenant:
    return await make_tenant(server[0], http, "bravo")


class Listener:
    """A subscription running in the background; its results land in `messages`."""

    def __init__(self, address: str, token: str | None, query: str, variables: dict[str, Any]) -> None:
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        self.address = address
        self.transport = WebsocketsTransport(
            url=f"ws://{address}/graphql",
            init_payload=payload,
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )
        self.query = gql(query)
        self.query.variable_values = variables
        self.messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.error: BaseException | None = None
        self.task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        try:
            async with Client(transport=self.transport, fetch_schema_from_transport=False) as session:
                async for result in session.subscribe(self.query):
                    await self.messages.put(result)
        except BaseException as exc:  # noqa: BLE001  (the test inspects it)
            self.error = exc

    async def start(self) -> Listener:
        """Returns once the server listens for this subscription's events, or once it refused it."""
        before = await open_subscriptions(self.address)
        self.task = asyncio.create_task(self._run())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + EVENT_BOUND_S
        while not self.task.done() and await open_subscriptions(self.address) <= before:
            assert loop.time() < deadline, "the subscription never started"
            await asyncio.sleep(0.02)
        return self

    async def next(self, timeout: float = EVENT_BOUND_S) -> dict[str, Any]:
        return await asyncio.wait_for(self.messages.get(), timeout)

    async def until(self, predicate: Any, timeout: float = EVENT_BOUND_S) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            message = await self.next(max(deadline - loop.time(), 0.01))
            if predicate(message):
                return message

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task
