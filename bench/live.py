"""Live control latency: from a mutation to the subscription message carrying the new limits, for a 10-pole
site (the solve included), and the time one event takes to reach 1,000 subscribers on one process.

    .venv/bin/python bench/live.py [--samples 40] [--subscribers 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.demo import DEMO_CONFIGURATION  # noqa: E402
from bench.harness import bench_database, global_id, percentile, seed_site, server  # noqa: E402

LIMITS = "subscription($s: ID!) { enforcedLimits(siteId: $s) { uuid validUntil limitsRootSide { acMaxCurrentA totalPowerW } } }"
SET = """mutation($d: ID!, $at: DateTime!, $max: Float) {
  setConstraint(deviceId: $d, priority: 5, invalidAt: $at, maxActivePower: $max) { errors { message } } }"""
START = "mutation($d: ID!, $pins: [Pin!]!) { startChargingSession(deviceId: $d, usedChargingPins: $pins) { errors { message } } }"


def ten_poles() -> dict:
    document = copy.deepcopy(DEMO_CONFIGURATION)
    document["collector_list"][0]["line_current"] = 125
    for i in range(6):
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


async def seed(bench) -> tuple[str, str, list[tuple[str, list[str]]]]:
    seeded = await seed_site(bench, ten_poles())
    poles = [(global_id("ChargingPole", r.id), [p.upper() for p in r.pin_list]) for r in seeded.devices if r.pin_list]
    return seeded.token, global_id("Site", seeded.site_pk), poles


class Subscriber:
    """graphql-transport-ws by hand: light enough to open a thousand of them from one process."""

    def __init__(self, address: str, token: str, site: str) -> None:
        self.address, self.token, self.site = address, token, site
        self.arrivals: list[float] = []
        self.ready = asyncio.Event()
        self.second = asyncio.Event()
        self.websocket = None

    async def run(self) -> None:
        async with websockets.connect(
            f"ws://{self.address}/graphql", subprotocols=["graphql-transport-ws"], max_size=None
        ) as ws:
            self.websocket = ws
            await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {self.token}"}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(
                json.dumps(
                    {"id": "1", "type": "subscribe", "payload": {"query": LIMITS, "variables": {"s": self.site}}}
                )
            )
            async for raw in ws:
                message = json.loads(raw)
                if message["type"] == "next":
                    self.arrivals.append(time.perf_counter())
                    self.ready.set()
                    if len(self.arrivals) >= 2:
                        self.second.set()
                elif message["type"] == "ping":
                    await ws.send(json.dumps({"type": "pong"}))


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--subscribers", type=int, default=1000)
    args = parser.parse_args()
    async with bench_database() as bench:
        token, site, poles = await seed(bench)
        headers = {"Authorization": f"Bearer {token}"}
        async with server(bench) as client:
            address = str(client.base_url).removeprefix("http://").rstrip("/")

            async def post(query: str, variables: dict) -> None:
                body = (
                    await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
                ).json()
                assert "errors" not in body and not any(v.get("errors") for v in body["data"].values()), body

            for pole, pins in poles:
                await post(START, {"d": pole, "pins": pins})
            poles = [pole for pole, _ in poles]
            one = Subscriber(address, token, site)
            task = asyncio.create_task(one.run())
            await asyncio.wait_for(one.ready.wait(), 30)
            await asyncio.sleep(1.0)
            until = (datetime.now(UTC) + timedelta(hours=3)).isoformat()
            latencies = []
            for k in range(args.samples):
                seen = len(one.arrivals)
                sent = time.perf_counter()
                await post(SET, {"d": poles[k % len(poles)], "at": until, "max": 3000.0 + 100 * k})
                while len(one.arrivals) == seen:
                    await asyncio.sleep(0.001)  # one subscriber: polling costs nothing here
                latencies.append(one.arrivals[seen] - sent)
                await asyncio.sleep(0.2)
            task.cancel()

            many = [Subscriber(address, token, site) for _ in range(args.subscribers)]
            tasks = []
            for chunk in range(0, len(many), 100):
                tasks += [asyncio.create_task(s.run()) for s in many[chunk : chunk + 100]]
                await asyncio.gather(*(s.ready.wait() for s in many[chunk : chunk + 100]))
            await asyncio.sleep(1.0)
            sent = time.perf_counter()
            sent_wall = datetime.now(UTC)
            await post(SET, {"d": poles[0], "at": until, "max": 2500.0})
            posted = time.perf_counter()
            await asyncio.wait_for(asyncio.gather(*(s.second.wait() for s in many)), 60)
            runs = (
                await client.post(
                    "/graphql",
                    json={
                        "query": "query($s: ID!) { node(id: $s) { ... on Site { schedule { createdAt finishedAt trigger } } } }",
                        "variables": {"s": site},
                    },
                    headers=headers,
                )
            ).json()
            run = runs["data"]["node"]["schedule"]
            print(
                "mutation answered after",
                round((posted - sent) * 1e3),
                "ms; run",
                run["trigger"],
                "started",
                round((datetime.fromisoformat(run["createdAt"]) - sent_wall).total_seconds() * 1e3),
                "ms, finished",
                round((datetime.fromisoformat(run["finishedAt"]) - sent_wall).total_seconds() * 1e3),
                "ms after the mutation",
            )
            last = max(s.arrivals[1] for s in many)
            first = min(s.arrivals[1] for s in many)
            for t in tasks:
                t.cancel()

    print(f"live limits, 10-pole site, one uvicorn worker ({os.cpu_count()} cores):")
    print(
        f"  mutation -> subscription message (solve included): p50 {percentile(latencies, 0.5) * 1e3:.0f} ms, p99 {percentile(latencies, 0.99) * 1e3:.0f} ms over {len(latencies)} mutations"
    )
    print(
        f"  one event to {len(many)} subscribers on one process: {(last - first) * 1e3:.0f} ms from first to last arrival, {(last - sent) * 1e3:.0f} ms from the mutation"
    )


if __name__ == "__main__":
    asyncio.run(main())
