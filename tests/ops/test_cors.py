"""CORS over a real port: preflights from allowed origins succeed, others are refused; websocket handshakes
from foreign origins are refused too."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from phasewise.asgi import create_app
from tests.api.conftest import Api, make_tenant
from tests.ops.conftest import ops_settings
from tests.serving import ANSWER_BOUND_S, serving

ALLOWED = "https://app.example"
PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}


async def _ack(address: str, token: str, origin: str | None) -> str:
    async with websockets.connect(
        f"ws://{address}/graphql", subprotocols=["graphql-transport-ws"], origin=origin
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
        return json.loads(await ws.recv())["type"]


async def test_allowed_origins_pass_and_others_are_refused(database_url: str, tmp_path: Path):
    app = create_app(ops_settings(tmp_path, cors_origins=[ALLOWED]), database_url)
    async with serving(app) as address, httpx.AsyncClient(base_url=f"http://{address}", timeout=ANSWER_BOUND_S) as http:
        tenant = await make_tenant(app, Api(http), "alpha")
        allowed = await http.options("/graphql", headers={"Origin": ALLOWED, **PREFLIGHT})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == ALLOWED
        assert "POST" in allowed.headers["access-control-allow-methods"]
        assert "authorization" in allowed.headers["access-control-allow-headers"].lower()

        refused = await http.options("/graphql", headers={"Origin": "https://evil.example", **PREFLIGHT})
        assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers

        query = {"query": "{ viewer { account { id } } }"}
        auth = {"Authorization": f"Bearer {tenant.viewer}"}
        answer = await http.post("/graphql", json=query, headers={"Origin": ALLOWED, **auth})
        assert answer.headers["access-control-allow-origin"] == ALLOWED
        assert "x-request-id" in answer.headers["access-control-expose-headers"].lower()
        foreign = await http.post("/graphql", json=query, headers={"Origin": "https://evil.example", **auth})
        assert "access-control-allow-origin" not in foreign.headers

        assert await _ack(address, tenant.viewer, ALLOWED) == "connection_ack"
        assert await _ack(address, tenant.viewer, None) == "connection_ack"  # not a browser: no Origin
        assert await _ack(address, tenant.viewer, f"http://{address}") == "connection_ack"  # our own page
        with pytest.raises(InvalidStatus) as refused_ws:
            await _ack(address, tenant.viewer, "https://evil.example")
        assert refused_ws.value.response.status_code == 403


@pytest.mark.parametrize(("origins", "allowed"), [([], False), (["*"], True)], ids=["none by default", "any"])
async def test_no_origin_by_default_and_any_when_asked(
    database_url: str, tmp_path: Path, origins: list[str], allowed: bool
):
    app = create_app(ops_settings(tmp_path, cors_origins=origins), database_url)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://phasewise.test") as http,
    ):
        answer = await http.options("/graphql", headers={"Origin": "https://anywhere.example", **PREFLIGHT})
    assert (answer.status_code == 200) is allowed
    assert (answer.headers.get("access-control-allow-origin") == "*") is allowed
