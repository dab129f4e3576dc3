"""Latency of the nested inventory query: 100 systems x 50 devices.

Prints p50 and p99 over HTTP against a real server process (uvicorn, one worker, PostgreSQL), and, for
comparison, the time strawberry alone takes to execute the same query when every row is already in memory
(the request's loaders primed by a first run, so no SQL is sent: the statement count is printed to show it).

    .venv/bin/python bench/inventory.py [--systems 100] [--devices 50] [--requests 60]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event

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
from bench.harness import JWT_SECRET, bench_database, percentile, server  # noqa: E402

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


async def strawberry_alone(
    db: Database, settings: Settings, user_id: uuid.UUID, runs: int
) -> tuple[list[float], int, int]:
    from app.auth import authenticate
    from resolvers.context import Context
    from resolvers.schema import schema

    token, _ = issue_token(user_id, settings.resolved_jwt_secret(), timedelta(hours=1))
    async with db.session() as session:
        principal = await authenticate(session, token, settings.resolved_jwt_secret())
    context = Context(db, settings, principal)
    first = await schema.execute(QUERY, context_value=context)
    assert not first.errors, first.errors
    devices = sum(
        len(s["devices"]["nodes"])
        for n in first.data["viewer"]["account"]["systems"]["nodes"]
        for s in n["sites"]["nodes"]
    )
    statements: list[str] = []
    event.listen(db.engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        result = await schema.execute(QUERY, context_value=context)
        timings.append(time.perf_counter() - start)
        assert not result.errors
    return timings, len(statements), devices


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--systems", type=int, default=100)
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()

    async with bench_database() as bench:
        start = time.perf_counter()
        user_id = await seed(bench.db, args.systems, args.devices)
        print(f"seeded {args.systems} systems x {args.devices} devices in {time.perf_counter() - start:.1f} s")
        token, _ = issue_token(user_id, JWT_SECRET, timedelta(hours=1))
        headers = {"Authorization": f"Bearer {token}"}
        http_timings: list[float] = []
        async with server(bench, control_loop="false") as client:  # the query alone, no planning beside it
            for i in range(args.requests + 3):
                begin = time.perf_counter()
                response = await client.post("/graphql", json={"query": QUERY}, headers=headers)
                elapsed = time.perf_counter() - begin
                assert "errors" not in response.json(), response.json()["errors"][:2]
                size = len(response.content)
                if i >= 3:
                    http_timings.append(elapsed)
        alone, statements, devices = await strawberry_alone(bench.db, bench.settings, user_id, args.requests)

    print(f"nested inventory query: {args.systems} systems, {devices} devices, response {size / 1e6:.2f} MB")
    print(
        f"  over HTTP (uvicorn, 1 worker, PostgreSQL): p50 {percentile(http_timings, 0.5) * 1e3:.0f} ms, "
        f"p99 {percentile(http_timings, 0.99) * 1e3:.0f} ms  ({len(http_timings)} requests)"
    )
    print(
        f"  strawberry alone, rows in memory ({statements} SQL statements): p50 {percentile(alone, 0.5) * 1e3:.0f} ms, "
        f"p99 {percentile(alone, 0.99) * 1e3:.0f} ms"
    )
    print(f"  machine: {os.cpu_count()} cores")


if __name__ == "__main__":
    asyncio.run(main())
