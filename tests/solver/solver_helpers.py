"""Builders and INDEPENDENT checks for the solver tests.

The checks re-derive the phase physics from the input dataclasses alone (walking the collector
tree), never from solver internals, so a bug in the solver's matrices cannot hide itself.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import highspy as hp
import numpy as np

from solver import ChargingPole, ChargingSession, Collector, OptimizationConfig, PinToPhaseMapping, Problem, Result
from solver.highs_basis import Arrays, pass_model
from solver.linear import LinearProgram

START = datetime(2025, 1, 6, 0, 0, tzinfo=UTC)
THREE_PINS = ("pin1", "pin2", "pin3")


def pole(
    pole_id: str, collector: str, phases: tuple[str, ...] = ("L1", "L2", "L3"), line_current: float = 32.0
) -> ChargingPole:
    pins = THREE_PINS[: len(phases)]
    return ChargingPole(pole_id, collector, line_current, PinToPhaseMapping(pins, phases))


def session(
    pole_id: str,
    pins: tuple[str, ...] = THREE_PINS,
    energy_Wh: float = 10_000.0,
    leave_hours: float | None = None,
    **extra: object,
) -> ChargingSession:
    leave = None if leave_hours is None else START + timedelta(hours=leave_hours)
    return ChargingSession(pole_id, pins, energy_needed_Wh=energy_Wh, leave_time=leave, **extra)  # type: ignore[arg-type]


def hourly(steps: int, **extra: object) -> OptimizationConfig:
    return OptimizationConfig(step=timedelta(hours=1), horizon=timedelta(hours=steps), **extra)  # type: ignore[arg-type]


def walk_tree(problem: Problem, flows: list[tuple[str, dict[str, np.ndarray]]]) -> dict[tuple[str, str], np.ndarray]:
    """Net current per (collector, phase), by walking each (collector, phase -> current) up the tree."""
    collectors = {c.id: c for c in problem.collectors}
    totals: dict[tuple[str, str], np.ndarray] = defaultdict(lambda: np.zeros(1))
    for device_collector, currents in flows:
        for phase, current in currents.items():
            collector_id, on_phase, flow = device_collector, phase, np.atleast_1d(np.asarray(current, dtype=float))
            while True:
                totals[(collector_id, on_phase)] = totals[(collector_id, on_phase)] + flow
                collector = collectors[collector_id]
                if collector.parent_id is None:
                    break
                parent = collectors[collector.parent_id]
                if collector.kind == "1P":
                    on_phase = collector.phase or on_phase
                else:
                    on_phase = (collector.phase_permutations or {}).get(on_phase, on_phase)
                flow = flow * collector.phase_voltage / parent.phase_voltage
                collector_id = parent.id
    return dict(totals)


def collector_currents(problem: Problem, result: Result) -> dict[tuple[str, str], np.ndarray]:
    """Net current per (collector, phase) per step of the returned schedule."""
    return walk_tree(problem, [(d.collector_id, dict(d.current_A)) for d in result.devices.values()])


def enforced_currents(
    problem: Problem, result: Result, measured: dict[str, dict[str, float]] | None = None
) -> dict[tuple[str, str], np.ndarray]:
    """Net current now if every device draws its enforced limit and the rest its measured (or step-0) value."""
    measured = measured or {}
    enforced = {limit.uuid: limit.limits_root_side.ac_max_current_A for limit in result.enforced_limits}
    counts = {limit.uuid: limit.limits_root_side.ac_max_phase_count for limit in result.enforced_limits}
    pins = {s.device_id: s.used_pins for s in problem.sessions}
    flows = []
    for device in result.devices.values():
        if device.device_id in measured:
            flows.append((device.collector_id, {k: np.array([v]) for k, v in measured[device.device_id].items()}))
        elif device.kind == "charging_pole" and device.device_id not in pins:
            assert enforced.get(device.device_id, 0.0) == 0.0, "a pole without a session gets 0 A"
        elif device.kind == "charging_pole" and device.device_id in enforced:
            phases = charging_phases(problem, device.device_id, counts[device.device_id])
            current: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(1))
            for phase in phases:
                current[phase] = current[phase] + enforced[device.device_id]
            flows.append((device.collector_id, dict(current)))
        elif device.device_id in enforced:
            flows.append((device.collector_id, {p: np.array([enforced[device.device_id]]) for p in device.current_A}))
        else:
            flows.append((device.collector_id, {p: np.array([c[0]]) for p, c in device.current_A.items()}))
    return walk_tree(problem, flows)


def assert_currents_within(
    problem: Problem, currents: dict[tuple[str, str], np.ndarray], tolerance: float = 1e-6
) -> None:
    limits = {c.id: c.line_current for c in problem.collectors}
    for (collector_id, phase), current in currents.items():
        worst = float(np.abs(current).max())
        assert worst <= limits[collector_id] + tolerance, (
            f"{collector_id} {phase}: {worst} A over {limits[collector_id]} A"
        )


def assert_within_limits(problem: Problem, result: Result, tolerance: float = 1e-6) -> None:
    assert_currents_within(problem, collector_currents(problem, result), tolerance)


def charging_phases(problem: Problem, pole_id: str, count: int) -> list[str]:
    """The collector phases a car on `pole_id` draws from with `count` phases: a DC pole every phase of its
    collector; an AC car its used pins in pole pin order, the first `count` of them."""
    pole = next(p for p in problem.poles if p.id == pole_id)
    if pole.dc_max_power_W is not None:
        collector = next(c for c in problem.collectors if c.id == pole.collector_id)
        return ["L1", "L2", "L3"] if collector.kind == "3P" else [collector.phase or "L1"]
    used = next(s.used_pins for s in problem.sessions if s.device_id == pole_id)
    mapping = pole.pin_to_phase_mapping
    return [mapping.phase_of(pin) for pin in mapping.pin_list if pin in used][:count]


def minimum_current(problem: Problem, pole_id: str) -> float:
    """The least current a car on the pole takes when on: its ac_min_current_A, or a DC pole's minimum power."""
    pole = next(p for p in problem.poles if p.id == pole_id)
    if pole.dc_max_power_W is None:
        return next(s.ac_min_current_A for s in problem.sessions if s.device_id == pole_id)
    collector = next(c for c in problem.collectors if c.id == pole.collector_id)
    phases = 3 if collector.kind == "3P" else 1
    return pole.dc_min_power_W / pole.conversion_efficiency / (phases * collector.phase_voltage)


def assert_enforced_min_rule(problem: Problem, result: Result) -> None:
    """0 or at least the minimum, in either direction, on the phase count the limits name."""
    sessions = {s.device_id for s in problem.sessions}
    for limit in result.enforced_limits:
        if limit.uuid in sessions:
            current = abs(limit.limits_root_side.ac_max_current_A)
            assert current == 0.0 or current >= minimum_current(problem, limit.uuid) - 1e-9, (limit.uuid, current)
            assert limit.limits_root_side.ac_max_phase_count == len(
                charging_phases(problem, limit.uuid, limit.limits_root_side.ac_max_phase_count)
            )


def recomputed_energy_cost(problem: Problem, result: Result) -> float:
    hours = problem.step_hours
    grid = result.grid
    return float(
        np.sum(
            grid.import_power_W * np.asarray(problem.import_price)
            - grid.export_power_W * np.asarray(problem.export_price)
        )
        * hours
        / 1000
    )


def single_collector(line_current: float = 32.0, voltage: float = 230.0) -> tuple[Collector, ...]:
    return (Collector("main", line_current, voltage),)


def fresh_optimum(lp: LinearProgram) -> float:
    """The optimum a fresh HiGHS (default options, presolve on) finds for `lp`'s arrays as they stand."""
    assert lp.matrix is not None
    highs = hp.Highs()
    highs.setOptionValue("output_flag", False)
    pass_model(highs, lp.matrix, Arrays.of(lp))
    highs.run()
    assert highs.getModelStatus() == hp.HighsModelStatus.kOptimal
    return float(highs.getInfo().objective_function_value)
