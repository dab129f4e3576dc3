"""The LP's matrix form (solver.linear): expressions become the rows they say, and every backend reads the same
optimum and the same duals in HiGHS's convention (the binding limits read them whichever solver ran)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from solver.cvxpy_backend import solve_with_cvxpy
from solver.highs_basis import StartingBasisHighs
from solver.linear import LinearProgram


def _program() -> LinearProgram:
    """min 2a0 + 3a1 + b  s.t.  a0 + a1 - b = 4 (b: a slack with a cost), a0 <= 1 (row), a1 + 2b >= 1, 0 <= a, b."""
    lp = LinearProgram()
    a, b = lp.variable("a", 2), lp.variable("b", 1)
    lp.constrain("total", np.ones((1, 2)) @ a - b, "equal")
    lp.constrain("first", np.array([[1.0, 0.0]]) @ a, "at_most")
    lp.constrain("mixed", sp.csr_array([[0.0, 1.0]]) @ a + np.array([[2.0]]) @ b, "at_least")
    lp.finish()
    lp.bound(a, 0.0, np.inf)
    lp.bound(b, 0.0, np.inf)
    lp.rhs("total", 4.0)
    lp.rhs("first", 1.0)
    lp.rhs("mixed", 1.0)
    lp.add_cost(a, np.array([2.0, 3.0]))
    lp.add_cost(b, 1.0)
    return lp


def test_expressions_become_their_rows_and_costs() -> None:
    lp = _program()
    assert lp.matrix is not None
    np.testing.assert_array_equal(lp.matrix.toarray(), [[1, 1, -1], [1, 0, 0], [0, 1, 2]])
    np.testing.assert_array_equal(lp.row_lower, [4, -np.inf, 1])
    np.testing.assert_array_equal(lp.row_upper, [4, 1, np.inf])
    np.testing.assert_array_equal(lp.cost, [2, 3, 1])
    with pytest.raises(ValueError, match="sizes"):
        _ = lp.variables["a"] + lp.variables["b"]


@pytest.mark.parametrize("name", ["CLARABEL", "ECOS"])
def test_every_backend_reads_the_same_optimum_and_duals(name: str) -> None:
    lp = _program()
    status, highs = StartingBasisHighs(()).solve(lp, 10.0)
    other = solve_with_cvxpy(lp, name, 10.0)
    assert status == "optimal" and highs is not None
    assert other.status == "optimal" and other.solution is not None
    np.testing.assert_allclose(highs.x, [1, 3, 0], atol=1e-9)  # a0 at its row's bound, a1 takes the rest
    assert highs.objective == pytest.approx(11.0)
    np.testing.assert_allclose(other.solution.x, highs.x, atol=1e-6)
    assert other.solution.objective == pytest.approx(highs.objective, rel=1e-6)
    np.testing.assert_allclose(other.solution.row_dual, highs.row_dual, atol=1e-5)
    np.testing.assert_allclose(other.solution.col_dual, highs.col_dual, atol=1e-5)
    # HiGHS's convention: +3 per unit more total demand, -1 per unit more room on a0's row.
    np.testing.assert_allclose(highs.row_dual, [3, -1, 0], atol=1e-9)
