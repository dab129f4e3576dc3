"""Benchmark the optimizer on generated sites: build, compile, solve, total and re-solve seconds.

Run from anywhere: /work/main/.venv/bin/python bench/solver.py [N ...]
A site with N cars: 96 steps of 15 min, N/10 three-phase sub-boards with rotated phases (each
also renaming its phases towards the main board), a fifth of the cars single-phase, one PV and one
load forecast, one battery, day-ahead-like prices. The re-solve swaps in new prices and reuses the
compiled model.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from solver import (  # noqa: E402
    Battery,
    ChargingPole,
    ChargingSession,
    Collector,
    CompiledModel,
    ForecastedSeries,
    OptimizationConfig,
    PinToPhaseMapping,
    Problem,
)

START = datetime(2025, 6, 2, 0, 0, tzinfo=UTC)
STEPS = 96
ROTATIONS = (("L1", "L2", "L3"), ("L2", "L3", "L1"), ("L3", "L1", "L2"))


def prices(rng: np.random.Generator) -> np.ndarray:
    hours = np.arange(STEPS) / 4
    daily = 0.25 + 0.12 * np.sin((hours - 7) / 24 * 2 * math.pi) + 0.08 * np.sin((hours - 17) / 12 * 2 * math.pi)
    return np.round(daily + rng.normal(0, 0.02, STEPS), 4)


def generate_site(cars: int, seed: int = 1) -> Problem:
    rng = np.random.default_rng(seed)
    boards = max(cars // 10, 1)
    collectors = [Collector("main", line_current=max(63.0, 10.0 * cars), phase_voltage=230.0)]
    for b in range(boards):
        rotation = ROTATIONS[b % 3]
        collectors.append(
            Collector(
                f"board{b}",
                line_current=63.0,
                parent_id="main",
                phase_permutations=dict(zip(("L1", "L2", "L3"), rotation, strict=True)),
            )
        )
    poles, sessions = [], []
    for c in range(cars):
        board = f"board{c % boards}"
        rotation = ROTATIONS[(c // boards) % 3]
        single = c % 5 == 0
        pins = ("pin1",) if single else ("pin1", "pin2", "pin3")
        mapping = PinToPhaseMapping(pins, rotation[: len(pins)])
        poles.append(ChargingPole(f"pole{c}", board, 32.0, mapping))
        leave = START + timedelta(minutes=15 * int(rng.integers(24, STEPS + 1)))
        sessions.append(
            ChargingSession(
                f"pole{c}",
                pins,
                energy_needed_Wh=float(rng.uniform(5_000, 30_000)),
                leave_time=leave,
                price_limit=0.15 if c % 7 == 0 else None,
                full_autonomy=c % 11 == 0,
            )
        )
    hours = np.arange(STEPS) / 4
    pv = -np.clip(np.sin((hours - 6) / 14 * math.pi), 0, None) * 1500.0 * cars
    load = 300.0 * cars * (0.6 + 0.4 * np.sin((hours - 9) / 24 * 2 * math.pi) ** 2)
    forecasts = (
        ForecastedSeries("pv", "main", "pv", line_current=10.0 * cars, total_W=pv),
        ForecastedSeries("load", "main", "load", line_current=10.0 * cars, total_W=load),
    )
    battery = Battery(
        "battery",
        "main",
        maximum_charging_power_W=50.0 * cars,
        maximum_discharging_power_W=50.0 * cars,
        capacity_Wh=200.0 * cars,
        initial_soc_percent=50.0,
    )
    import_price = prices(rng)
    return Problem(
        start=START,
        collectors=tuple(collectors),
        poles=tuple(poles),
        forecasts=forecasts,
        batteries=(battery,),
        sessions=tuple(sessions),
        import_price=import_price,
        export_price=np.round(import_price * 0.4, 4),
        config=OptimizationConfig(step=timedelta(minutes=15), horizon=timedelta(hours=24), time_limit_s=60.0),
    )


def run(cars: int) -> dict[str, float]:
    problem = generate_site(cars)
    started = time.perf_counter()
    model = CompiledModel(problem)
    first = model.solve(problem)
    wall = time.perf_counter() - started
    new_prices = np.roll(np.asarray(problem.import_price), 8)
    again = replace(problem, import_price=new_prices, export_price=np.round(new_prices * 0.4, 4))
    started = time.perf_counter()
    second = model.solve(again)
    resolve = time.perf_counter() - started
    assert not second.timings.recompiled, "the re-solve recompiled"
    t = first.timings
    return {
        "cars": cars,
        "car_steps": model.layout.car_steps,
        "build": t.build_s,
        "compile": t.compile_s,
        "solve": t.solve_s,
        "total": t.build_s + t.compile_s + t.solve_s,
        "enforce": t.enforce_s,
        "wall": wall,
        "resolve": resolve,
        "objective": first.objective or float("nan"),
        "status": first.status,
    }


def main(sizes: list[int]) -> None:
    header = (
        f"{'N':>5} {'car-steps':>9} {'build s':>8} {'compile s':>9} {'solve s':>8} {'total s':>8} "
        f"{'enforce s':>9} {'wall s':>7} {'re-solve s':>10} {'objective':>12}  status"
    )
    print(header)
    for cars in sizes:
        row = run(cars)
        print(
            f"{row['cars']:>5} {row['car_steps']:>9} {row['build']:>8.3f} {row['compile']:>9.3f} "
            f"{row['solve']:>8.3f} {row['total']:>8.3f} {row['enforce']:>9.3f} {row['wall']:>7.3f} "
            f"{row['resolve']:>10.3f} {row['objective']:>12.2f}  {row['status']}"
        )
    print(
        "total = build + compile + solve (the LP); enforce = current-instant MILP, binding limits, result "
        "assembly; wall = everything for the first solve; re-solve = wall of a solve with new prices."
    )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10, 50, 200, 1000, 5000])
