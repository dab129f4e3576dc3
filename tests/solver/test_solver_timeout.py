"""A solve that runs out of time plans with the best it found, then the previous optimized plan shifted, before equal
share (issue 17)."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

import solver.refine as refine
from solver import CompiledModel, Problem
from tests.solver.solver_helpers import assert_enforced_min_rule, assert_within_limits

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.append(str(BENCH))  # bench/solver.py imports its neighbours
_spec = importlib.util.spec_from_file_location("bench_solver_sites", BENCH / "solver.py")
assert _spec is not None and _spec.loader is not None
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)
from random_sites import random_site  # noqa: E402  # bench/ is on the path now

TIMED_OUT = 1e-6
"""A time limit no LP meets."""


def _one_step_later(problem: Problem) -> Problem:
    """The same world one step later: every series moves one step, the last step repeats; no time to solve."""
    step = problem.config.step

    def later(series: object) -> np.ndarray:
        values = np.asarray(series, dtype=float)
        return np.concatenate([values[1:], values[-1:]])

    forecasts = tuple(replace(f, total_W=later(f.total_W)) for f in problem.forecasts)
    return replace(
        problem,
        start=problem.start + step,
        import_price=later(problem.import_price),
        export_price=later(problem.export_price),
        forecasts=forecasts,
        config=replace(problem.config, time_limit_s=TIMED_OUT),
    )


def test_a_timed_out_solve_plans_with_the_previous_plan_shifted() -> None:
    problem = bench.generate_site(200, site="tight")
    model = CompiledModel(problem)
    first = model.solve(problem)
    assert first.plan_source == "optimized" and first.status == "optimal"

    later = _one_step_later(problem)
    rebuilt = CompiledModel(later)  # the windows moved: a new structure, as the worker builds it
    rebuilt.previous_plan = model.previous_plan
    result = rebuilt.solve(later)

    assert result.status.startswith("user_limit")
    assert result.plan_source == "previous_plan" and result.used_fallback
    assert any("previous plan" in w for w in result.warnings)
    assert all(limit.fallback for limit in result.enforced_limits)
    assert_within_limits(later, result)
    assert_enforced_min_rule(later, result)
    shifted = 0
    for device_id, schedule in result.devices.items():
        if schedule.kind == "charging_pole":
            before = first.devices[device_id].power_W[1:]
            now = schedule.power_W[:-1]
            shifted += int(np.allclose(now, before, atol=1e-6))
    assert shifted == len(later.poles), f"{shifted} of {len(later.poles)} poles kept their shifted plan"


def test_without_a_previous_plan_a_timed_out_solve_shares_equally() -> None:
    later = _one_step_later(bench.generate_site(200, site="tight"))
    result = CompiledModel(later).solve(later)
    assert result.plan_source == "equal_share" and result.used_fallback
    assert_within_limits(later, result)
    assert_enforced_min_rule(later, result)


def test_a_solve_timed_out_in_its_full_autonomy_rounds_plans_with_the_last_round(monkeypatch: Any) -> None:
    """The first LP has its time and the deadline passes before the first round: HiGHS itself stops at it."""
    problem = random_site(0, 100)  # full-autonomy cars charging at importing steps in the first LP: rounds follow
    calls: list[float | None] = []
    real = refine._remaining

    def remaining(deadline: float | None) -> float | None:
        calls.append(deadline)
        return real(deadline) if len(calls) == 1 else TIMED_OUT

    monkeypatch.setattr(refine, "_remaining", remaining)
    result = CompiledModel(problem).solve(problem)

    assert len(calls) == 2, "the first LP had conflicting steps and one round was started"
    assert result.status.startswith("user_limit")
    assert result.plan_source == "best_so_far" and not result.used_fallback
    assert any("last full-autonomy round" in w for w in result.warnings)
    assert_within_limits(problem, result)
    assert_enforced_min_rule(problem, result)
    importing = result.grid.import_power_W > 1.0
    autonomous = [s.device_id for s in problem.sessions if s.full_autonomy]
    assert any((result.devices[d].power_W > 1.0).any() for d in autonomous), "they still charge from the surplus"
    for device_id in autonomous:
        charging = result.devices[device_id].power_W > 1.0
        assert not (charging & importing).any(), f"{device_id} charges from the grid although it is fully autonomous"
