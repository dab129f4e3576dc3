"""Our presolve (solver.reduction) hands HiGHS the same LP: the aggregates it substitutes out could not bind, the
expanded answer is a solution of the whole LP at its optimum, and its duals price every column as the whole LP's
would (the binding limits read them)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.append(str(BENCH))  # after the project root: bench/solver.py is not the solver package

from random_sites import random_site  # noqa: E402
from solver_helpers import fresh_optimum  # noqa: E402

from solver import CompiledModel  # noqa: E402
from solver.highs_basis import StartingBasisHighs  # noqa: E402
from solver.linear import LinearProgram  # noqa: E402
from solver.numbers import compute_numbers  # noqa: E402

SITES = ((0, 40), (1, 40), (3, 40), (5, 40), (0, 100), (3, 100))
FEASIBLE = 1e-6


def _model(seed: int, cars: int) -> tuple[CompiledModel, LinearProgram]:
    problem = random_site(seed, cars)
    model = CompiledModel(problem)
    linear = model._model  # the LP itself is what is checked here
    linear.set_numbers(compute_numbers(model.layout))
    return model, linear.lp


@pytest.mark.parametrize(("seed", "cars"), SITES, ids=lambda v: str(v))
def test_the_reduced_lp_answers_the_whole_lp(seed: int, cars: int) -> None:
    model, lp = _model(seed, cars)
    linear = model._model
    assert linear.aggregate is not None
    held = StartingBasisHighs((), reducible=(linear.aggregate, "aggregate"))
    status, found = held.solve(lp, 60.0)
    assert status == "optimal" and found is not None
    reduction = held._reduction
    assert reduction is not None and reduction.gone_columns.size > 0, "some fuse could not bind"
    assert lp.matrix is not None
    assert reduction.matrix.shape[0] < lp.matrix.shape[0]
    assert found.objective == pytest.approx(fresh_optimum(lp), rel=1e-7, abs=1e-7)
    rows = lp.matrix @ found.x
    assert np.all(rows >= lp.row_lower - FEASIBLE) and np.all(rows <= lp.row_upper + FEASIBLE)
    assert np.all(found.x >= lp.col_lower - FEASIBLE) and np.all(found.x <= lp.col_upper + FEASIBLE)
    assert float(lp.cost @ found.x) == pytest.approx(found.objective, rel=1e-9, abs=1e-9)
    np.testing.assert_allclose(lp.cost - lp.matrix.T @ found.row_dual, found.col_dual, atol=1e-6)
    gone = reduction.gone_columns
    upper, lower = lp.col_upper[gone], lp.col_lower[gone]
    assert np.all((found.x[gone] < upper - 1e-9) & (found.x[gone] > lower + 1e-9)), "a substituted fuse bound"


def test_a_re_solve_keeps_the_last_reduction_while_what_it_took_out_cannot_bind() -> None:
    model, lp = _model(0, 100)
    linear = model._model
    assert linear.aggregate is not None
    held = StartingBasisHighs((), reducible=(linear.aggregate, "aggregate"))
    held.solve(lp, 60.0)
    first, reduction = held.optimal, held._reduction
    assert reduction is not None
    kept = np.setdiff1d(np.arange(linear.aggregate.size), reduction.gone)[0]
    column = linear.aggregate.first + kept
    lp.col_lower[column], lp.col_upper[column] = -1e9, 1e9  # a fuse that could bind cannot any more
    status, found = held.solve(lp, 60.0)
    assert status == "optimal" and found is not None
    assert held._reduction is reduction and held.optimal is first, "resumed with the same reduction"
    assert found.objective == pytest.approx(fresh_optimum(lp), rel=1e-7, abs=1e-7)
    lp.col_lower[reduction.gone_columns[0]], lp.col_upper[reduction.gone_columns[0]] = 0.0, 0.0  # now it binds
    status, found = held.solve(lp, 60.0)
    assert status == "optimal" and found is not None
    again = held._reduction
    assert again is not None and again is not reduction, "reduced afresh"
    assert reduction.gone[0] not in again.gone and np.isin(again.gone, reduction.gone).all(), "only put back"
    assert found.objective == pytest.approx(fresh_optimum(lp), rel=1e-7, abs=1e-7)
    carried = held.iterations
    cold = StartingBasisHighs((), reducible=(linear.aggregate, "aggregate"))
    cold.solve(lp, 60.0)
    assert carried < cold.iterations / 4, "started from the held optimum, not the cold basis"
