"""ECOS and Clarabel on the model's arrays, through cvxpy: the same LP as HiGHS gets, for comparison and as a
choice in the configuration.

cvxpy compiles the matrix form at every solve (one variable vector, three row families and the finite bounds):
these interior-point solvers take far longer than that themselves. Their duals are turned into HiGHS's
convention (solver.linear), so the binding limits read the same numbers whichever solver ran.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np

from solver.linear import LinearProgram, Solution

SOLVED = ("optimal", "optimal_inaccurate")
"""The statuses with a solution to read."""


@dataclass(frozen=True)
class CvxpyRun:
    status: str
    solution: Solution | None
    compile_s: float
    iterations: int


def solve_with_cvxpy(lp: LinearProgram, solver: str, time_limit_s: float) -> CvxpyRun:
    """Solve `lp` with `solver` ("ECOS" or "CLARABEL"); ECOS has no time limit, only an iteration cap."""
    import cvxpy as cp  # only these solvers need it: a HiGHS solve never imports cvxpy

    assert lp.matrix is not None, "the LP was not finished"
    started = time.perf_counter()
    matrix = lp.matrix.tocsr()
    x = cp.Variable(lp.cost.size)
    equal = np.flatnonzero(lp.row_lower == lp.row_upper)
    upper = np.flatnonzero(np.isfinite(lp.row_upper) & (lp.row_lower != lp.row_upper))
    lower = np.flatnonzero(np.isfinite(lp.row_lower) & (lp.row_lower != lp.row_upper))
    families = (
        (equal, matrix[equal] @ x == lp.row_upper[equal], -1.0),
        (upper, matrix[upper] @ x <= lp.row_upper[upper], -1.0),
        (lower, matrix[lower] @ x >= lp.row_lower[lower], 1.0),
    )
    low, high = np.flatnonzero(np.isfinite(lp.col_lower)), np.flatnonzero(np.isfinite(lp.col_upper))
    bounds = [x[low] >= lp.col_lower[low]] if low.size else []
    bounds += [x[high] <= lp.col_upper[high]] if high.size else []
    rows = [constraint for index, constraint, _ in families if index.size]
    problem = cp.Problem(cp.Minimize(lp.cost @ x), rows + bounds)
    options: dict[str, object] = {"max_iters": 500} if solver == "ECOS" else {"time_limit": float(time_limit_s)}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            problem.solve(solver=solver, **options)
    except cp.SolverError as error:
        return CvxpyRun(f"solver_error: {error}", None, time.perf_counter() - started, 0)
    compile_s = float(problem.compilation_time or 0.0)
    status = str(problem.status)
    iterations = int(problem.solver_stats.num_iters or 0) if problem.solver_stats is not None else 0
    if status not in SOLVED or x.value is None or problem.value is None:
        return CvxpyRun(status if problem.value is not None else f"{status}_no_value", None, compile_s, iterations)
    row_dual = np.zeros(lp.row_upper.size)
    for index, constraint, sign in families:
        if index.size and constraint.dual_value is not None:
            row_dual[index] += sign * np.asarray(constraint.dual_value, dtype=float)
    col_dual = lp.cost - matrix.T @ row_dual
    solution = Solution(np.asarray(x.value, dtype=float), row_dual, col_dual, float(problem.value))
    return CvxpyRun(status, solution, compile_s, iterations)
