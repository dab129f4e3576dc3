"""HiGHS on the model's arrays, started from a chosen basis instead of the all-slack one.

Cold start: every aggregate basic and the logical of its defining row nonbasic. From the all-slack
basis the dual simplex spent one pivot per aggregate only to bring it into the basis (at N=1000
about 28,000 pivots, three times the rest of the solve). The basis is valid: on the aggregate rows
and columns it is the tree matrix, unit upper triangular (parents are indexed before their
children), and every other row keeps its own logical. It depends only on the model's structure, so
it is built once. The model names more such pairs (model.LinearModel): each step's import with its grid balance
row and each battery's SoC with its balance row. With import basic the start is dual feasible (export at 0 with
its negative cost made one dual infeasibility per step, a dual phase 1); the random family's first LPs take
5-25 % fewer pivots. (Each session's unmet energy basic in its energy row saved a few % more, but its optimal
vertex left a binding fuse with a zero reduced cost at a step: binding limits read from the duals missed it.)

Re-solve: while the matrix and the costs are those of the last optimal solve (only bounds and
right-hand sides moved: measurements, forecasts, live limits, session energies, the full-autonomy rounds), that
optimal basis is still dual feasible and the dual simplex goes on from it, often with no pivot at all: in the same
HiGHS instance, whose bounds change in place, so it keeps its factorization too (a fresh instance spent a tenth of
a second at 300 cars refactoring the basis before its first pivot). New costs (prices) make it a poor start,
worse than the cold one (the dual phase 1 undoes it), so those start cold. Every solve is exact either way; only
the starting point differs.

HiGHS runs without presolve: presolve would drop the starting basis, and took longer than the pivots it saved
(bench site, N=1000: 0.95 s with presolve, 0.69 s from the starting basis).
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy as hp
import numpy as np
import scipy.sparse as sp

from solver.linear import LinearProgram, Solution, Variable
from solver.reduction import Reduction, Tree

_STATUS = np.array(
    [hp.HighsBasisStatus.kLower, hp.HighsBasisStatus.kBasic, hp.HighsBasisStatus.kUpper, hp.HighsBasisStatus.kZero],
    dtype=object,
)
LOWER, BASIC, UPPER, ZERO = range(4)
_STATUS_NAMES = {
    hp.HighsModelStatus.kOptimal: "optimal",
    hp.HighsModelStatus.kInfeasible: "infeasible",
    hp.HighsModelStatus.kUnbounded: "unbounded",
    hp.HighsModelStatus.kUnboundedOrInfeasible: "infeasible_or_unbounded",
    hp.HighsModelStatus.kTimeLimit: "user_limit",
    hp.HighsModelStatus.kIterationLimit: "user_limit",
}
"""HiGHS's model statuses by the names the rest of the solver (and the run documents) use."""


def status_name(status: hp.HighsModelStatus) -> str:
    return _STATUS_NAMES.get(status, f"solver_error: {status.name}")


@dataclass(frozen=True)
class Arrays:
    """One solve's numbers (own copies: the last optimal one is compared with the next)."""

    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray

    @classmethod
    def of(cls, lp: LinearProgram) -> Arrays:
        return cls(lp.cost.copy(), lp.col_lower.copy(), lp.col_upper.copy(), lp.row_lower.copy(), lp.row_upper.copy())

    @classmethod
    def reduced(cls, lp: LinearProgram, reduction: Reduction) -> Arrays:
        columns, rows = reduction.columns, reduction.rows
        cost = reduction.cost(lp)
        return cls(cost, lp.col_lower[columns], lp.col_upper[columns], lp.row_lower[rows], lp.row_upper[rows])

    def change_costs_of(self, solver: hp.Highs, held: Arrays) -> None:
        columns = np.flatnonzero(self.cost != held.cost).astype(np.int32)
        if columns.size:
            solver.changeColsCost(columns.size, columns, self.cost[columns])

    def change_bounds_of(self, solver: hp.Highs, held: Arrays) -> None:
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


def pass_model(solver: hp.Highs, matrix: sp.csc_array, arrays: Arrays, integrality: np.ndarray | None = None) -> None:
    """Load the LP (a MILP with `integrality`: 1 for an integer column) into `solver`, column-wise as kept."""
    solver.passModel(
        arrays.cost.size,
        arrays.row_upper.size,
        matrix.nnz,
        int(hp.MatrixFormat.kColwise),
        int(hp.ObjSense.kMinimize),
        0.0,
        arrays.cost,
        arrays.col_lower,
        arrays.col_upper,
        arrays.row_lower,
        arrays.row_upper,
        matrix.indptr[:-1].astype(np.int32),
        matrix.indices.astype(np.int32),
        matrix.data.astype(float),
        np.zeros(arrays.cost.size, dtype=np.int32) if integrality is None else integrality,
    )


class StartingBasisHighs:
    """HiGHS for the model's LP, started from the cold basis or the last optimal one.

    `defined`: (variable, equality rows) pairs whose rows define the variable's entries one by one; the cold
    basis has those entries basic and those rows' logicals nonbasic. `reducible`: such a pair whose redundant
    entries are substituted out before HiGHS sees the LP (solver.reduction).
    """

    def __init__(
        self, defined: tuple[tuple[Variable, str], ...], reducible: tuple[Variable, str] | None = None
    ) -> None:
        self._defined = defined
        self._reducible = reducible
        self._tree: Tree | None = None
        self._reduction: Reduction | None = None
        self._bounds: tuple[np.ndarray, np.ndarray] | None = None
        """The column bounds the last reduction was checked against."""
        self._first: tuple[np.ndarray, np.ndarray] | None = None
        self._previous: _Optimal | None = None
        self.iterations = 0
        """Simplex iterations of the last run."""

    @property
    def optimal(self) -> hp.Highs | None:
        """The HiGHS of the last solve while it is optimal: changes to it resume from its basis (refine)."""
        return None if self._previous is None else self._previous.highs

    def _cold_codes(self, lp: LinearProgram) -> tuple[np.ndarray, np.ndarray]:
        if self._first is None:
            cols = np.where(np.isfinite(lp.col_lower), LOWER, np.where(np.isfinite(lp.col_upper), UPPER, ZERO))
            row_codes = np.full(lp.row_upper.size, BASIC)
            for variable, name in self._defined:
                cols[variable.columns] = BASIC
                row_codes[lp.rows[name].rows] = LOWER
            self._first = (cols, row_codes)
        return self._first

    def _basis(self, lp: LinearProgram, reduction: Reduction | None) -> hp.HighsBasis:
        cols, row_codes = self._cold_codes(lp)
        if reduction is not None:
            cols, row_codes = cols[reduction.columns], row_codes[reduction.rows]
        basis = hp.HighsBasis()
        basis.col_status = _STATUS[cols].tolist()
        basis.row_status = _STATUS[row_codes].tolist()
        basis.valid = True
        return basis

    def reduced(self, lp: LinearProgram) -> Reduction | None:
        """The reduction for this solve's bounds: the last one while everything it substituted out is still
        redundant (its matrix, so the held HiGHS resumes; it may leave in an aggregate that could go now)."""
        if self._reducible is None:
            return None
        variable, name = self._reducible
        if self._tree is None:
            self._tree = Tree.of(lp, variable, lp.rows[name])
        last, previous = self._reduction, self._previous
        if last is not None and self._bounds is not None and _same_bounds(self._bounds, lp):
            return last  # the full-autonomy rounds: only rows moved, nothing can have become able to bind
        self._bounds = (lp.col_lower.copy(), lp.col_upper.copy())
        redundant = self._tree.redundant(lp)
        if last is not None and redundant[last.gone].all():
            return last
        if last is not None and previous is not None and previous.reduction is last and previous.costs(lp):
            # Only what was out and still may be stays out: the held basis carries over (`_carried`).
            still = np.zeros_like(redundant)
            still[last.gone] = redundant[last.gone]
            redundant = still
        self._reduction = Reduction(lp, self._tree, redundant) if redundant.any() else None
        return self._reduction

    def solve(self, lp: LinearProgram, time_limit_s: float, *, new_costs: bool = False) -> tuple[str, Solution | None]:
        """Solve `lp` with its current numbers within `time_limit_s`: the status, and the solution when optimal.

        `new_costs`: resume in the held HiGHS even with other costs, and keep it whatever the outcome (refine's
        true bill tries its sign choices so, and puts the costs back with `restore`).
        """
        assert lp.matrix is not None, "the LP was not finished"
        reduction = self.reduced(lp)
        matrix = lp.matrix if reduction is None else reduction.matrix
        arrays = Arrays.of(lp) if reduction is None else Arrays.reduced(lp, reduction)
        previous = self._previous
        if previous is not None and previous.fits(matrix, lp, new_costs):
            solver = previous.highs
            arrays.change_bounds_of(solver, previous.arrays)
            if new_costs:
                arrays.change_costs_of(solver, previous.arrays)
        else:
            solver = hp.Highs()
            solver.setOptionValue("output_flag", False)
            solver.setOptionValue("presolve", "off")
            pass_model(solver, matrix, arrays)
            carried = previous is not None and not new_costs and previous.costs(lp) and _nested(previous, reduction)
            solver.setBasis(_carried(previous, reduction, lp) if carried and previous else self._basis(lp, reduction))
        # HiGHS's clock runs on over the runs of one instance.
        solver.setOptionValue("time_limit", float(time_limit_s) + solver.getRunTime())
        solver.run()
        status = solver.getModelStatus()
        self.iterations = int(solver.getInfo().simplex_iteration_count)
        optimal = status == hp.HighsModelStatus.kOptimal
        self._previous = _Optimal(solver, matrix, arrays, reduction, lp.cost) if optimal or new_costs else None
        if not optimal:
            return status_name(status), None
        found = solution_of(solver)
        return "optimal", found if reduction is None else reduction.expand(lp, found)

    def restore(self, lp: LinearProgram) -> None:
        """Give the held HiGHS `lp`'s numbers again (after `solve(..., new_costs=True)`), without running it."""
        previous = self._previous
        if previous is None:
            return
        arrays = Arrays.of(lp) if previous.reduction is None else Arrays.reduced(lp, previous.reduction)
        arrays.change_bounds_of(previous.highs, previous.arrays)
        arrays.change_costs_of(previous.highs, previous.arrays)
        self._previous = _Optimal(previous.highs, previous.matrix, arrays, previous.reduction, lp.cost)


def _same_bounds(bounds: tuple[np.ndarray, np.ndarray], lp: LinearProgram) -> bool:
    return np.array_equal(bounds[0], lp.col_lower) and np.array_equal(bounds[1], lp.col_upper)


def _kept(lp: LinearProgram, reduction: Reduction | None) -> tuple[np.ndarray, np.ndarray]:
    if reduction is None:
        return np.arange(lp.cost.size), np.arange(lp.row_upper.size)
    return reduction.columns, reduction.rows


def _nested(previous: _Optimal, reduction: Reduction | None) -> bool:
    """Does `reduction` keep everything the held LP kept (it only puts aggregates back)?"""
    if previous.reduction is None:
        return reduction is None
    return reduction is None or bool(np.isin(reduction.gone, previous.reduction.gone).all())


def _carried(previous: _Optimal, reduction: Reduction | None, lp: LinearProgram) -> hp.HighsBasis:
    """The held optimal basis for an LP that puts some substituted aggregates back: each comes back basic with
    its row's logical nonbasic, as in the cold basis, so the rest of the basis stays as it was (a new forecast
    that lets a substituted aggregate reach its fuse resumes from the last optimum instead of the cold basis)."""
    held = previous.highs.getBasis()
    old_columns, old_rows = _kept(lp, previous.reduction)
    new_columns, new_rows = _kept(lp, reduction)
    columns = np.full(new_columns.size, hp.HighsBasisStatus.kBasic, dtype=object)
    columns[np.searchsorted(new_columns, old_columns)] = np.array(held.col_status, dtype=object)
    rows = np.full(new_rows.size, hp.HighsBasisStatus.kLower, dtype=object)
    rows[np.searchsorted(new_rows, old_rows)] = np.array(held.row_status, dtype=object)
    basis = hp.HighsBasis()
    basis.col_status = columns.tolist()
    basis.row_status = rows.tolist()
    basis.valid = True
    return basis


def solution_of(solver: hp.Highs) -> Solution:
    found = solver.getSolution()
    return Solution(
        x=np.array(found.col_value),
        row_dual=np.array(found.row_dual),
        col_dual=np.array(found.col_dual),
        objective=float(solver.getInfo().objective_function_value),
    )


class _Optimal:
    """The HiGHS of the last optimal solve (its basis and factors), with the LP it was optimal for (see the
    module docstring): an LP with the same matrix and costs is solved by changing its bounds in place."""

    def __init__(
        self, highs: hp.Highs, matrix: sp.csc_array, arrays: Arrays, reduction: Reduction | None, cost: np.ndarray
    ) -> None:
        self.highs = highs
        self.matrix = matrix
        self.arrays = arrays
        self.reduction = reduction
        self.cost = cost.copy()
        """The whole LP's costs (`arrays` holds the reduced LP's)."""

    def costs(self, lp: LinearProgram) -> bool:
        """Were these `lp`'s costs?"""
        return np.array_equal(self.cost, lp.cost)

    def fits(self, matrix: sp.csc_array, lp: LinearProgram, new_costs: bool = False) -> bool:
        return matrix is self.matrix and (new_costs or self.costs(lp))
