"""HiGHS (through cvxpy, as a custom solver) started from a chosen basis instead of the all-slack one.

Cold start: every aggregate basic and the logical of its defining row nonbasic. From the all-slack
basis the dual simplex spent one pivot per aggregate only to bring it into the basis (at N=1000
about 28,000 pivots, three times the rest of the solve). The basis is valid: on the aggregate rows
and columns it is the tree matrix, unit upper triangular (parents are indexed before their
children), and every other row keeps its own logical. It depends only on the model's structure, so
it is built once. The model names two more such pairs (model.LinearModel): each step's import with its grid balance
row and each battery's SoC with its balance row. With import basic the start is dual feasible (export at 0 with
its negative cost made one dual infeasibility per step, a dual phase 1); the random family's first LPs take
5-25 % fewer pivots. (Each session's unmet energy basic in its energy row saved a few % more, but its optimal
vertex left a binding fuse with a zero reduced cost at a step: binding limits read from the duals missed it.)

Re-solve: while the matrix and the costs are those of the last optimal solve (only bounds and
right-hand sides moved: measurements, forecasts, live limits, session energies), that optimal basis
is still dual feasible and the dual simplex goes on from it, often with no pivot at all: in the same HiGHS
instance, whose bounds change in place, so it keeps its factorization too (a fresh instance spent a tenth of a
second at 300 cars refactoring the basis before its first pivot). New costs
(prices) make it a poor start, worse than the cold one (the dual phase 1 undoes it), so those
start cold. Every solve is exact either way; only the starting point differs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import cvxpy as cp
import cvxpy.settings as s
import highspy as hp
import numpy as np
from cvxpy.reductions.solvers.conic_solvers.highs_conif import HIGHS, dims_to_solver_dict, unpack_highs_options_inplace

_STATUS = np.array(
    [hp.HighsBasisStatus.kLower, hp.HighsBasisStatus.kBasic, hp.HighsBasisStatus.kUpper, hp.HighsBasisStatus.kZero],
    dtype=object,
)
LOWER, BASIC, UPPER, ZERO = range(4)


class StartingBasisHighs(HIGHS):
    """cvxpy's HiGHS interface for LPs, started from the cold basis or the last optimal one.

    `defined`: (variable, equality constraint) pairs whose rows define the variable's entries one by
    one; the cold basis has those entries basic and those rows' logicals nonbasic.
    """

    def __init__(self, defined: tuple[tuple[cp.Variable, cp.Constraint], ...]) -> None:
        super().__init__()
        self._defined = defined
        self._first: hp.HighsBasis | None = None
        self._previous: _Optimal | None = None
        self.columns: dict[int, int] = {}
        """First column of each variable (by cvxpy id) in the last LP."""
        self.rows: dict[int, int] = {}
        """First row of each constraint (by cvxpy id) in the last LP."""

    @property
    def optimal(self) -> hp.Highs | None:
        """The HiGHS of the last solve while it is optimal: changes to it resume from its basis (refine)."""
        return None if self._previous is None else self._previous.highs

    def name(self) -> str:
        return "HIGHS_STARTING_BASIS"

    def _basis(self, data: dict[str, Any], lp: _Lp) -> hp.HighsBasis:
        program = data[s.PARAM_PROB]
        first_row = self.rows
        cols = np.where(np.isfinite(lp.col_lower), LOWER, np.where(np.isfinite(lp.col_upper), UPPER, ZERO))
        row_codes = np.full(lp.row_upper.size, BASIC)
        for variable, constraint in self._defined:
            first = program.var_id_to_col[variable.id]
            cols[first : first + variable.size] = BASIC
            first = first_row[constraint.id]
            row_codes[first : first + constraint.size] = LOWER
        basis = hp.HighsBasis()
        basis.col_status = _STATUS[cols].tolist()
        basis.row_status = _STATUS[row_codes].tolist()
        basis.valid = True
        return basis

    def solve_via_data(
        self,
        data: dict[str, Any],
        warm_start: bool,
        verbose: bool,
        solver_opts: dict[str, Any],
        solver_cache: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """As cvxpy's HIGHS.solve_via_data for a continuous LP, started from the last optimal basis or the one above."""
        lp = _Lp.of(data)
        program = data[s.PARAM_PROB]
        self.columns = dict(program.var_id_to_col)
        offsets = np.cumsum([0] + [c.size for c in program.constraints])
        self.rows = {c.id: int(offset) for c, offset in zip(program.constraints, offsets, strict=False)}
        unpack_highs_options_inplace(solver_opts)
        previous = self._previous
        if previous is not None and previous.fits(lp):
            solver = previous.highs
            lp.change_bounds_of(solver, previous.lp)
        else:
            solver = hp.Highs()
            lp.pass_to(solver)
            if self._first is None:
                self._first = self._basis(data, lp)
            solver.setBasis(self._first)
        solver.setOptionValue("log_to_console", verbose)
        return self._run(solver, lp, solver_opts)

    def resolve_rows(
        self, constraint: cp.Constraint, held: np.ndarray, upper: np.ndarray, solver_opts: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The last optimal LP with the upper bounds of `constraint`'s rows moved from `held` to `upper`, resumed in
        its own HiGHS: the results as `solve_via_data` gives them (for cvxpy's `unpack_results`), without cvxpy's
        pipeline (parameters, the solver's data, comparing the matrix). None when that LP is not at hand or its
        rows do not hold `held` (the caller solves through cvxpy)."""
        previous, first = self._previous, self.rows.get(constraint.id)
        if previous is None or first is None:
            return None
        rows = np.arange(first, first + constraint.size, dtype=np.int32)
        if not np.array_equal(previous.lp.row_upper[rows], held):
            return None
        moved = rows[upper != held]
        row_upper = previous.lp.row_upper.copy()
        row_upper[rows] = upper
        lp = replace(previous.lp, row_upper=row_upper)
        previous.highs.changeRowsBounds(  # type: ignore[attr-defined]  # missing from the stubs
            moved.size, moved, lp.row_lower[moved], row_upper[moved]
        )
        return self._run(previous.highs, lp, dict(solver_opts))

    def _run(self, solver: hp.Highs, lp: _Lp, solver_opts: dict[str, Any]) -> dict[str, Any]:
        """Run `solver` (holding `lp`) with `solver_opts`; cvxpy's results. Keeps it while it is optimal."""
        for name, value in solver_opts.items():
            if name == "time_limit":  # HiGHS's clock runs on over the runs of one instance
                value = float(value) + solver.getRunTime()
            if solver.setOptionValue(name, value) == hp.HighsStatus.kError:
                raise ValueError(f"HIGHS returned status kError for option (name, value): ({name}, {value})")
        solver.run()
        status = solver.getModelStatus()
        self._previous = _Optimal(solver, lp) if status == hp.HighsModelStatus.kOptimal else None
        results = {
            "solution": solver.getSolution(),
            "info": solver.getInfo(),
            "model_status": status.name,
            "run_time": solver.getRunTime(),
        }
        if results["model_status"] == "kInfeasible":
            results["dual_ray"] = solver.getDualRay()  # type: ignore[attr-defined]  # missing from highspy's stubs
        return results


@dataclass(frozen=True)
class _Lp:
    """cvxpy's conic LP data (equalities first, then <= rows) in HiGHS's column-wise arrays.

    Its own copies: the last optimal LP is compared with the next one, and cvxpy may reuse its arrays.
    """

    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    start: np.ndarray
    index: np.ndarray
    value: np.ndarray

    @classmethod
    def of(cls, data: dict[str, Any]) -> _Lp:
        inf = hp.kHighsInf
        dims = dims_to_solver_dict(data[s.DIMS])
        matrix = data[s.A].tocsc()
        upper = np.asarray(data[s.B], dtype=float)
        columns = matrix.shape[1]
        lower, col_upper = data[s.LOWER_BOUNDS], data[s.UPPER_BOUNDS]
        return cls(
            cost=np.array(data[s.C], dtype=float),
            col_lower=np.full(columns, -inf) if lower is None else np.asarray(lower, dtype=float),
            col_upper=np.full(columns, inf) if col_upper is None else np.asarray(col_upper, dtype=float),
            row_lower=np.concatenate([upper[: dims[s.EQ_DIM]], np.full(dims[s.LEQ_DIM], -inf)]),
            row_upper=upper,
            start=matrix.indptr[:-1].astype(np.int32),
            index=matrix.indices.astype(np.int32),
            value=np.array(matrix.data, dtype=float),
        )

    def change_bounds_of(self, solver: hp.Highs, held: _Lp) -> None:
        """Give a HiGHS holding `held` (this LP's matrix and costs) these bounds, only where they differ: it
        resumes from its basis and factors."""
        columns = np.flatnonzero((self.col_lower != held.col_lower) | (self.col_upper != held.col_upper))
        rows = np.flatnonzero((self.row_lower != held.row_lower) | (self.row_upper != held.row_upper))
        if columns.size:
            solver.changeColsBounds(
                columns.size, columns.astype(np.int32), self.col_lower[columns], self.col_upper[columns]
            )
        if rows.size:
            solver.changeRowsBounds(  # type: ignore[attr-defined]  # missing from the stubs
                rows.size, rows.astype(np.int32), self.row_lower[rows], self.row_upper[rows]
            )

    def pass_to(self, solver: hp.Highs) -> None:
        solver.passModel(
            self.cost.size,
            self.row_upper.size,
            self.value.size,
            int(hp.MatrixFormat.kColwise),
            int(hp.ObjSense.kMinimize),
            0.0,
            self.cost,
            self.col_lower,
            self.col_upper,
            self.row_lower,
            self.row_upper,
            self.start,
            self.index,
            self.value,
            np.zeros(self.cost.size, dtype=np.int32),
        )


class _Optimal:
    """The HiGHS of the last optimal solve (its basis and factors), with the LP it was optimal for (see the
    module docstring): an LP with the same matrix and costs is solved by changing its bounds in place."""

    def __init__(self, highs: hp.Highs, lp: _Lp) -> None:
        self.highs = highs
        self.lp = lp

    def fits(self, lp: _Lp) -> bool:
        mine, theirs = self.lp, lp
        return all(
            np.array_equal(a, b)
            for a, b in (
                (mine.start, theirs.start),
                (mine.index, theirs.index),
                (mine.value, theirs.value),
                (mine.cost, theirs.cost),
            )
        )
