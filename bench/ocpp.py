"""OCPP at scale: N simulated 2.0.1 stations (the ocpp library's ChargePoint on real websockets) on one
server process, each charging and sending meter values every 10 s, while the grid connection's limit
moves every few seconds and the optimizer replans. Prints

- the time from a run's new enforced limits to each station's SetChargingProfile (p50, p99): from their
  publication (the run's commit, when its NOTIFY reaches a listener: the bench listens too), and from the
  run's `finishedAt` (stamped before the run is even written, so that figure also counts the write);
- the time from a `setConstraint` mutation that lowers one pole (sent over HTTP) to that station's
  SetChargingProfile at or under the new bound (p50, p99 over repeated trials, the grid limit held still);
- the server's CPU per station, the solver's, the stations' own, and the machine's load.

    .venv/bin/python bench/ocpp.py [--stations 200] [--seconds 60] [--replan-every 5] [--trials 30]

The stations run in a process of their own (spawned), so the server's figures are the server's; both stamp
with the same wall clock. They still share the machine's cores with the server and PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import multiprocessing
import os
import queue
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# This file is named like the `ocpp` library: the repository's root, not bench/, goes first on the path.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from sqlalchemy import select  # noqa: E402

from bench.harness import Bench, bench_database, global_id, percentile, seed_site, server_process  # noqa: E402

PASSWORD = "bench-station-password-0123"
METER_EVERY_S = 10.0
TICKS = os.sysconf("SC_CLK_TCK")
VOLTS = 230.0
SET = """mutation($d: ID!, $at: DateTime!, $max: Float) {
  setConstraint(deviceId: $d, priority: 5, invalidAt: $at, maxActivePower: $max) { errors { code message } } }"""


def car_park(stations: int) -> dict[str, Any]:
    """A main fuse that binds (16 A poles, rotated phase mappings) so every replan moves the limits."""
    rotations = (["L1", "L2", "L3"], ["L2", "L3", "L1"], ["L3", "L1", "L2"])
    return {
        "collector_list": [
            {"name": "main", "line_current": 8 * stations, "phase_voltage": VOLTS, "1P_3P": "3P", "nb_of_phases": 3}
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


async def register(bench: Bench, stations: int) -> tuple[Any, list[str], list[Any]]:
    from app.bootstrap import operator_of, top_account
    from app.ocpp.stations import StationConfig, configure_station

    seeded = await seed_site(bench, car_park(stations))
    poles = sorted((r for r in seeded.devices if r.pin_list), key=lambda r: str(r.id))
    async with bench.db.transaction() as session:
        operator = operator_of(await top_account(session, "bench"))
        for index, pole in enumerate(poles):
            await configure_station(session, operator, pole.id, StationConfig(f"BENCH-{index:04d}", password=PASSWORD))
    return seeded, [f"BENCH-{i:04d}" for i in range(len(poles))], [p.id for p in poles]


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


# ---- the stations' process ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Arrival:
    station: str
    at: float  # time.time() when the station picked the frame up
    limit: float


async def drive(station: Any, index: int, stop: asyncio.Event) -> None:
    from tests.ocpp.sim import sampled

    await station.transaction(f"tx-{index}", "Started", 0, charging_state="Charging", phases=3)
    energy = 0.0
    await asyncio.sleep(random.uniform(0, METER_EVERY_S))
    while not stop.is_set():
        limit = station.all_profiles[-1].limit if station.all_profiles else 6.0
        energy += limit * 3 * VOLTS * METER_EVERY_S / 3600
        await station.meter(
            [{"timestamp": datetime.now(UTC).isoformat(), "sampled_value": sampled((limit,) * 3, energy_wh=energy)}]
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), METER_EVERY_S)


async def forward(station: Any, out: Any) -> None:
    """Every profile the station gets goes to the bench's process as it arrives."""
    while True:
        received = await station.profiles.get()
        out.put(Arrival(station.id, received.at, received.limit))


async def loop_lag(stop: asyncio.Event, lags: list[float]) -> None:
    """How late this process's event loop wakes up: that lateness is in every latency measured here."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        before = loop.time()
        await asyncio.sleep(0.05)
        lags.append(loop.time() - before - 0.05)


async def run_stations(address: str, ids: list[str], out: Any, stop_flag: Any) -> None:
    from tests.ocpp.sim import connected

    stop = asyncio.Event()
    lags: list[float] = []
    async with contextlib.AsyncExitStack() as stack:
        connections = []
        for batch in range(0, len(ids), 20):  # 20 handshakes at a time (each checks an argon2 hash)
            connections += await asyncio.gather(
                *(stack.enter_async_context(connected(address, i, PASSWORD)) for i in ids[batch : batch + 20])
            )
        await asyncio.gather(*(s.boot() for s in connections))
        tasks = [asyncio.create_task(forward(s, out)) for s in connections]
        tasks += [asyncio.create_task(drive(s, i, stop)) for i, s in enumerate(connections)]
        lagging = asyncio.create_task(loop_lag(stop, lags))
        out.put("ready")
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, stop_flag.wait)
        stop.set()
        await lagging
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    out.put(("lags", lags))


def stations_main(address: str, ids: list[str], out: Any, stop_flag: Any) -> None:
    asyncio.run(run_stations(address, ids, out, stop_flag))


# ---- the bench's process ------------------------------------------------------------------------------


class Arrivals:
    """The profiles the stations report, and waiters for one station's next profile under a bound."""

    def __init__(self, source: Any) -> None:
        self.source = source
        self.all: list[Arrival] = []
        self.latest: dict[str, float] = {}
        self.lags: list[float] = []
        self.ready = asyncio.Event()
        self._waiters: list[tuple[str, float, float, asyncio.Future[float]]] = []

    async def pump(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                item = await loop.run_in_executor(None, self.source.get, True, 0.5)
            except queue.Empty:
                continue
            if item == "ready":
                self.ready.set()
            elif isinstance(item, tuple) and item[0] == "lags":
                self.lags = item[1]
                return
            else:
                self._arrived(item)

    def _arrived(self, arrival: Arrival) -> None:
        self.all.append(arrival)
        self.latest[arrival.station] = arrival.limit
        for waiter in list(self._waiters):
            station, after, bound, future = waiter
            if station == arrival.station and arrival.at > after and arrival.limit <= bound and not future.done():
                future.set_result(arrival.at)
                self._waiters.remove(waiter)

    def wait_for(self, station: str, after: float, bound: float) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiters.append((station, after, bound, future))
        return future


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


class Published:
    """When each run's NOTIFY reaches a listener of its own (the moment its limits are public)."""

    def __init__(self) -> None:
        self.at: list[float] = []

    def heard(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        from app.events import Event, EventKind

        if Event.decode(payload).kind is EventKind.RUN_STORED:
            self.at.append(time.time())

    @contextlib.asynccontextmanager
    async def listening(self, url: str) -> Any:
        import asyncpg

        from app.events import CHANNEL
        from app.live.bus import plain_dsn

        connection = await asyncpg.connect(plain_dsn(url))
        await connection.add_listener(CHANNEL, self.heard)
        try:
            yield self
        finally:
            await connection.close()


async def constraint_trials(
    client: Any, token: str, ids: list[str], poles: list[Any], arrivals: Arrivals, trials: int
) -> tuple[list[float], int]:
    """Each trial lowers one more pole (a constraint of its own) to 6 A on its three phases, or to 0 where it
    already gets no more, and waits for that station's profile at or under the bound."""
    latencies, lost = [], 0
    answered: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}
    order = random.sample(range(len(ids)), min(trials, len(ids)))
    for index in order:
        station, current = ids[index], arrivals.latest.get(ids[index], 0.0)
        bound = 6.0 if current > 6.5 else 0.0
        invalid_at = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        variables = {"d": global_id("ChargingPole", poles[index]), "at": invalid_at, "max": bound * 3 * VOLTS}
        sent = time.time()
        waiting = arrivals.wait_for(station, sent, bound + 1e-6)
        answer = (await client.post("/graphql", json={"query": SET, "variables": variables}, headers=headers)).json()
        answered.append(time.time() - sent)
        assert not answer.get("errors") and not answer["data"]["setConstraint"]["errors"], answer
        try:
            latencies.append(await asyncio.wait_for(waiting, 30) - sent)
        except TimeoutError:
            lost += 1
        await asyncio.sleep(1.5)  # the full replan of the site follows; the next trial starts after it
    print(f"  setConstraint's own HTTP answer: {figures(answered)}", file=sys.stderr, flush=True)
    return latencies, lost


def latencies_from_runs(finished: list[float], arrivals: list[Arrival], started: float, ended: float) -> list[float]:
    """A station hears the newest limits only: each profile answers the latest run stored before it arrived."""
    latencies = []
    for arrival in arrivals:
        before = bisect.bisect_right(finished, arrival.at)
        if started <= arrival.at <= ended and before:
            latencies.append(arrival.at - finished[before - 1])
    return latencies


def figures(samples: list[float]) -> str:
    if not samples:
        return "no samples"
    return (
        f"p50 {percentile(samples, 0.5) * 1000:.0f} ms, p99 {percentile(samples, 0.99) * 1000:.0f} ms, "
        f"max {max(samples) * 1000:.0f} ms ({len(samples)} samples)"
    )


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} {five:.1f} {fifteen:.1f} on {os.cpu_count()} cores"


async def main(stations: int, seconds: float, every: float, trials: int) -> None:
    from app.models import OptimizationRun

    context = multiprocessing.get_context("spawn")
    async with bench_database() as bench:
        seeded, ids, poles = await register(bench, stations)
        published = Published()
        async with (
            published.listening(bench.url),
            server_process(bench, control_loop="true") as (client, process),
        ):
            address = str(client.base_url).removeprefix("http://").rstrip("/")
            out, stop_flag = context.Queue(), context.Event()
            simulated = context.Process(target=stations_main, args=(address, ids, out, stop_flag), daemon=True)
            simulated.start()
            arrivals = Arrivals(out)
            pumping = asyncio.create_task(arrivals.pump())
            await asyncio.wait_for(arrivals.ready.wait(), 600)
            print(
                f"{len(ids)} stations connected; the grid limit moves for {seconds:.0f} s", file=sys.stderr, flush=True
            )
            await asyncio.sleep(METER_EVERY_S + 5)  # every station charging, its first profiles in
            started = time.time()
            solver_pids = children(process.pid)
            cpu_before = cpu_seconds(process.pid)
            solver_before = sum(cpu_seconds(p) for p in solver_pids)
            stations_before = cpu_seconds(simulated.pid)
            stop = asyncio.Event()
            replans = asyncio.create_task(replan_forever(bench, seeded.site_pk, stations, every, stop))
            await asyncio.sleep(seconds)
            stop.set()
            changes = await replans
            ended = time.time()
            elapsed = ended - started
            cpu = cpu_seconds(process.pid) - cpu_before
            solver_cpu = sum(cpu_seconds(p) for p in solver_pids) - solver_before
            stations_cpu = cpu_seconds(simulated.pid) - stations_before
            load_replans = load()
            await asyncio.sleep(3)  # the last run's profiles in before the trials start
            print(f"{trials} setConstraint trials", file=sys.stderr, flush=True)
            trial_latencies, lost = await constraint_trials(client, seeded.token, ids, poles, arrivals, trials)
            load_trials = load()
            stop_flag.set()
            await asyncio.wait_for(pumping, 60)
            simulated.join(30)
        async with bench.db.session() as session:
            runs = (
                await session.execute(
                    select(OptimizationRun.finished_at).where(
                        OptimizationRun.site_id == seeded.site_pk,
                        OptimizationRun.created_at >= datetime.fromtimestamp(started, UTC) - timedelta(seconds=5),
                        OptimizationRun.created_at <= datetime.fromtimestamp(ended, UTC),
                    )
                )
            ).all()
    finished = sorted(r.finished_at.timestamp() for r in runs if r.finished_at is not None)
    latencies = latencies_from_runs(finished, arrivals.all, started, ended)
    from_publication = latencies_from_runs(sorted(published.at), arrivals.all, started, ended)
    print(f"{stations} stations, {elapsed:.0f} s, {changes} limit changes, {len(runs)} runs")
    print(
        f"limits published (the run's NOTIFY heard) -> SetChargingProfile at the station: {figures(from_publication)}"
    )
    print(f"  (target p99 <= 500 ms); {load_replans}")
    print(f"run finishedAt (before its write) -> SetChargingProfile at the station: {figures(latencies)}")
    print(
        f"setConstraint (HTTP) -> SetChargingProfile at or under the new bound: {figures(trial_latencies)}"
        f"{f', {lost} not within 30 s' if lost else ''} (target 1 s); {load_trials}"
    )
    print(
        f"the stations' event loop (their own process) wakes late by p50 {percentile(arrivals.lags, 0.5) * 1000:.0f} ms,"
        f" p99 {percentile(arrivals.lags, 0.99) * 1000:.0f} ms (included in the latencies above)"
        if arrivals.lags
        else "no loop-lag samples from the stations"
    )
    print(
        f"server process CPU: {cpu / elapsed * 100:.1f} % of a core in all, "
        f"{cpu / elapsed / stations * 1000:.2f} ms of CPU per second per station; "
        f"solver processes {solver_cpu / elapsed * 100:.1f} % of a core; "
        f"the stations' process {stations_cpu / elapsed * 100:.1f} %"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stations", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--replan-every", type=float, default=5.0)
    parser.add_argument("--trials", type=int, default=30)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.stations, arguments.seconds, arguments.replan_every, arguments.trials))
