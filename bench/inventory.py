"""Latency of the nested inventory query: 100 systems x 50 devices.

Prints p50 and p99 of three, measured in interleaved rounds so they see the same machine:
- over HTTP against a real server process (uvicorn, one worker, PostgreSQL, the control loop off);
- the project's schema executing the query with every row already in memory (the request's loaders primed
  by a first run, so no SQL is sent: the statement count is printed to show it);
- the floor: a plain strawberry schema of the same shape over the same rows (`bench/inventory_floor.py`),
  checked to answer exactly the same data;
and the ratio of each p50 to the floor's.

    .venv/bin/python bench/inventory.py [--systems 100] [--devices 50] [--requests 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.auth import Role, issue_token  # noqa: E402
from app.bootstrap import ensure_user, operator_of, top_account  # noqa: E402
from app.database import Database  # noqa: E402
from app.domain.grid_identifiers import make_valid_identifier  # noqa: E402
from app.services.sites import LocationInput, SupplyPointInput, create_site  # noqa: E402
from app.services.systems import create_system  # noqa: E402
from app.services.topology import apply_site_configuration  # noqa: E402
from app.settings import Settings  # noqa: E402
from app.vocabulary import SupplyDirection  # noqa: E402
from bench.harness import JWT_SECRET, bench_database, percentile, server_process  # noqa: E402

QUERY = """
query { viewer { account { name systems(first: 100) { totalCount nodes {
  id name gateway { serialNumber online lastSeenAt }
  sites { nodes {
    id name gridIdentifier status upstreamStatus timezone supplyPoints { gridIdentifier direction }
    mainCollector { name lineCurrent phaseVoltage children { nodes { name lineCurrent phaseType phase
      phasePermutations { childPhase parentPhase } } } }
    devices(first: 50) { totalCount nodes {
      __typename id name type lineCurrent collector { name }
      ... on ChargingPole { pinToPhaseMapping { pinList phaseList } }
      ... on ForecastedSeries { forecastType shouldBeAggregated }
      ... on Battery { maximumChargingPower operationalBatteryCapacity policies { frequency time } }
    } }
  } }
} } } } }"""

ROTATIONS = [["L1", "L2", "L3"], ["L2", "L3", "L1"], ["L3", "L1", "L2"]]


def site_document(devices: int) -> dict:
    boards = [f"board_{b}" for b in range(4)]
    collectors = [
        {"name": "main", "children": boards, "line_current": 250, "phase_voltage": 230, "1P_3P": "3P"},
        *(
            {
                "name": b,
                "line_current": 63,
                "phase_voltage": 230,
                "1P_3P": "3P",
                "phase_permutations": dict(zip(["L1", "L2", "L3"], ROTATIONS[i % 3], strict=True)),
            }
            for i, b in enumerate(boards)
        ),
    ]
    device_list: list[dict] = [
        {
            "name": "pv",
            "collector": "main",
            "type": "forecasted_series_3phase",
            "line_current": 40,
            "forecast_type": "pv",
        },
        {
            "name": "load",
            "collector": "main",
            "type": "forecasted_series_3phase",
            "line_current": 80,
            "forecast_type": "load",
        },
        {
            "name": "battery",
            "collector": "main",
            "type": "battery_energy_storage_system",
            "maximum_charging_power": 10000,
            "maximum_discharging_power": 10000,
            "operational_battery_capacity": 20000,
            "policies": [
                {
                    "type": "schedule",
                    "schedule": {
                        "frequency": "weekly",
                        "day_of_week": ["monday"],
                        "time": "07:00",
                        "timezone": "Europe/Brussels",
                    },
                    "minimum_state_of_charge": 50,
                    "maximum_state_of_charge": 100,
                }
            ],
        },
    ]
    for i in range(devices - len(device_list)):
        single = i % 5 == 0
        device_list.append(
            {
                "name": f"pole_{i:03d}",
                "collector": boards[i % 4],
                "type": "charging_pole_3phase",
                "line_current": 32,
                "pin_to_phase_mapping": {
                    "pin_list": ["pin1"] if single else ["pin1", "pin2", "pin3"],
                    "phase_list": ROTATIONS[i % 3][:1] if single else ROTATIONS[i % 3],
                },
            }
        )
    return {"collector_list": collectors, "device_list": device_list}


async def seed(db: Database, systems: int, devices: int) -> uuid.UUID:
    document = site_document(devices)
    async with db.transaction() as session:
        account = await top_account(session, "bench")
        user = await ensure_user(
            session, account, email="bench@phasewise.example", password="bench-password", role=Role.VIEWER
        )
        operator = operator_of(account)
        for i in range(systems):
            system = await create_system(
                session,
                operator,
                account_id=account.id,
                name=f"system {i:03d}",
                gateway_serial_number=f"GW-{i:05d}",
                gateway_model="m",
            )
            site = await create_site(
                session,
                operator,
                system_id=system.id,
                name=f"site {i:03d}",
                country="BE",
                supply_points=[
                    SupplyPointInput(make_valid_identifier("BE", f"541449{i:011d}"), SupplyDirection.BIDIRECTIONAL)
                ],
                location=LocationInput(address="bench"),
                timezone="Europe/Brussels",
            )
            await apply_site_configuration(session, operator, site.id, document)
    return user.id


async def primed_context(db: Database, settings: Settings, user_id: uuid.UUID) -> tuple[Any, dict]:
    """A context whose loaders hold every row the query needs (a first run loaded them), and that run's data."""
    from app.auth import authenticate
    from resolvers.context import Context
    from resolvers.schema import schema

    token, _ = issue_token(user_id, settings.resolved_jwt_secret(), timedelta(hours=1))
    principal = await authenticate(db, token, settings.resolved_jwt_secret())
    context = Context(db, settings, principal)
    first = await schema.execute(QUERY, context_value=context)
    assert not first.errors, first.errors
    return context, first.data


async def timed(run: Callable[[], Awaitable[Any]], cpu: Callable[[], float] = time.process_time) -> tuple[float, float]:
    """Wall time and CPU time of one run; `cpu` reads the CPU seconds of the process that does the work."""
    begin, begin_cpu = time.perf_counter(), cpu()
    await run()
    return time.perf_counter() - begin, cpu() - begin_cpu


def process_cpu(pid: int) -> Callable[[], float]:
    process = psutil.Process(pid)

    def read() -> float:
        times = process.cpu_times()
        return times.user + times.system

    return read


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--systems", type=int, default=100)
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()

    from bench.inventory_floor import floor_root
    from bench.inventory_floor import schema as floor_schema
    from phasewise.gc_tuning import tune_collector
    from resolvers.schema import schema

    async with bench_database() as bench:
        start = time.perf_counter()
        user_id = await seed(bench.db, args.systems, args.devices)
        print(f"seeded {args.systems} systems x {args.devices} devices in {time.perf_counter() - start:.1f} s")
        token, _ = issue_token(user_id, JWT_SECRET, timedelta(hours=1))
        headers = {"Authorization": f"Bearer {token}"}
        context, ours = await primed_context(bench.db, bench.settings, user_id)
        account = ours["viewer"]["account"]
        account_id = (await authenticate_viewer(bench.db, token)).account_id
        root = await floor_root(bench.db, account_id, account["name"], args.devices)
        floor = await floor_schema.execute(QUERY, root_value=root)
        assert not floor.errors, floor.errors
        assert floor.data == ours, "the floor must answer exactly what the project's schema answers"
        devices = sum(len(s["devices"]["nodes"]) for n in account["systems"]["nodes"] for s in n["sites"]["nodes"])

        tune_collector()  # the server's process settings, for both in-memory figures alike
        counting = bench.db.statements_sent()
        statements = counting.__enter__()  # left at the end of the rounds

        async def in_memory() -> None:
            context.loaders.converted.clear()  # rows stay loaded; their conversion is per request, so counted
            result = await schema.execute(QUERY, context_value=context)
            assert not result.errors, result.errors

        async def plain() -> None:
            result = await floor_schema.execute(QUERY, root_value=root)
            assert not result.errors, result.errors

        figures: dict[str, list[tuple[float, float]]] = {"http": [], "memory": [], "floor": []}
        size = 0
        async with server_process(bench, control_loop="false") as (client, process):  # the query alone
            server_cpu = process_cpu(process.pid)

            answers: list[httpx.Response] = []

            async def http() -> None:
                """Until the whole answer has arrived; it is decoded and checked after the clock stops (decoding
                1.5 MB of JSON is the client's work, about 10 ms here, not the server's)."""
                answers.append(await client.post("/graphql", json={"query": QUERY}, headers=headers))

            def checked() -> None:
                nonlocal size
                response = answers.pop()
                assert "errors" not in response.json(), response.json()["errors"][:2]
                size = len(response.content)

            for _ in range(3):  # warm the server's process
                await http()
                checked()
            statements.clear()
            load_before = load_average()
            for _ in range(args.requests):  # interleaved, so the three see the same machine
                figures["http"].append(await timed(http, server_cpu))
                checked()
                figures["memory"].append(await timed(in_memory))
                figures["floor"].append(await timed(plain))
            load_after = load_average()
        memory_statements = len(statements)
        counting.__exit__(None, None, None)

    wall = {k: [w for w, _ in v] for k, v in figures.items()}
    cpu = {k: [c for _, c in v] for k, v in figures.items()}
    floor_wall, floor_cpu = percentile(wall["floor"], 0.5), percentile(cpu["floor"], 0.5)
    print(f"nested inventory query: {args.systems} systems, {devices} devices, response {size / 1e6:.2f} MB")
    print(f"machine: {os.cpu_count()} cores, load average {load_before} before, {load_after} after")
    print(f"{'':44} {'p50 ms':>8} {'p99 ms':>8} {'x floor':>8} {'CPU ms':>8} {'x floor':>8}")
    rows = [
        ("over HTTP (uvicorn, 1 worker, PostgreSQL)", "http"),
        (f"our schema, rows in memory ({memory_statements} SQL)", "memory"),
        ("floor: plain strawberry, same shape", "floor"),
    ]
    for label, key in rows:
        p50, cpu50 = percentile(wall[key], 0.5), percentile(cpu[key], 0.5)
        print(
            f"{label:44} {p50 * 1e3:8.0f} {percentile(wall[key], 0.99) * 1e3:8.0f} {p50 / floor_wall:8.2f} "
            f"{cpu50 * 1e3:8.0f} {cpu50 / floor_cpu:8.2f}"
        )
    print(
        f"({args.requests} interleaved rounds; ratios are p50 against the floor's p50 of the same run; CPU is the "
        "server process's for HTTP, this process's for the other two: the ratio that a busy machine disturbs least)"
    )


async def authenticate_viewer(db: Any, token: str) -> Any:
    from app.auth import authenticate

    principal = await authenticate(db, token, JWT_SECRET)
    assert principal is not None
    return principal


if __name__ == "__main__":
    asyncio.run(main())
