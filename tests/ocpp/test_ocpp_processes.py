"""Two server processes on one PostgreSQL: the station is connected to one that does not plan at all; the
limits computed by the other reach it through the event bus."""

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from app.auth import Role
from app.bootstrap import ensure_user, top_account
from app.database import Database
from tests.api.conftest import PASSWORD as USER_PASSWORD
from tests.api.conftest import Api
from tests.api.helpers import demo_devices
from tests.live.conftest import SECRET
from tests.live.test_two_processes import SET
from tests.ocpp.conftest import PASSWORD, SET_STATION
from tests.ocpp.sim import connected
from tests.serving import free_port


@pytest.fixture
async def station_and_planner(database_url: str, tmp_path: Path) -> AsyncIterator[list[str]]:
    """(the station's process without a control loop, the planning process)."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PHASEWISE_JWT_SECRET": SECRET,
        "PHASEWISE_DATA_DIR": str(tmp_path),
        "PHASEWISE_REPLAN_QUIET_S": "0.05",
        "PHASEWISE_CONTROLLER_TICK_S": "0.2",
    }
    ports = [free_port(), free_port()]
    command = [sys.executable, "-m", "uvicorn", "phasewise.asgi:create_app", "--factory", "--log-level", "warning"]
    processes = [
        subprocess.Popen([*command, "--port", str(port)], env={**env, "PHASEWISE_CONTROL_LOOP": loop})
        for port, loop in zip(ports, ("false", "true"), strict=True)
    ]
    addresses = [f"127.0.0.1:{p}" for p in ports]
    try:
        async with httpx.AsyncClient() as client:
            for address in addresses:
                for _ in range(600):
                    try:
                        if (await client.get(f"http://{address}/health")).status_code == 200:
                            break
                    except httpx.TransportError:
                        await asyncio.sleep(0.1)
        yield addresses
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)


async def test_limits_from_another_process_reach_the_station(station_and_planner, database_url):
    db = Database(database_url)
    async with db.transaction() as session:
        account = await top_account(session, "alpha")
        await ensure_user(session, account, email="operator@alpha.test", password=USER_PASSWORD, role=Role.OPERATOR)
    await db.dispose()
    station_side, planner_side = station_and_planner
    async with httpx.AsyncClient(base_url=f"http://{planner_side}", timeout=30) as client:
        api = Api(client)
        operator = await api.login("operator@alpha.test")
        account_id = (await api.ok("{ viewer { account { id } } }", token=operator))["viewer"]["account"]["id"]
        tenant = type("T", (), {"operator": operator, "viewer": operator, "account_id": account_id})
        _, _, devices = await demo_devices(api, tenant)
        pole = devices["pole_entrance"]
        await api.ok(SET_STATION, {"d": pole, "s": "CP-2P", "p": PASSWORD}, operator)
        async with connected(station_side, "CP-2P", PASSWORD) as station:
            await station.boot()
            await station.transaction("tx-2p", "Started", 0, charging_state="Charging", phases=3)
            first = await station.profile(lambda p: p.limit > 0 and p.profile.get("transaction_id") == "tx-2p")
            assert first.limit == 32.0
            sent = time.time()
            at = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
            await api.ok(SET, {"d": pole, "at": at, "max": 8 * 3 * 230.0}, operator)
            lowered = await station.profile(lambda p: p.at > sent and p.limit <= 8.0 + 1e-6)
            assert lowered.limit == 8.0
