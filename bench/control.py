"""Closed-loop day of a car park: re-planned every step with what was delivered, forecasts with error.

Run from anywhere: .venv/bin/python bench/control.py [--cars=N] [--error=X] [--seed=S]

The site: a 250 A main board with three rotated 80 A sub-boards, N poles (a fifth single-phase), a 60 kWp PV
roof, an office load, a 100 kWh battery and day-ahead-like prices. Cars arrive through the day (most in the
morning, some at noon, a few in the evening) and leave after 3-10 h wanting 5-40 kWh; one in four belongs to
a fleet of identical vans (same arrival, leave time, need and limits), the comparable cars.

Every 15 minutes the controller plans the site as the app does: the cars plugged in now, each with what it
still needs and what it already received, the latest measured load, forecasts for the rest of the day with
a relative error of `--error` (default 10 %; 0 for exact forecasts). The cars then draw their enforced limit
(no more than they still need) and the battery its enforced power, against the true load. It prints:

- cost against perfect foresight: the day's true bill, against one plan of the whole day knowing every
  arrival and the true forecasts (cars held at 0 before they arrive), both with the energy they delivered;
- charging targets met, of those the perfect-foresight plan meets (feasible ones);
- spread of delivered energy among comparable cars (Wh, and in steps at their minimum current);
- unused headroom while cars wait: car-steps where a car with energy still to take got 0 A although its
  minimum current fitted every limit above it, with the true load and every other device at its limit;
- fuse violations: (collector phase, step) pairs above the line current with the true load;
- fallback runs. Targets (exact forecasts): 100 % of feasible targets, 0, 0, within 2 % of perfect foresight.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
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
    FlexibilityBounds,
    ForecastedSeries,
    LoadMeasurement,
    OptimizationConfig,
    PinToPhaseMapping,
    Problem,
)
from solver.layout import build_layout  # noqa: E402

START = datetime(2025, 6, 2, 0, 0, tzinfo=UTC)
STEP = timedelta(minutes=15)
STEPS = 96
HOURS = STEP / timedelta(hours=1)
ROTATIONS = (("L1", "L2", "L3"), ("L2", "L3", "L1"), ("L3", "L1", "L2"))
MINIMUM_A = 6.0


@dataclass(frozen=True)
class Car:
    pole: int
    arrival: int
    leave: int
    need_Wh: float
    max_A: float
    fleet: int | None


def _site(cars: int) -> tuple[tuple[Collector, ...], tuple[ChargingPole, ...]]:
    collectors = [Collector("main", 250.0)]
    for b in range(3):
        rotation = dict(zip(("L1", "L2", "L3"), ROTATIONS[b], strict=True))
        collectors.append(Collector(f"board{b}", 80.0, parent_id="main", phase_permutations=rotation))
    poles = []
    for c in range(cars):
        pins = ("pin1",) if c % 5 == 4 else ("pin1", "pin2", "pin3")
        mapping = PinToPhaseMapping(pins, ROTATIONS[(c // 3) % 3][: len(pins)])
        poles.append(ChargingPole(f"pole{c}", f"board{c % 3}", 32.0, mapping))
    return tuple(collectors), tuple(poles)


def _cars(rng: np.random.Generator, poles: tuple[ChargingPole, ...]) -> list[Car]:
    cars = []
    fleet = [c for c in range(len(poles)) if c % 4 == 0 and len(poles[c].pin_to_phase_mapping.pin_list) == 3]
    for c, pole in enumerate(poles):
        single = len(pole.pin_to_phase_mapping.pin_list) == 1
        if c in fleet:
            cars.append(Car(c, 30, 70, 30_000.0, 16.0, 0))
            continue
        kind = rng.random()
        arrival = int(rng.integers(28, 40)) if kind < 0.7 else int(rng.integers(44, 56)) if kind < 0.9 else 72
        leave = min(arrival + int(rng.integers(12, 41)), STEPS)
        max_a = 32.0 if single or rng.random() < 1 / 3 else 16.0
        cars.append(Car(c, arrival, leave, float(rng.uniform(5_000, 40_000)), max_a, None))
    return cars


def _profiles(rng: np.random.Generator, error: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """True PV and load (W per step) and the forecasts with a relative error."""
    hours = np.arange(STEPS) * HOURS
    pv = -60_000.0 * np.clip(np.sin((hours - 6) / 14 * math.pi), 0, None) * (1 - 0.3 * rng.random(STEPS) ** 3)
    load = 15_000.0 + 20_000.0 * np.clip(np.sin((hours - 7) / 12 * math.pi), 0, None) + rng.normal(0, 1_000, STEPS)
    pv_forecast = pv * (1 + error * rng.normal(0, 1, STEPS))
    load_forecast = load * (1 + error * rng.normal(0, 1, STEPS))
    return pv, load, np.minimum(pv_forecast, 0.0), np.maximum(load_forecast, 0.0)


def _prices() -> tuple[np.ndarray, np.ndarray]:
    hours = np.arange(STEPS) * HOURS
    daily = 0.25 + 0.12 * np.sin((hours - 7) / 24 * 2 * math.pi) + 0.08 * np.sin((hours - 17) / 12 * 2 * math.pi)
    return np.round(daily, 4), np.round(daily * 0.4, 4)


BATTERY_WH = 100_000.0


def _battery(soc_percent: float) -> Battery:
    return Battery("battery", "main", 50_000.0, 50_000.0, BATTERY_WH, soc_percent)


def _session(car: Car, pole: ChargingPole, delivered: float) -> ChargingSession:
    return ChargingSession(
        pole.id,
        pole.pin_to_phase_mapping.pin_list,
        energy_needed_Wh=max(car.need_Wh - delivered, 0.0),
        energy_delivered_Wh=delivered,
        leave_time=START + car.leave * STEP,
        max_current_per_phase_A=car.max_A,
        ac_min_current_A=MINIMUM_A,
    )


def perfect_foresight(world: World) -> tuple[float, np.ndarray]:
    """One plan of the whole day knowing every arrival and the true load: (its bill, energy per car)."""
    sessions = tuple(_session(car, world.poles[car.pole], 0.0) for car in world.cars)
    held = tuple(
        FlexibilityBounds(world.poles[car.pole].id, max_power_W=0.0, valid_until=START + car.arrival * STEP)
        for car in world.cars
    )
    problem = Problem(
        start=START,
        collectors=world.collectors,
        poles=world.poles,
        forecasts=(
            ForecastedSeries("pv", "main", "pv", 250.0, total_W=world.pv),
            ForecastedSeries("load", "main", "load", 250.0, total_W=world.load),
        ),
        batteries=(_battery(50.0),),
        sessions=sessions,
        flexibility=held,
        import_price=world.import_price,
        export_price=world.export_price,
        config=OptimizationConfig(step=STEP, horizon=STEP * STEPS, time_limit_s=120.0),
    )
    result = CompiledModel(problem).solve(problem)
    delivered = np.array([result.sessions[world.poles[car.pole].id].delivered_Wh for car in world.cars])
    return result.cost.energy, delivered


@dataclass
class World:
    collectors: tuple[Collector, ...]
    poles: tuple[ChargingPole, ...]
    cars: list[Car]
    pv: np.ndarray
    load: np.ndarray
    pv_forecast: np.ndarray
    load_forecast: np.ndarray
    import_price: np.ndarray
    export_price: np.ndarray


@dataclass
class Tally:
    bill: float = 0.0
    fallback_runs: int = 0
    violations: int = 0
    idle_waiting: int = 0
    solve_s: float = 0.0


def _problem(world: World, t: int, delivered: np.ndarray, soc_percent: float) -> Problem:
    left = STEPS - t
    plugged = [car for car in world.cars if car.arrival <= t < car.leave]
    per_phase_now = world.load[t] / 3 / 230.0
    return Problem(
        start=START + t * STEP,
        collectors=world.collectors,
        poles=world.poles,
        forecasts=(
            ForecastedSeries(
                "pv", "main", "pv", 250.0, total_W=np.concatenate([[world.pv[t]], world.pv_forecast[t + 1 :]])
            ),
            ForecastedSeries(
                "load", "main", "load", 250.0, total_W=np.concatenate([[world.load[t]], world.load_forecast[t + 1 :]])
            ),
        ),
        batteries=(_battery(soc_percent),),
        sessions=tuple(
            _session(car, world.poles[car.pole], float(delivered[world.cars.index(car)])) for car in plugged
        ),
        measurements=(
            LoadMeasurement("load", current_per_phase_A=dict.fromkeys(("L1", "L2", "L3"), per_phase_now)),
            LoadMeasurement("pv", power_W=float(world.pv[t])),
        ),
        import_price=world.import_price[t:],
        export_price=world.export_price[t:],
        config=OptimizationConfig(step=STEP, horizon=STEP * left, time_limit_s=60.0),
    )


def _row_currents(problem: Problem, cars: dict[str, float], battery_W: float, fixed_W: float) -> dict[int, float]:
    """Net current per topology row now (the true load and PV split evenly, cars at what they draw)."""
    layout = build_layout(problem)
    topology = layout.topology
    currents = topology.balanced_per_watt("main") * (fixed_W + battery_W)
    for s in layout.sessions:
        currents = currents + topology.injection(s.pole.collector_id, list(s.phases)) * cars.get(s.device_id, 0.0)
    return dict(enumerate(currents))


def _waiting_could_fit(problem: Problem, drawn: dict[str, float], battery_W: float, fixed_W: float) -> int:
    layout = build_layout(problem)
    topology = layout.topology
    base = np.array(list(_row_currents(problem, drawn, battery_W, fixed_W).values()))
    count = 0
    for s in layout.sessions:
        if drawn.get(s.device_id, 0.0) == 0.0 and s.session.energy_needed_Wh > 1.0 and s.max_current_A >= MINIMUM_A:
            added = base + topology.injection(s.pole.collector_id, list(s.phases)) * MINIMUM_A
            if (np.abs(added) <= topology.line_current - 0.01).all():
                count += 1
    return count


def closed_loop(world: World) -> tuple[Tally, np.ndarray]:
    delivered = np.zeros(len(world.cars))
    soc = 50.0
    tally = Tally()
    model: CompiledModel | None = None
    for t in range(STEPS):
        problem = _problem(world, t, delivered, soc)
        if model is None or not model.compatible(problem):
            model = CompiledModel(problem)
        started = time.perf_counter()
        result = model.solve(problem)
        tally.solve_s += time.perf_counter() - started
        tally.fallback_runs += int(result.used_fallback)
        limits = {e.uuid: e.limits_root_side for e in result.enforced_limits}
        drawn: dict[str, float] = {}
        for s in problem.sessions:
            k = next(i for i, car in enumerate(world.cars) if world.poles[car.pole].id == s.device_id)
            wpa = 230.0 * len(s.used_pins)
            # The car draws its limit, or less in the step where it finishes.
            amps = min(limits[s.device_id].ac_max_current_A, s.energy_needed_Wh / (wpa * HOURS))
            drawn[s.device_id] = amps
            delivered[k] += amps * wpa * HOURS
        battery_W = limits["battery"].total_power_W
        efficiency = 0.95 if battery_W >= 0 else 1 / 0.95
        soc = float(np.clip(soc + battery_W * efficiency * HOURS / BATTERY_WH * 100, 0.0, 100.0))
        fixed = float(world.pv[t] + world.load[t])
        rows = _row_currents(problem, drawn, battery_W, fixed)
        limit = build_layout(problem).topology.line_current
        tally.violations += sum(1 for r, amps in rows.items() if abs(amps) > limit[r] + 1e-9)
        tally.idle_waiting += _waiting_could_fit(problem, drawn, battery_W, fixed)
        net = fixed + battery_W + sum(drawn[s.device_id] * 230.0 * len(s.used_pins) for s in problem.sessions)
        price = world.import_price[t] if net > 0 else world.export_price[t]
        tally.bill += net * price * HOURS / 1000
    return tally, delivered


def world(cars: int, error: float, seed: int) -> World:
    rng = np.random.default_rng(seed)
    collectors, poles = _site(cars)
    people = _cars(rng, poles)
    pv, load, pv_forecast, load_forecast = _profiles(rng, error)
    import_price, export_price = _prices()
    return World(collectors, poles, people, pv, load, pv_forecast, load_forecast, import_price, export_price)


def report(label: str, site: World) -> None:
    started = time.perf_counter()
    tally, delivered = closed_loop(site)
    wall = time.perf_counter() - started
    foresight_bill, foresight_delivered = perfect_foresight(site)
    need = np.array([car.need_Wh for car in site.cars])
    feasible = foresight_delivered >= need - 10.0
    met = delivered >= need - 10.0
    fleet = np.array([car.fleet is not None for car in site.cars])
    spread = float(delivered[fleet].max() - delivered[fleet].min()) if fleet.sum() > 1 else 0.0
    one_step = MINIMUM_A * 3 * 230.0 * HOURS
    # Bills compared at equal energy: the closed loop's extra (or missing) car energy priced at the day's mean.
    extra_Wh = float(delivered.sum() - foresight_delivered.sum())
    adjusted = tally.bill - extra_Wh / 1000 * float(np.mean(site.import_price))
    gap = (adjusted - foresight_bill) / abs(foresight_bill) * 100 if foresight_bill else float("nan")
    print(f"{label}")
    print(
        f"  cars {len(site.cars)}, comparable fleet vans {int(fleet.sum())}; closed loop {STEPS} runs in {wall:.1f} s"
    )
    print(
        f"  bill {tally.bill:.2f} (closed loop, {delivered.sum() / 1000:.1f} kWh to cars) against perfect foresight "
        f"{foresight_bill:.2f} ({foresight_delivered.sum() / 1000:.1f} kWh): {gap:+.2f} % at equal energy"
    )
    print(
        f"  feasible targets met: {int((met & feasible).sum())} of {int(feasible.sum())} ({int(met.sum())} met overall)"
    )
    print(f"  spread among comparable cars: {spread:.0f} Wh = {spread / one_step:.2f} steps at the minimum current")
    print(f"  unused headroom while cars wait: {tally.idle_waiting} car-steps")
    print(f"  fuse violations: {tally.violations}; fallback runs: {tally.fallback_runs}")


if __name__ == "__main__":
    arguments = dict(a.lstrip("-").split("=", 1) for a in sys.argv[1:] if "=" in a)
    cars = int(arguments.get("cars", 30))
    seed = int(arguments.get("seed", 3))
    errors = [float(arguments["error"])] if "error" in arguments else [0.0, 0.1]
    for error in errors:
        report(f"forecast error {error:.0%} (seed {seed})", world(cars, error, seed))
