"""The LP without the aggregates whose fuse can never bind at this solve: our own presolve, which keeps the basis.

An aggregate (a collector phase at a step) is defined by its row: itself less its children's aggregates and its
own flows is 0, a unit-diagonal tree. Where everything below it together cannot reach its bounds at this
solve (few cars plugged in, a fuse sized for all of them: the bounds of the currents below decide it), the bound
is redundant, and the aggregate is only a name for a sum: it is substituted into its parent's row (or the grid
balance) and its row and column leave the LP. That is the same LP, exactly, with fewer rows and columns; on the
random family 40-70 % of the aggregates go and HiGHS's first LP takes 1.5-1.9x less time.

HiGHS's own presolve finds the same and more, but throws the starting basis away (solver.highs_basis); this keeps
it: the removed aggregates were basic in it and their rows' logicals nonbasic, so the rest is still a basis.
Which aggregates go depends on the bounds, so the reduced matrix is kept while all it substituted out stays
redundant: the full-autonomy rounds and most new measurements resume in the held HiGHS. A busier forecast that
lets one of them reach its fuse again puts only those back, and the new HiGHS starts from the held optimal basis
(solver.highs_basis). (Taking out only what stays
a tenth of its span inside its bounds kept such re-solves resumable, but on the load-managed bench site at
N = 5000 the first LP then ended in 15,000 dual infeasibilities once HiGHS removed its cost perturbation, and
the primal clean-up took 12.8 s against 4.4 s; a margin is a tuning constant this LP's degeneracy punishes.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from solver.linear import LinearProgram, Rows, Solution, Variable

TOLERANCE = 1e-7
"""A bound is redundant only when everything below stays this far (A) inside it."""


@dataclass(frozen=True)
class Tree:
    """The structure of the defining rows, once per LP: `value = own @ z + children @ value` row by row."""

    variable: Variable
    rows: Rows
    own_positive: sp.csr_array
    own_negative: sp.csr_array
    children: sp.csr_array
    levels: tuple[np.ndarray, ...]
    """Entries of the variable by height in the tree: leaves first."""

    @classmethod
    def of(cls, lp: LinearProgram, variable: Variable, rows: Rows) -> Tree:
        assert lp.matrix is not None
        block = sp.csr_array(lp.matrix[rows.rows])
        inside = np.zeros(lp.matrix.shape[1], dtype=bool)
        inside[variable.columns] = True
        own = -sp.csr_array(block[:, ~inside])
        children = sp.csr_array(sp.eye_array(variable.size, format="csr") - block[:, variable.columns])
        children.eliminate_zeros()
        height = np.zeros(variable.size, dtype=np.int64)
        coo = children.tocoo()
        for _ in range(variable.size):
            raised = np.zeros(variable.size, dtype=np.int64)
            np.maximum.at(raised, coo.row, height[coo.col] + 1)
            raised = np.maximum(raised, height)
            if np.array_equal(raised, height):
                break
            height = raised
        positive = sp.csr_array(own.multiply(own > 0))
        negative = sp.csr_array(own.multiply(own < 0))
        levels = tuple(np.flatnonzero(height == h) for h in range(int(height.max(initial=0)) + 1))
        return cls(variable, rows, positive, negative, children, levels)

    def redundant(self, lp: LinearProgram) -> np.ndarray:
        """Per entry: does everything below it stay inside its bounds (by `TOLERANCE`) with this solve's bounds?"""
        inside = np.zeros(lp.cost.size, dtype=bool)
        inside[self.variable.columns] = True
        low, high = lp.col_lower[~inside], lp.col_upper[~inside]
        with np.errstate(invalid="ignore"):
            own_high = self.own_positive @ high + self.own_negative @ low
            own_low = self.own_positive @ low + self.own_negative @ high
        bound_low, bound_high = lp.col_lower[self.variable.columns], lp.col_upper[self.variable.columns]
        reach_low, reach_high = np.zeros(self.variable.size), np.zeros(self.variable.size)
        for level in self.levels:  # children's ratios are positive: their reach adds as it is
            below = self.children[level]
            reach_high[level] = own_high[level] + below @ np.minimum(reach_high, bound_high)
            reach_low[level] = own_low[level] + below @ np.maximum(reach_low, bound_low)
        with np.errstate(invalid="ignore"):
            found: np.ndarray = (reach_low > bound_low + TOLERANCE) & (reach_high < bound_high - TOLERANCE)
        return found


class Reduction:
    """The LP with the redundant entries of the tree's variable substituted out (see the module docstring)."""

    def __init__(self, lp: LinearProgram, tree: Tree, redundant: np.ndarray) -> None:
        assert lp.matrix is not None
        gone = self.gone = np.flatnonzero(redundant)
        gone_columns, gone_rows = tree.variable.first + gone, tree.rows.first + gone
        columns = np.ones(lp.cost.size, dtype=bool)
        columns[gone_columns] = False
        rows = np.ones(lp.row_upper.size, dtype=bool)
        rows[gone_rows] = False
        self.columns, self.rows = np.flatnonzero(columns), np.flatnonzero(rows)
        self.gone_columns, self.gone_rows = gone_columns, gone_rows
        by_column = lp.matrix
        by_row = sp.csr_array(by_column)
        # gone = substitution @ kept, with (I - N) gone + A[gone rows, kept] kept = 0 and N nilpotent (a tree).
        self._nilpotent = sp.csr_array(tree.children[gone][:, gone])
        self._nilpotent_transposed = sp.csr_array(self._nilpotent.T)
        kept_part = sp.csr_array(by_row[gone_rows][:, self.columns])
        self.substitution = -self._neumann(kept_part)
        self._into = sp.csr_array(by_row[self.rows][:, gone_columns])
        self._into_transposed = sp.csr_array(self._into.T)
        self.matrix = sp.csc_array(by_row[self.rows][:, self.columns] + self._into @ self.substitution)
        self.matrix.eliminate_zeros()

    def _neumann(self, right: sp.csr_array) -> sp.csr_array:
        """(I - N)^-1 @ right, summed up to the tree's height."""
        total, term = right, right
        while term.nnz:
            term = sp.csr_array(self._nilpotent @ term)
            total = total + term
        return sp.csr_array(total)

    def cost(self, lp: LinearProgram) -> np.ndarray:
        reduced: np.ndarray = lp.cost[self.columns] + self.substitution.T @ lp.cost[self.gone_columns]
        return reduced

    def expand(self, lp: LinearProgram, found: Solution) -> Solution:
        """The full LP's solution: the gone entries from their rows, their rows' duals such that they price at 0."""
        x = np.zeros(lp.cost.size)
        x[self.columns] = found.x
        x[self.gone_columns] = self.substitution @ found.x
        row_dual = np.zeros(lp.row_upper.size)
        row_dual[self.rows] = found.row_dual
        # (I - N') y = cost - A[kept rows, gone]' y_kept, summed as the series above
        term = lp.cost[self.gone_columns] - self._into_transposed @ found.row_dual
        total = term.copy()
        while np.any(term):
            term = self._nilpotent_transposed @ term
            total += term
        row_dual[self.gone_rows] = total
        col_dual = np.zeros(lp.cost.size)
        col_dual[self.columns] = found.col_dual
        return Solution(x=x, row_dual=row_dual, col_dual=col_dual, objective=found.objective)
