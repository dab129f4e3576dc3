"""PostgreSQL stopped under a running server, then started again: prompt UNAVAILABLE answers, websockets
refused with a code that says so, one log line for the outage, `/ready` following the database."""

from __future__ import annotations

import asyncio
import json
import logging
import statistics
import time
from pathlib import Path

import httpx
import pytest
import websockets

from phasewise.asgi import create_app
from tests.api.conftest import Api, make_tenant
from tests.ops.conftest import StoppablePostgres, ops_settings
from tests.serving import ANSWER_BOUND_S, serving

VIEWER = "{ viewer { account { id } } }"
LOGIN = 'mutation { login(email: "admin@alpha.test", password: "whatever it is") { token errors { code } } }'


async def _ready(client: httpx.AsyncClient, bound: float = 60) -> None:
    """Poll `/ready` until it answers 200: readiness is only read, never pushed, so there is no event to wait on
    (as in tests.ops.served.wait_for); the bound is generous."""
    deadline = time.monotonic() + bound
    while (await client.get("/ready")).status_code != 200:
        assert time.monotonic() < deadline, "not ready again"
        await asyncio.sleep(0.05)


async def test_an_outage_answers_unavailable_promptly_and_heals(
    stoppable_postgres: StoppablePostgres, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    app = create_app(ops_settings(tmp_path), stoppable_postgres.url)
    async with (
        serving(app) as address,
        httpx.AsyncClient(base_url=f"http://{address}", timeout=ANSWER_BOUND_S) as client,
    ):
        tenant = await make_tenant(app, Api(client), "alpha")
        ready = await client.get("/ready")
        assert ready.status_code == 200 and ready.json() == {
            "status": "ready",
            "database": True,
            "migrations": True,
            "events": True,
        }

        stoppable_postgres.stop()
        caplog.clear()
        durations = []
        with caplog.at_level(logging.WARNING):
            for query, token in [(VIEWER, tenant.viewer), (LOGIN, None)] * 5:
                started = time.monotonic()
                answer = await client.post(
                    "/graphql",
                    json={"query": query},
                    headers={"Authorization": f"Bearer {token}"} if token else {},
                )
                durations.append(time.monotonic() - started)
                assert answer.status_code == 503 and answer.headers["retry-after"] == "1", answer.text
                (error,) = answer.json()["errors"]
                assert error["extensions"] == {"code": "UNAVAILABLE", "retryable": True}
            # prompt: no waiting for a connect or pool timeout (the median, so one stall of a busy machine is no failure)
            assert statistics.median(durations) < 1.0, durations

            ready = await client.get("/ready")
            assert ready.status_code == 503 and ready.json()["database"] is False
            assert (await client.get("/health")).json() == {"status": "ok"}

            async with websockets.connect(f"ws://{address}/graphql", subprotocols=["graphql-transport-ws"]) as ws:
                init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {tenant.viewer}"}}
                await ws.send(json.dumps(init))
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await ws.recv()
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013

        outage_lines = [r for r in caplog.records if "database unavailable" in r.getMessage()]
        assert len(outage_lines) == 1, [r.getMessage() for r in caplog.records]
        assert not [r for r in caplog.records if r.exc_info], "an outage is not a fault: no traceback"

        stoppable_postgres.start()
        await _ready(client)
        answer = await client.post(
            "/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {tenant.viewer}"}
        )
        assert answer.status_code == 200 and answer.json()["data"]["viewer"]["account"]["id"] == tenant.account_id
        assert any("reachable again" in r.getMessage() for r in caplog.records)
