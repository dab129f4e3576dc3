"""Ingest rate through the GraphQL mutation (batches of 10,000 points, over HTTP) and aggregation latency
for a system of 10 devices with 30 days of 1-minute data.

The API caps a 1h query at one week (gridX's limit), so the one-month figure at 1h resolution is taken on
the aggregation service directly; the week at 1h and the month at 1d go through HTTP.

    .venv/bin/python bench/measurements.py [--days 30] [--queries 30]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.demo import DEMO_CONFIGURATION  # noqa: E402
from app.services.aggregation import Period, Resolution, system_buckets  # noqa: E402
from bench.harness import TYPE_NAMES, bench_database, global_id, percentile, seed_site, server  # noqa: E402

INGEST = "mutation($p: MeasurementPoints!) { ingestMeasurements(points: $p) { accepted errors { field message } } }"
SYSTEM = """query($id: ID!, $r: Resolution!, $from: DateTime!, $to: DateTime!) { node(id: $id) { ... on System {
  measurements(resolution: $r, from: $from, to: $to) { timestamp production consumption gridImport gridExport
    batteryCharge batteryDischarge evCharging stateOfCharge selfConsumptionRate selfSufficiencyRate } } } }"""
BATCH = 10_000


def ten_devices() -> dict:
    document = copy.deepcopy(DEMO_CONFIGURATION)
    for i in range(3):
        document["device_list"].append(
            {
                "name": f"pole_extra_{i}",
                "collector": "main_collector",
                "type": "charging_pole_3phase",
                "line_current": 16,
                "pin_to_phase_mapping": {"pin_list": ["pin1", "pin2", "pin3"], "phase_list": ["L1", "L2", "L3"]},
            }
        )
    return document


async def seed(bench) -> tuple[str, str, list[str], object]:
    seeded = await seed_site(bench, ten_devices())
    device_ids = [global_id(TYPE_NAMES[r.type], r.id) for r in seeded.devices]
    return seeded.token, global_id("System", seeded.system_pk), device_ids, seeded.system_pk


def batches(device_ids: list[str], start: datetime, days: int):
    batch: list[dict] = []
    for minute in range(days * 1440):
        ts = (start + timedelta(minutes=minute)).isoformat()
        for index, device_id in enumerate(device_ids):
            batch.append({"deviceId": device_id, "timestamp": ts, "powerValue": 1000.0 + 100 * index + minute % 60})
            if len(batch) == BATCH:
                yield batch
                batch = []
    if batch:
        yield batch


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--in-flight", type=int, default=2, help="batches sent at once in the concurrent part")
    args = parser.parse_args()
    start = datetime(2026, 10, 1, tzinfo=UTC)
    async with bench_database() as bench:
        token, system_gid, device_ids, system_pk = await seed(bench)
        headers = {"Authorization": f"Bearer {token}"}
        async with server(bench, args.workers) as client:

            def bodies(devices: list[str], begin: datetime, days: int) -> list[bytes]:
                return [orjson.dumps({"query": INGEST, "variables": {"p": b}}) for b in batches(devices, begin, days)]

            # First half of the period: one client sends everything. Second half: `in_flight` gateways, each
            # with its own devices (as a fleet sends), at the same time.
            first_days = args.days // 2
            sequential = bodies(device_ids, start, first_days)
            gateways = [
                bodies(device_ids[g :: args.in_flight], start + timedelta(days=first_days), args.days - first_days)
                for g in range(args.in_flight)
            ]
            headers["Content-Type"] = "application/json"

            async def send(body: bytes) -> float:
                begin = time.perf_counter()
                response = await client.post("/graphql", content=body, headers=headers)
                elapsed = time.perf_counter() - begin
                assert response.json()["data"]["ingestMeasurements"]["accepted"] > 0, response.text[:300]
                return elapsed

            sequential_start = time.perf_counter()
            ingest_times = [await send(body) for body in sequential]
            sequential_points = len(device_ids) * first_days * 1440
            sequential_rate = sequential_points / (time.perf_counter() - sequential_start)
            concurrent_start = time.perf_counter()

            async def gateway(own: list[bytes]) -> None:
                for body in own:
                    await send(body)

            await asyncio.gather(*(gateway(own) for own in gateways))
            concurrent_points = len(device_ids) * (args.days - first_days) * 1440
            concurrent_rate = concurrent_points / (time.perf_counter() - concurrent_start)
            total = sequential_points + concurrent_points

            async def timed(variables: dict) -> list[float]:
                timings = []
                for _ in range(args.queries):
                    begin = time.perf_counter()
                    body = (
                        await client.post("/graphql", json={"query": SYSTEM, "variables": variables}, headers=headers)
                    ).json()
                    timings.append(time.perf_counter() - begin)
                    assert "errors" not in body, body
                return timings

            week = await timed(
                {
                    "id": system_gid,
                    "r": "HOUR",
                    "from": start.isoformat(),
                    "to": (start + timedelta(days=7)).isoformat(),
                }
            )
            month_daily = await timed(
                {
                    "id": system_gid,
                    "r": "DAY",
                    "from": start.isoformat(),
                    "to": (start + timedelta(days=args.days)).isoformat(),
                }
            )
        month_hourly = []
        period = Period(Resolution.HOUR, start, start + timedelta(days=args.days))
        for _ in range(args.queries):
            begin = time.perf_counter()
            buckets = await system_buckets(bench.db.engine, period, [system_pk])
            month_hourly.append(time.perf_counter() - begin)
        assert len(buckets[system_pk]) == args.days * 24

    print(
        f"ingest through ingestMeasurements over HTTP ({args.workers} uvicorn worker(s)): {total} points of {len(device_ids)} devices"
    )
    print(
        f"  one client, batch after batch: {sequential_rate:,.0f} points/s; per 10,000-point batch "
        f"p50 {percentile(ingest_times, 0.5) * 1e3:.0f} ms, p99 {percentile(ingest_times, 0.99) * 1e3:.0f} ms"
    )
    print(f"  {args.in_flight} gateways at once, each with its own devices: {concurrent_rate:,.0f} points/s")
    for label, timings in (
        (f"system 1h over {args.days} days (aggregation service, no HTTP)", month_hourly),
        ("system 1h over 7 days (HTTP, the API's longest 1h span)", week),
        (f"system 1d over {args.days} days (HTTP)", month_daily),
    ):
        print(f"  {label}: p50 {percentile(timings, 0.5) * 1e3:.1f} ms, p99 {percentile(timings, 0.99) * 1e3:.1f} ms")
    print(f"  machine: {os.cpu_count()} cores")


if __name__ == "__main__":
    asyncio.run(main())
