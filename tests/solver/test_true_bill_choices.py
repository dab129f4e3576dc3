"""The true bill skips the import-or-export choices that cannot be feasible, and finds the same optimum.

At a step where import is cheaper than export, the true bill tries the LP with export closed and with import
closed. Where the non-controllable load alone imports whatever the devices do (refine's lower bound on the grid's
net power), closing import is infeasible: that LP is not run. The bound must be a true lower bound, and skipping
must leave the answer of the MILP over the same choices (refine's fallback, solved without the shortcut).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.append(str(BENCH))  # after the project root: bench/solver.py is not the solver package

from random_sites import random_site  # noqa: E402

import solver.refine as refine  # noqa: E402
from solver import CompiledModel  # noqa: E402
from solver.numbers import compute_numbers  # noqa: E402

SKIPPING = ((2, 20), (5, 20), (2, 40), (7, 40))
"""Small family members with 1-2 inverted-price steps where the load alone imports (found by searching seeds)."""


@pytest.mark.parametrize(("seed", "cars"), [(seed, cars) for seed in range(8) for cars in (20, 40)], ids=str)
def test_the_lowest_grid_power_is_below_the_planned_grid_power(seed: int, cars: int) -> None:
    problem = random_site(seed, cars)
    model = CompiledModel(problem)
    result = model.solve(problem)
    assert result.status == "optimal"
    lowest = refine._lowest_grid_kW(model._model, compute_numbers(model.layout))
    grid_kW = (result.grid.import_power_W - result.grid.export_power_W) / 1000
    assert (grid_kW >= lowest - 1e-6).all()


@pytest.mark.parametrize(("seed", "cars"), SKIPPING, ids=str)
def test_skipping_infeasible_choices_keeps_the_true_bill_optimum(seed: int, cars: int, monkeypatch: Any) -> None:
    problem = random_site(seed, cars)
    numbers = compute_numbers(CompiledModel(problem).layout)
    steps = refine.inverted_steps(numbers)
    assert steps.size and (refine._lowest_grid_kW(CompiledModel(problem)._model, numbers)[steps] > 0).any()
    runs: list[int] = []
    choose = refine._best_sign_choice

    def counted(*args: Any, **kwargs: Any) -> Any:
        chosen = choose(*args, **kwargs)
        runs.append(1)
        return chosen

    monkeypatch.setattr(refine, "_best_sign_choice", counted)
    fast = CompiledModel(problem).solve(problem)
    assert runs, "the enumerated choices ran"
    monkeypatch.setattr(refine, "ENUMERATED_STEPS", 0)  # the MILP over the same binaries instead
    milp = CompiledModel(problem).solve(problem)
    assert fast.status == milp.status == "optimal"
    assert fast.objective == pytest.approx(milp.objective, rel=1e-6, abs=1e-6)
    np.testing.assert_allclose(fast.cost.energy, milp.cost.energy, rtol=1e-6, atol=1e-6)
