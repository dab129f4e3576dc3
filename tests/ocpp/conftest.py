"""A real server (uvicorn on a loopback port, control loop on) for stations to connect to, and the GraphQL
snippets the OCPP tests share."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from phasewise.asgi import create_app
from tests.api.conftest import Api, Tenant
from tests.api.helpers import ean, site_with_topology
from tests.live import conftest as live
from tests.live.conftest import live_settings
from tests.serving import serving

CALL_TIMEOUT_S = 2.0
PASSWORD = "station-secret-0123456789"

SET_STATION = """mutation($d: ID!, $s: String!, $p: String, $e: Int, $c: Int, $f: Float) {
  setChargingPoleStation(deviceId: $d, stationId: $s, password: $p, evseId: $e, connectorId: $c,
                         fallbackCurrentA: $f) {
    ocppStation { stationId evseId connectorId online } errors { code field message } } }"""
POLE = """query($id: ID!) { node(id: $id) { ... on ChargingPole {
  ocppStation { stationId online lastSeenAt protocol connectorStatus vendor model transactionId phaseRotation
                phaseRotationIssue controlStatus controlWarning lastProfileAt }
  activeSession { id state usedChargingPins target { energyAmountNeeded leaveTime } }
  latestMeasurement { timestamp powerValue energyValue currentStateOfCharge pins { pin currentValue voltageValue } }
  enforcedLimits { validUntil limitsRootSide { acMaxCurrentA acMaxPhaseCount } }
  flexibility { controlWarning } } } }"""
RUNS = """query($s: ID!) { node(id: $s) { ... on Site { optimizationRuns(first: 5) { nodes { createdAt warnings } }
  chargingSessions(first: 10) { nodes { state usedChargingPins } } } } }"""


# The live tests' client and tenants, on this server.
http, alpha, bravo = live.http, live.alpha, live.bravo


@pytest.fixture
async def server(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[Starlette, str]]:
    settings = live_settings(tmp_path).model_copy(update={"ocpp_call_timeout_s": CALL_TIMEOUT_S})
    app = create_app(settings, database_url)
    async with serving(app) as address:
        yield app, address


async def station_on_pole(
    http: Api, tenant: Tenant, station_id: str, pole: str = "pole_entrance", **extra: Any
) -> tuple[str, dict[str, str]]:
    """A demo site of `tenant` (its own grid identifier) whose `pole` is driven by station `station_id`:
    (site id, device ids)."""
    _, site_id = await site_with_topology(
        http, tenant.operator, tenant.account_id, identifier=ean(f"5414{random.randrange(10**13):013d}")
    )
    query = "query($id: ID!) { node(id: $id) { ... on Site { devices { nodes { id name } } } } }"
    nodes = (await http.ok(query, {"id": site_id}, tenant.viewer))["node"]["devices"]["nodes"]
    devices = {n["name"]: n["id"] for n in nodes}
    await http.ok(SET_STATION, {"d": devices[pole], "s": station_id, "p": PASSWORD, **extra}, tenant.operator)
    return site_id, devices


async def pole_state(http: Api, tenant: Tenant, pole_id: str) -> dict[str, Any]:
    return (await http.ok(POLE, {"id": pole_id}, tenant.viewer))["node"]


async def until(probe: Any, predicate: Any, timeout: float = 90.0) -> Any:
    """Poll `probe()` until `predicate` holds of its value (a generous bound, not a fixed wait)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await probe()
        if predicate(value):
            return value
        if loop.time() > deadline:
            raise AssertionError(f"still {value!r}")
        await asyncio.sleep(0.1)
