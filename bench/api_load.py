"""Mixed traffic against one server process: requests/s and p50/p99 per operation, control loop off and on.

Ten clients, each cycling back to back through the README's inventory query, a 100-point measurement ingest
and a `setConstraint` on one of the site's poles (with the control loop on, each constraint makes the process
re-plan the site: four cars are charging), for `--seconds` per mode, against one uvicorn process on
PostgreSQL. The clients run in this process, the server in its own (with its solver process beside it); the
CPU each used is printed as cores (CPU seconds per second of the window).

    .venv/bin/python bench/api_load.py [--seconds 60] [--clients 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Bench, bench_database, global_id, percentile, seed_site, server_process  # noqa: E402
from bench.live import START, ten_poles  # noqa: E402

INVENTORY = """{
  sites {
    nodes {
      name gridIdentifier status upstreamStatus validation { validForOptimization missing { code message } }
      mainCollector { name lineCurrent children { nodes { name phaseType phase phasePermutations { childPhase parentPhase } } } }
      devices { nodes { __typename name collector { name } ... on ChargingPole { pinToPhaseMapping { pinList phaseList } } } }
    }
  }
}"""
INGEST = "mutation($p: MeasurementPoints!) { ingestMeasurements(points: $p) { accepted errors { field message } } }"
SET = """mutation($d: ID!, $at: DateTime!, $max: Float) {
  setConstraint(deviceId: $d, priority: 5, invalidAt: $at, maxActivePower: $max) { errors { message } } }"""
OPERATIONS = ("inventory", "ingest", "setConstraint")


@dataclass
class Site:
    token: str
    devices: list[str]
    poles: list[tuple[str, list[str]]]


@dataclass
class Figures:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))


async def seed(bench: Bench) -> Site:
    seeded = await seed_site(bench, ten_poles())
    poles = [(global_id("ChargingPole", r.id), [p.upper() for p in r.pin_list]) for r in seeded.devices if r.pin_list]
    devices = [global_id(_type_name(r.type), r.id) for r in seeded.devices]
    return Site(seeded.token, devices, poles)


def _type_name(device_type: str) -> str:
    from bench.harness import TYPE_NAMES

    return TYPE_NAMES[device_type]


def ingest_points(site: Site, client: int, round_: int) -> list[dict[str, object]]:
    """100 points: every device, at instants no other client or round writes (a minute apart per round)."""
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=client, minutes=round_)
    return [
        {
            "deviceId": site.devices[i % len(site.devices)],
            "timestamp": (start + timedelta(milliseconds=i)).isoformat(),
            "powerValue": 1000.0 + i,
        }
        for i in range(100)
    ]


async def client_loop(
    http: httpx.AsyncClient, site: Site, client: int, deadline: float, figures: Figures, rng: random.Random
) -> None:
    headers = {"Authorization": f"Bearer {site.token}"}
    round_ = 0
    while time.perf_counter() < deadline:
        for operation in OPERATIONS:
            if operation == "inventory":
                body: dict[str, object] = {"query": INVENTORY}
            elif operation == "ingest":
                body = {"query": INGEST, "variables": {"p": ingest_points(site, client, round_)}}
            else:
                pole, _ = rng.choice(site.poles)
                invalid_at = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
                body = {"query": SET, "variables": {"d": pole, "at": invalid_at, "max": rng.uniform(3000, 11000)}}
            begin = time.perf_counter()
            response = await http.post("/graphql", json=body, headers=headers)
            elapsed = time.perf_counter() - begin
            answer = response.json()
            data = answer.get("data") or {}
            payload = next(iter(data.values()), None) if operation != "inventory" else None
            if response.status_code != 200 or answer.get("errors") or (payload and payload.get("errors")):
                figures.failures[operation] += 1
            figures.latencies[operation].append(elapsed)
        round_ += 1


def tree_cpu(process: psutil.Process) -> tuple[float, float]:
    """CPU seconds of the server process itself, and of its children (the solver)."""
    own = process.cpu_times()
    children = 0.0
    for child in process.children(recursive=True):
        try:
            times = child.cpu_times()
            children += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return own.user + own.system, children


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


async def run_mode(bench: Bench, site: Site, control_loop: bool, seconds: float, clients: int) -> None:
    # Each mode writes its own days: rewriting the other mode's instants would make every ingest upsert into
    # slots already full, a heavier recompute than the other mode's (and than a gateway's new points) ever sees.
    first = 50 if control_loop else 0  # days after 2026-01-01: in the past, as a gateway's points are
    async with server_process(bench, control_loop=str(control_loop).lower()) as (http, process):
        headers = {"Authorization": f"Bearer {site.token}"}
        for pole, pins in site.poles[:4]:  # cars charging, so a re-plan has work to do
            await http.post("/graphql", json={"query": START, "variables": {"d": pole, "pins": pins}}, headers=headers)
        limits = httpx.Limits(max_connections=clients)
        async with httpx.AsyncClient(base_url=http.base_url, timeout=120, limits=limits) as pool:
            warm = Figures()
            await asyncio.gather(
                *(
                    client_loop(pool, site, first + 100 + c, time.perf_counter() + 2, warm, random.Random(c))
                    for c in range(clients)
                )
            )
            server = psutil.Process(process.pid)
            figures = Figures()
            load_before, (server_before, solver_before), client_before = load_average(), tree_cpu(server), own_cpu()
            runs_before = await stored_runs(bench)
            begin = time.perf_counter()
            deadline = begin + seconds
            await asyncio.gather(
                *(
                    client_loop(pool, site, first + c, deadline, figures, random.Random(1000 + c))
                    for c in range(clients)
                )
            )
            wall = time.perf_counter() - begin
            (server_after, solver_after), client_after = tree_cpu(server), own_cpu()
            load_after = load_average()
            runs = await stored_runs(bench) - runs_before
    total = sum(len(v) for v in figures.latencies.values())
    print(
        f"\ncontrol loop {'on' if control_loop else 'off'}: {clients} clients, {wall:.0f} s, "
        f"load average {load_before} before, {load_after} after"
    )
    print(f"{'operation':16} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'failed':>7}")
    for operation in OPERATIONS:
        samples = figures.latencies[operation]
        print(
            f"{operation:16} {len(samples):9d} {len(samples) / wall:8.1f} {percentile(samples, 0.5) * 1e3:8.1f} "
            f"{percentile(samples, 0.99) * 1e3:8.1f} {figures.failures[operation]:7d}"
        )
    print(f"{'all':16} {total:9d} {total / wall:8.1f}")
    print(
        f"cores used: server {(server_after - server_before) / wall:.2f}, its solver {(solver_after - solver_before) / wall:.2f}, "
        f"clients (this process) {(client_after - client_before) / wall:.2f}; server CPU per request "
        f"{(server_after - server_before) / max(total, 1) * 1e3:.1f} ms; optimization runs stored: {runs}"
    )


async def stored_runs(bench: Bench) -> int:
    from sqlalchemy import func, select

    from app.models import OptimizationRun

    rows = await bench.db.fetch(select(func.count()).select_from(OptimizationRun))
    return int(rows[0][0])


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=10)
    args = parser.parse_args()
    async with bench_database() as bench:
        site = await seed(bench)
        print(f"one site: {len(site.devices)} devices ({len(site.poles)} poles); machine: {os.cpu_count()} cores")
        for control_loop in (False, True):
            await run_mode(bench, site, control_loop, args.seconds, args.clients)


if __name__ == "__main__":
    asyncio.run(main())
