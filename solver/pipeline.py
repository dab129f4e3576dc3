"""cvxpy's solve, step by step, keeping what it needs to read a solver's answer back into the problem.

`Problem.solve` compiles (or applies the parameters), builds the solver's data, solves and unpacks. A re-solve
that moves only a few row bounds in a held HiGHS (refine's full-autonomy rounds) needs none of the first two:
it hands its results to `unpack` with the solving chain and inverse data of the solve before it, so variables,
duals, status and value are set exactly as cvxpy sets them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import cvxpy as cp
from cvxpy.reductions.solvers.solving_chain import SolvingChain

from solver.highs_basis import StartingBasisHighs


@dataclass(frozen=True)
class Chain:
    """The solving chain of a solve and its inverse data (they depend only on the model's structure)."""

    chain: SolvingChain
    inverse_data: list[Any]


def solve_keeping_chain(
    problem: cp.Problem, solver: StartingBasisHighs, options: dict[str, object]
) -> tuple[str, Chain | None]:
    """As `problem.solve(solver=solver, warm_start=False, **options)`; the status and the chain (None on an error)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            data, chain, inverse_data = problem.get_problem_data(solver, solver_opts=dict(options))
            results = chain.solve_via_data(problem, data, False, False, dict(options))
            kept = Chain(chain, inverse_data)
    except cp.SolverError as error:
        return f"solver_error: {error}", None
    return unpack(problem, results, kept), kept


def unpack(problem: cp.Problem, results: dict[str, Any], kept: Chain) -> str:
    """Read a solver's `results` into `problem`; its status, or why the solver failed (as model.run)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            problem.unpack_results(results, kept.chain, kept.inverse_data)
    except cp.SolverError as error:
        return f"solver_error: {error}"
    status = str(problem.status)
    return status if problem.value is not None else f"{status}_no_value"
