"""Re-solves that start from the last optimal basis, and the current-instant decision."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from solver_helpers import START, hourly, pole, session, single_collector

from solver import Collector, CompiledModel, ForecastedSeries, Problem, solve
from solver.assemble import Plan
from solver.instant import decide_instant
from solver.layout import build_layout
from solver.numbers import compute_numbers

STEPS = 24


def _car_park() -> Problem:
    """Twelve cars on two boards under a main fuse that binds in the cheap hours."""
    collectors = (
        Collector("main", 63.0, 230.0),
        Collector("a", 40.0, parent_id="main"),
        Collector("b", 40.0, parent_id="main", phase_permutations={"L1": "L2", "L2": "L3", "L3": "L1"}),
    )
    poles = tuple(pole(f"p{i}", "ab"[i % 2]) for i in range(12))
    sessions = tuple(session(f"p{i}", energy_Wh=8_000.0 + 1_500.0 * i, leave_hours=8 + i) for i in range(12))
    prices = 0.2 + 0.1 * np.sin(np.arange(STEPS) / 4)
    return Problem(
        start=START,
        collectors=collectors,
        poles=poles,
        forecasts=(ForecastedSeries("house", "main", "load", 63.0, total_W=np.full(STEPS, 4_000.0)),),
        sessions=sessions,
        import_price=prices,
        export_price=prices * 0.4,
        config=hourly(STEPS),
    )


def test_a_new_forecast_resumes_from_the_last_basis_and_new_prices_start_afresh() -> None:
    problem = _car_park()
    model = CompiledModel(problem)
    model.solve(problem)

    busier = replace(problem, forecasts=(replace(problem.forecasts[0], total_W=np.full(STEPS, 6_000.0)),))
    resumed, fresh = model.solve(busier), solve(busier)
    assert resumed.objective == pytest.approx(fresh.objective, rel=1e-9)
    assert resumed.timings.lp_iterations < fresh.timings.lp_iterations / 2

    repriced = replace(busier, import_price=np.roll(problem.import_price, 6))
    again, fresh = model.solve(repriced), solve(repriced)
    assert again.objective == pytest.approx(fresh.objective, rel=1e-9)
    assert again.timings.lp_iterations == fresh.timings.lp_iterations


def _instant(fuse: float, planned: list[float]) -> np.ndarray:
    """decide_instant for cars on one single-phase board, each planned at `planned` A now."""
    problem = Problem(
        start=START,
        collectors=single_collector(fuse),
        poles=tuple(pole(f"p{i}", "main", ("L1",)) for i in range(len(planned))),
        sessions=tuple(session(f"p{i}", ("pin1",), energy_Wh=5_000.0) for i in range(len(planned))),
        import_price=[0.3] * 2,
        export_price=[0.0] * 2,
        config=hourly(2),
    )
    layout = build_layout(problem)
    current = np.zeros(layout.car_steps)
    current[layout.offsets[:-1]] = planned
    plan = Plan(current, np.zeros((0, 2)), np.zeros((0, 3)))
    return decide_instant(layout, compute_numbers(layout), plan).car_current


def test_each_car_takes_its_nearest_allowed_current_when_all_of_them_fit() -> None:
    np.testing.assert_allclose(_instant(63.0, [4.0, 2.0, 10.0, 0.0]), [6.0, 0.0, 10.0, 0.0])


def test_when_rounding_up_overloads_the_fuse_one_car_gets_the_planned_amps_of_both() -> None:
    currents = _instant(10.0, [4.0, 4.5])
    np.testing.assert_allclose(currents, [0.0, 8.5])
