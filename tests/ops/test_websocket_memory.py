"""A closed websocket holds nothing: connect-and-close cycles leave the server's memory where it was."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import httpx
import psutil
import websockets

from phasewise.asgi import create_app
from tests.api.conftest import Api, make_tenant
from tests.ops.conftest import ops_settings
from tests.serving import ANSWER_BOUND_S, serving

CYCLES = 1000
ALLOWED_GROWTH_MB = 5


async def _cycle(address: str, token: str) -> None:
    async with websockets.connect(f"ws://{address}/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"


def _rss_mb() -> float:
    gc.collect()
    return psutil.Process().memory_info().rss / 2**20


async def test_a_thousand_connect_and_close_cycles_keep_memory_flat(database_url: str, tmp_path: Path):
    app = create_app(ops_settings(tmp_path), database_url)
    async with (
        serving(app) as address,
        httpx.AsyncClient(base_url=f"http://{address}", timeout=ANSWER_BOUND_S) as client,
    ):
        tenant = await make_tenant(app, Api(client), "alpha")  # login tokens expire: each connection has a timer
        for _ in range(100):  # caches, pools and allocator arenas reach their working size
            await _cycle(address, tenant.viewer)
        before = _rss_mb()
        for _ in range(CYCLES):
            await _cycle(address, tenant.viewer)
        growth = _rss_mb() - before
    assert growth < ALLOWED_GROWTH_MB, f"{growth:.1f} MB more after {CYCLES} websockets"
