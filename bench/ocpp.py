"""OCPP at scale: N simulated 2.0.1 stations (the ocpp library's ChargePoint on real websockets) on one
server process, each charging and sending meter values every 10 s, while the grid connection's limit
moves every few seconds and the optimizer replans. Prints the time from a run's new enforced limits (its
`finishedAt`) to each station's SetChargingProfile (p50, p99) and the server's CPU per station.

    .venv/bin/python bench/ocpp.py [--stations 200] [--seconds 60] [--replan-every 5]

The stations run in this process, on the same machine as the server: their CPU competes with it.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# This file is named like the `ocpp` library: the repository's root, not bench/, goes first on the path.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from sqlalchemy import select  # noqa: E402

from bench.harness import Bench, bench_database, percentile, seed_site, server_process  # noqa: E402

PASSWORD = "bench-station-password-0123"
METER_EVERY_S = 10.0
TICKS = os.sysconf("SC_CLK_TCK")


def car_park(stations: int) -> dict[str, Any]:
    """A main fuse that binds (16 A poles, rotated phase mappings) so every replan moves the limits."""
    rotations = (["L1", "L2", "L3"], ["L2", "L3", "L1"], ["L3", "L1", "L2"])
    return {
        "collector_list": [
            {"name": "main", "line_current": 8 * stations, "phase_voltage": 230, "1P_3P": "3P", "nb_of_phases": 3}
        ],
        "device_list": [
            {
                "name": f"pole_{i:04d}",
                "collector": "main",
                "type": "charging_pole_3phase",
                "line_current": 16,
                "pin_to_phase_mapping": {"pin_list": ["pin1", "pin2", "pin3"], "phase_list": rotations[i % 3]},
            }
            for i in range(stations)
        ],
    }


async def register(bench: Bench, stations: int) -> tuple[Any, list[str]]:
    from app.bootstrap import operator_of, top_account
    from app.ocpp.stations import StationConfig, configure_station

    seeded = await seed_site(bench, car_park(stations))
    poles = sorted((r for r in seeded.devices if r.pin_list), key=lambda r: str(r.id))
    async with bench.db.transaction() as session:
        operator = operator_of(await top_account(session, "bench"))
        for index, pole in enumerate(poles):
            await configure_station(session, operator, pole.id, StationConfig(f"BENCH-{index:04d}", password=PASSWORD))
    return seeded, [f"BENCH-{i:04d}" for i in range(len(poles))]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


async def drive(station: Any, index: int, stop: asyncio.Event) -> None:
    from tests.ocpp.sim import sampled

    await station.boot()
    await station.transaction(f"tx-{index}", "Started", 0, charging_state="Charging", phases=3)
    energy, seq = 0.0, 1
    await asyncio.sleep(random.uniform(0, METER_EVERY_S))
    while not stop.is_set():
        limit = station.all_profiles[-1].limit if station.all_profiles else 6.0
        energy += limit * 3 * 230 * METER_EVERY_S / 3600
        await station.meter(
            [{"timestamp": datetime.now(UTC).isoformat(), "sampled_value": sampled((limit,) * 3, energy_wh=energy)}]
        )
        seq += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), METER_EVERY_S)


async def replan_forever(bench: Bench, site_pk: Any, stations: int, every: float, stop: asyncio.Event) -> int:
    """Moves the grid connection's per-phase limit, so each run changes every station's limit."""
    from app.bootstrap import operator_of, top_account
    from app.services.steering import SeriesPoint, set_external_limits

    changes = 0
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
        if stop.is_set():
            break
        async with bench.db.transaction() as session:
            operator = operator_of(await top_account(session, "bench"))
            amps = random.choice((0.5, 0.6, 0.7, 0.8)) * 8 * stations
            await set_external_limits(
                session, operator, site_pk, imports=[SeriesPoint(datetime.now(UTC), None, amps)], exports=[]
            )
        changes += 1
    return changes


async def loop_lag(stop: asyncio.Event, lags: list[float]) -> None:
    """How late this process's event loop (the 200 stations') wakes up: that lateness is in every latency."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        before = loop.time()
        await asyncio.sleep(0.05)
        lags.append(loop.time() - before - 0.05)


async def main(stations: int, seconds: float, every: float) -> None:
    from app.models import OptimizationRun
    from tests.ocpp.sim import connected

    async with bench_database() as bench:
        seeded, ids = await register(bench, stations)
        async with server_process(bench, control_loop="true") as (client, process):
            address = str(client.base_url).removeprefix("http://").rstrip("/")
            async with contextlib.AsyncExitStack() as stack:
                connections = []
                for batch in range(0, len(ids), 20):  # 20 handshakes at a time (each checks an argon2 hash)
                    connections += await asyncio.gather(
                        *(stack.enter_async_context(connected(address, i, PASSWORD)) for i in ids[batch : batch + 20])
                    )
                stop = asyncio.Event()
                drivers = [asyncio.create_task(drive(s, i, stop)) for i, s in enumerate(connections)]
                await asyncio.sleep(METER_EVERY_S + 5)  # every station charging, its first profiles in
                started = time.time()
                solver_pids = children(process.pid)
                cpu_before = cpu_seconds(process.pid)
                solver_before = sum(cpu_seconds(p) for p in solver_pids)
                replans = asyncio.create_task(replan_forever(bench, seeded.site_pk, stations, every, stop))
                lags: list[float] = []
                lagging = asyncio.create_task(loop_lag(stop, lags))
                await asyncio.sleep(seconds)
                stop.set()
                changes = await replans
                await lagging
                cpu = cpu_seconds(process.pid) - cpu_before
                solver_cpu = sum(cpu_seconds(p) for p in solver_pids) - solver_before
                elapsed = time.time() - started
                await asyncio.gather(*drivers, return_exceptions=True)
        async with bench.db.session() as session:
            runs = (
                await session.execute(
                    select(OptimizationRun.finished_at).where(
                        OptimizationRun.site_id == seeded.site_pk,
                        OptimizationRun.created_at >= datetime.fromtimestamp(started, UTC) - timedelta(seconds=5),
                    )
                )
            ).all()
    # A station hears the newest limits only: each profile answers the latest run stored before it arrived.
    finished = sorted(r.finished_at.timestamp() for r in runs if r.finished_at is not None)
    latencies = []
    for station in connections:
        for received in station.all_profiles:
            before = bisect.bisect_right(finished, received.at)
            if received.at >= started and before:
                latencies.append(received.at - finished[before - 1])
    load = os.getloadavg()
    print(f"{stations} stations, {elapsed:.0f} s, {changes} limit changes, {len(runs)} runs, {len(latencies)} profiles")
    if latencies:
        print(
            f"run stored -> SetChargingProfile at the station: p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
            f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms (target p99 <= 500 ms)"
        )
    print(
        f"the stations' own event loop wakes late by p50 {percentile(lags, 0.5) * 1000:.0f} ms, "
        f"p99 {percentile(lags, 0.99) * 1000:.0f} ms (included in the latencies above)"
    )
    print(
        f"server process CPU: {cpu / elapsed * 100:.1f} % of a core in all, "
        f"{cpu / elapsed / stations * 1000:.2f} ms of CPU per second per station; "
        f"solver processes {solver_cpu / elapsed * 100:.1f} % of a core"
    )
    print(f"machine load average (1, 5, 15 min): {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stations", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--replan-every", type=float, default=5.0)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.stations, arguments.seconds, arguments.replan_every))
