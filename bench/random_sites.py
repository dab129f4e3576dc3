"""A seeded family of random sites, shapes the bench's own sites were not made for (issue 17).

`random_site(seed, cars)` draws, from `seed` alone: a collector tree of depth 1-3 (three-phase boards with
rotated phase names, single-phase children hung on a parent phase, now and then a transformer with another
voltage), poles on every level (single-phase on 1P boards, rotated pin mappings elsewhere), fuses between a
third and all of what the poles under them could draw, 0-2 batteries with priorities and state-of-charge
policies (some ending on a value per kWh), cars with price limits and full autonomy, PV and load forecasts,
measurements of now, a peak price on some sites and external import/export limits on others. 96 steps of
15 minutes. `new_measurements` gives the same site a few minutes later (new measurements, forecasts moved,
cars a little further along), the control loop's usual re-solve.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np

from solver import (
    Battery,
    BatteryPolicy,
    ChargingPole,
    ChargingSession,
    Collector,
    ExternalLimits,
    ForecastedSeries,
    LoadMeasurement,
    OptimizationConfig,
    PinToPhaseMapping,
    Problem,
)

START = datetime(2025, 3, 10, 6, 0, tzinfo=UTC)
STEPS = 96
PHASES = ("L1", "L2", "L3")
ROTATIONS = (("L1", "L2", "L3"), ("L2", "L3", "L1"), ("L3", "L1", "L2"))
POLES_PER_BOARD = 10


def _tree(rng: np.random.Generator, cars: int) -> list[Collector]:
    """The main board and ~cars/10 boards over 1-3 levels below it; below level 1 a third are single-phase."""
    depth = int(rng.integers(1, 4))
    boards = max(cars // POLES_PER_BOARD, 1)
    counts = np.diff(np.linspace(0, boards, depth + 1).round().astype(int))
    collectors = [Collector("main", line_current=1.0, phase_voltage=230.0)]
    level = [collectors[0]]
    for d, count in enumerate(counts, start=1):
        made: list[Collector] = []
        for _ in range(max(int(count), 1)):
            parent = level[int(rng.integers(len(level)))]
            name = f"c{len(collectors)}"
            if parent.kind == "1P" or (d > 1 and rng.random() < 1 / 3):
                phase = (parent.phase or "L1") if parent.kind == "1P" else str(rng.choice(PHASES))
                child = Collector(name, 1.0, parent.phase_voltage, parent_id=parent.id, kind="1P", phase=phase)
            else:
                voltage = parent.phase_voltage if rng.random() > 0.05 else 400.0
                permutation = dict(zip(PHASES, ROTATIONS[int(rng.integers(3))], strict=True))
                child = Collector(name, 1.0, voltage, parent_id=parent.id, phase_permutations=permutation)
            collectors.append(child)
            made.append(child)
        level = made
    return collectors


def _poles(rng: np.random.Generator, collectors: list[Collector], cars: int) -> list[ChargingPole]:
    """Poles spread over every board but the main one (its own phases carry forecasts and batteries)."""
    boards = [c for c in collectors if c.parent_id is not None] or collectors
    poles = []
    for c in range(cars):
        board = boards[int(rng.integers(len(boards)))]
        if board.kind == "1P":
            mapping = PinToPhaseMapping(("pin1",), (board.phase or "L1",))
        elif rng.random() < 0.2:
            mapping = PinToPhaseMapping(("pin1",), (str(rng.choice(PHASES)),))
        else:
            mapping = PinToPhaseMapping(("pin1", "pin2", "pin3"), ROTATIONS[int(rng.integers(3))])
        poles.append(ChargingPole(f"pole{c}", board.id, 32.0, mapping))
    return poles


def _size_fuses(rng: np.random.Generator, collectors: list[Collector], poles: list[ChargingPole]) -> list[Collector]:
    """Each fuse a random third to all of the most that the poles below it could draw on one phase."""
    by_id = {c.id: c for c in collectors}
    draw = dict.fromkeys(by_id, 0.0)
    for pole in poles:
        node: Collector | None = by_id[pole.collector_id]
        ratio = 1.0
        while node is not None:
            draw[node.id] += pole.line_current * ratio
            parent = by_id.get(node.parent_id or "")
            ratio *= node.phase_voltage / parent.phase_voltage if parent is not None else 1.0
            node = parent
    tightness = float(rng.uniform(0.35, 1.0))
    sized = []
    for c in collectors:
        share = draw[c.id] / (1.0 if c.kind == "1P" else 3.0)
        fuse = max(16.0, round(share * tightness * float(rng.uniform(0.7, 1.3))))
        sized.append(replace(c, line_current=fuse + (200.0 if c.parent_id is None else 0.0)))
    return sized


def _session(rng: np.random.Generator, pole: ChargingPole, index: int) -> ChargingSession | None:
    if rng.random() < 0.1:
        return None
    pins = pole.pin_to_phase_mapping.pin_list
    leave = None if rng.random() < 0.1 else int(rng.integers(8, STEPS + 1))
    car_max = 32.0 if len(pins) == 1 or rng.random() < 1 / 3 else 16.0
    dwell_h = (STEPS if leave is None else leave) / 4
    energy = float(rng.uniform(3_000, 40_000))
    if rng.random() < 0.8:
        energy = min(energy, 0.8 * car_max * 230.0 * len(pins) * dwell_h)
    return ChargingSession(
        pole.id,
        pins,
        energy_needed_Wh=energy,
        leave_time=None if leave is None else START + timedelta(minutes=15 * leave),
        energy_delivered_Wh=float(rng.uniform(0, 10_000)),
        price_limit=float(rng.uniform(0.1, 0.3)) if rng.random() < 0.15 else None,
        full_autonomy=bool(rng.random() < 0.08),
        max_current_per_phase_A=car_max,
        ac_min_current_A=float(rng.choice((6.0, 6.0, 8.0))),
    )


def _batteries(rng: np.random.Generator, cars: int) -> list[Battery]:
    batteries = []
    for b in range(int(rng.integers(0, 3))):
        policies = tuple(
            BatteryPolicy((int(rng.integers(4, STEPS)),), float(low), float(low + rng.uniform(10, 60)))
            for low in rng.uniform(10, 40, int(rng.integers(0, 3)))
        )
        batteries.append(
            Battery(
                f"battery{b}",
                "main",
                maximum_charging_power_W=float(rng.uniform(20, 80)) * cars,
                maximum_discharging_power_W=float(rng.uniform(20, 80)) * cars,
                capacity_Wh=float(rng.uniform(100, 400)) * cars,
                initial_soc_percent=float(rng.uniform(10, 90)),
                charging_priority=int(rng.integers(1, 11)),
                discharging_priority=int(rng.integers(1, 11)),
                policies=policies,
                end_value_per_kWh=float(rng.uniform(0.05, 0.2)) if rng.random() < 0.3 else None,
            )
        )
    return batteries


def _external(rng: np.random.Generator, cars: int) -> ExternalLimits:
    if rng.random() < 0.5:
        return ExternalLimits()
    limited = rng.random(STEPS) < 0.4
    import_power = np.where(limited, float(rng.uniform(2_000, 8_000)) * cars, math.inf)
    export_power = np.where(rng.random(STEPS) < 0.3, float(rng.uniform(200, 2_000)) * cars, math.inf)
    return ExternalLimits(import_power_W=import_power, export_power_W=export_power if rng.random() < 0.5 else None)


def random_site(seed: int, cars: int) -> Problem:
    """One member of the family; the same (seed, cars) gives the same site."""
    rng = np.random.default_rng([seed, cars])
    collectors = _tree(rng, cars)
    poles = _poles(rng, collectors, cars)
    collectors = _size_fuses(rng, collectors, poles)
    sessions = [s for i, p in enumerate(poles) if (s := _session(rng, p, i)) is not None]
    hours = 6 + np.arange(STEPS) / 4
    pv_peak = float(rng.uniform(0, 3_000)) * cars
    pv = -np.clip(np.sin((hours - 6) / 14 * math.pi), 0, None) * pv_peak
    load = float(rng.uniform(100, 600)) * cars * (0.6 + 0.4 * np.sin((hours - 9) / 24 * 2 * math.pi) ** 2)
    forecasts = (
        ForecastedSeries("pv", "main", "pv", line_current=20.0 * cars, total_W=pv),
        ForecastedSeries("load", "main", "load", line_current=20.0 * cars, total_W=load),
    )
    daily = 0.25 + 0.12 * np.sin((hours - 7) / 24 * 2 * math.pi) + 0.08 * np.sin((hours - 17) / 12 * 2 * math.pi)
    import_price = np.round(daily + rng.normal(0, 0.03, STEPS), 4)
    peak = bool(rng.random() < 0.4)
    config = OptimizationConfig(
        step=timedelta(minutes=15),
        horizon=timedelta(hours=24),
        time_limit_s=120.0,
        peak_minimization=peak,
        peak_price_per_kW=float(rng.uniform(1, 10)) if peak else 0.0,
        peak_already_reached_W=float(rng.uniform(0, 1_000)) * cars if peak else 0.0,
    )
    measurements = (
        LoadMeasurement("load", power_W=float(load[0] * rng.uniform(0.9, 1.1))),
        LoadMeasurement("pv", power_W=float(pv[0] * rng.uniform(0.9, 1.1))),
    )
    return Problem(
        start=START,
        collectors=tuple(collectors),
        poles=tuple(poles),
        forecasts=forecasts,
        batteries=tuple(_batteries(rng, cars)),
        sessions=tuple(sessions),
        measurements=measurements,
        external_limits=_external(rng, cars),
        import_price=import_price,
        export_price=np.round(import_price * float(rng.uniform(0.3, 0.9)), 4),
        config=config,
    )


def new_measurements(problem: Problem, seed: int) -> Problem:
    """The same site a moment later: measured load and PV moved, forecasts 5 % up, cars 1 kWh further along."""
    rng = np.random.default_rng(seed + 1_000_003)
    pv, load = problem.forecasts
    forecasts = (pv, replace(load, total_W=np.asarray(load.total_W) * 1.05))
    measurements = tuple(
        replace(m, power_W=(m.power_W or 0.0) * float(rng.uniform(0.8, 1.2))) for m in problem.measurements
    )
    sessions = tuple(
        replace(
            s,
            energy_needed_Wh=max(s.energy_needed_Wh - 1_000.0, 0.0),
            energy_delivered_Wh=s.energy_delivered_Wh + 1_000.0,
        )
        for s in problem.sessions
    )
    return replace(problem, forecasts=forecasts, measurements=measurements, sessions=sessions)
