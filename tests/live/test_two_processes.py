"""Two server processes on one PostgreSQL: events cross processes, and each site has one planner."""

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from app.auth import Role
from app.bootstrap import ensure_user, top_account
from app.database import Database
from tests.api.conftest import PASSWORD, Api
from tests.api.helpers import demo_devices
from tests.live.conftest import EVENT_BOUND_S, SECRET, Listener
from tests.live.test_live_limits import LIMITS, START
from tests.serving import free_port

SET = """mutation($d: ID!, $at: DateTime!, $max: Float) {
  setConstraint(deviceId: $d, priority: 5, invalidAt: $at, maxActivePower: $max) { constraint { id } errors { message } } }"""
RUNS = """query($s: ID!) { node(id: $s) { ... on Site { optimizationRuns(first: 500) { totalCount
  nodes { trigger createdAt finishedAt } } } } }"""


# Wide enough that a NOTIFY crossing processes on a loaded machine still lands inside its burst's quiet window.
QUIET_S = 1.0
BURSTS = 10


@pytest.fixture
async def two_servers(database_url: str, tmp_path: Path) -> AsyncIterator[list[str]]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PHASEWISE_JWT_SECRET": SECRET,
        "PHASEWISE_DATA_DIR": str(tmp_path),
        "PHASEWISE_REPLAN_QUIET_S": str(QUIET_S),
        "PHASEWISE_CONTROLLER_TICK_S": "0.2",
        # The test counts the runs of its event bursts: no heartbeat renewal in between (they come every 20 s
        # with the default 60 s validity and would turn a burst that straddles one into two runs).
        "PHASEWISE_ENFORCED_VALID_FOR_S": "900",
    }
    ports = [free_port(), free_port()]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "phasewise.asgi:create_app",
                "--factory",
                "--port",
                str(p),
                "--log-level",
                "warning",
            ],
            env=env,
        )
        for p in ports
    ]
    addresses = [f"127.0.0.1:{p}" for p in ports]
    try:
        async with httpx.AsyncClient(timeout=EVENT_BOUND_S) as client:
            for address in addresses:
                deadline = asyncio.get_running_loop().time() + EVENT_BOUND_S
                while True:  # ready: migrated, and its event listener connected
                    with contextlib.suppress(httpx.TransportError):
                        if (await client.get(f"http://{address}/ready")).status_code == 200:
                            break
                    assert asyncio.get_running_loop().time() < deadline, f"{address} never became ready"
                    await asyncio.sleep(0.1)
        yield addresses
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=EVENT_BOUND_S)


async def test_events_cross_processes_and_each_burst_is_planned_once(two_servers, database_url):
    db = Database(database_url)
    async with db.transaction() as session:
        account = await top_account(session, "alpha")
        for role in Role:
            await ensure_user(session, account, email=f"{role.value.lower()}@alpha.test", password=PASSWORD, role=role)
    await db.dispose()
    first, second = two_servers
    async with (
        httpx.AsyncClient(base_url=f"http://{first}", timeout=30) as a,
        httpx.AsyncClient(base_url=f"http://{second}", timeout=30) as b,
    ):
        api_a, api_b = Api(a), Api(b)
        operator, viewer = await api_b.login("operator@alpha.test"), await api_a.login("viewer@alpha.test")
        account_id = (await api_b.ok("{ viewer { account { id } } }", token=operator))["viewer"]["account"]["id"]
        tenant = type("T", (), {"operator": operator, "viewer": viewer, "account_id": account_id})
        _, site_id, devices = await demo_devices(api_b, tenant)

        listener = await Listener(first, viewer, LIMITS, {"s": site_id}).start()
        try:
            await api_b.ok(START, {"d": devices["pole_entrance"]}, operator)
            message = await listener.until(
                lambda m: any(
                    e["device"]["name"] == "pole_entrance" and e["limitsRootSide"]["acMaxCurrentA"] > 0
                    for e in m["enforcedLimits"]
                )
            )
            assert message
        finally:
            await listener.stop()

        before: set[str] = set()
        while True:  # the session's own runs have settled
            await asyncio.sleep(3 * QUIET_S)
            seen = {
                n["createdAt"]
                for n in (await api_a.ok(RUNS, {"s": site_id}, viewer))["node"]["optimizationRuns"]["nodes"]
            }
            if seen == before:
                break
            before = seen
        until = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
        poles = [devices[n] for n in ("pole_entrance", "pole_garage_1", "pole_garage_2", "pole_carport")]
        spread_bursts = 0  # bursts whose writes took longer than the quiet window may be planned twice
        for burst in range(BURSTS):
            sent = asyncio.get_running_loop().time()
            await asyncio.gather(
                *(
                    (api_a if k % 2 else api_b).ok(
                        SET, {"d": pole, "at": until, "max": 1000.0 * (burst + k + 1)}, operator
                    )
                    for k, pole in enumerate(poles)
                )
            )
            spread_bursts += asyncio.get_running_loop().time() - sent > QUIET_S
            deadline = asyncio.get_running_loop().time() + EVENT_BOUND_S
            while True:  # this burst's run is stored
                nodes = (await api_a.ok(RUNS, {"s": site_id}, viewer))["node"]["optimizationRuns"]["nodes"]
                if len([n for n in nodes if n["createdAt"] not in before and n["trigger"] != "timer"]) >= burst + 1:
                    break
                assert asyncio.get_running_loop().time() < deadline, f"burst {burst} was never planned"
                await asyncio.sleep(0.05)
            await asyncio.sleep(QUIET_S)  # the run's own tail (unlock, return) is over

        nodes = (await api_a.ok(RUNS, {"s": site_id}, viewer))["node"]["optimizationRuns"]["nodes"]
        new = [n for n in nodes if n["createdAt"] not in before and n["trigger"] != "timer"]
        assert BURSTS <= len(new) <= BURSTS + spread_bursts, sorted((n["createdAt"], n["trigger"]) for n in new)
        ordered = sorted(nodes, key=lambda n: n["createdAt"])
        for earlier, later in zip(ordered, ordered[1:], strict=False):
            assert datetime.fromisoformat(earlier["finishedAt"]) <= datetime.fromisoformat(later["createdAt"])
