"""The linear program in matrix form: named blocks of columns, named blocks of rows, one sparse matrix.

The model states its LP once per structure as sums of constant sparse matrices times blocks of columns
(`Linear`), as it would in a modelling language, and this turns them into HiGHS's column-wise arrays at once:
nothing is compiled and nothing is unpacked. What changes between solves (bounds, right-hand sides, costs) is
written straight into the arrays. HiGHS reads them directly (solver.highs_basis); ECOS and Clarabel get the same
arrays through cvxpy (solver.cvxpy_backend).

Row duals and reduced costs follow HiGHS's convention (cost = A' row_dual + col_dual): the change of the
optimal objective per unit of a row's active bound, and per unit of a column's active bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

import numpy as np
import scipy.sparse as sp

Matrix: TypeAlias = sp.csr_array | sp.csc_array | sp.coo_array | np.ndarray
Sense = Literal["equal", "at_most", "at_least"]


class Linear:
    """A vector of linear functions of the LP's columns: one sparse matrix per block of columns."""

    __array_ufunc__ = None  # numpy and scipy defer `matrix @ expression` to __rmatmul__
    __array_priority__ = 1000.0

    def __init__(self, size: int, terms: dict[Variable, sp.csr_array]) -> None:
        self.size = size
        self.terms = terms

    def __add__(self, other: Linear) -> Linear:
        if other.size != self.size:
            raise ValueError(f"adding expressions of sizes {self.size} and {other.size}")
        terms = dict(self.terms)
        for block, matrix in other.terms.items():
            terms[block] = terms[block] + matrix if block in terms else matrix
        return Linear(self.size, terms)

    def __neg__(self) -> Linear:
        return Linear(self.size, {block: -matrix for block, matrix in self.terms.items()})

    def __sub__(self, other: Linear) -> Linear:
        return self + (-other)

    def __rmatmul__(self, matrix: Matrix) -> Linear:
        left = matrix if isinstance(matrix, sp.csr_array) else sp.csr_array(matrix)
        if left.shape[1] != self.size:
            raise ValueError(f"a {left.shape} matrix times an expression of size {self.size}")
        if isinstance(self, Variable):  # the product with its identity term is the matrix itself
            return Linear(left.shape[0], {self: left})
        return Linear(left.shape[0], {block: sp.csr_array(left @ term) for block, term in self.terms.items()})

    def value(self, x: np.ndarray) -> np.ndarray:
        """The expression at the columns' values `x`."""
        total = np.zeros(self.size)
        for block, matrix in self.terms.items():
            total += matrix @ x[block.first : block.first + block.size]
        return total

    def weighted(self, weights: np.ndarray) -> dict[Variable, np.ndarray]:
        """`weights @ self` as cost coefficients per block."""
        return {block: np.asarray(weights @ matrix, dtype=float) for block, matrix in self.terms.items()}


class Variable(Linear):
    """A block of `size` columns from `first`; compared by identity."""

    def __init__(self, name: str, first: int, size: int) -> None:
        self.name, self.first = name, first
        super().__init__(size, {self: sp.eye_array(size, format="csr")})

    @property
    def columns(self) -> slice:
        return slice(self.first, self.first + self.size)

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other


@dataclass(frozen=True)
class Rows:
    """A block of `size` rows from `first`: `expression` is equal to, at most or at least its right-hand side."""

    name: str
    first: int
    size: int
    sense: Sense
    expression: Linear

    @property
    def rows(self) -> slice:
        return slice(self.first, self.first + self.size)


class LinearProgram:
    """Columns and rows are declared once; `finish` builds the matrix; the arrays take each solve's numbers."""

    def __init__(self) -> None:
        self.variables: dict[str, Variable] = {}
        self.rows: dict[str, Rows] = {}
        self._columns = 0
        self._rows = 0
        self.matrix: sp.csc_array | None = None
        self.col_lower = np.zeros(0)
        self.col_upper = np.zeros(0)
        self.cost = np.zeros(0)
        self.row_lower = np.zeros(0)
        self.row_upper = np.zeros(0)

    def variable(self, name: str, size: int) -> Variable:
        """`size` new columns, nonnegative until `bound` says otherwise."""
        variable = Variable(name, self._columns, size)
        self.variables[name] = variable
        self._columns += size
        return variable

    def constrain(self, name: str, expression: Linear, sense: Sense) -> Rows:
        """`expression` (sense) its right-hand side, which `rhs` sets before each solve."""
        rows = Rows(name, self._rows, expression.size, sense, expression)
        self.rows[name] = rows
        self._rows += expression.size
        return rows

    def finish(self) -> None:
        """Build the matrix (once per structure) and the arrays the numbers go into."""
        parts_row, parts_col, parts_value = [], [], []
        for block in self.rows.values():
            for variable, term in block.expression.terms.items():
                coo = sp.coo_array(term)
                parts_row.append(coo.row + block.first)
                parts_col.append(coo.col + variable.first)
                parts_value.append(coo.data)
        shape = (self._rows, self._columns)
        if parts_value:
            coo_all = (np.concatenate(parts_value), (np.concatenate(parts_row), np.concatenate(parts_col)))
            matrix = sp.csc_array(coo_all, shape=shape)
        else:
            matrix = sp.csc_array(shape)
        matrix.sum_duplicates()
        matrix.eliminate_zeros()
        self.matrix = matrix
        self.col_lower = np.zeros(self._columns)
        self.col_upper = np.full(self._columns, np.inf)
        self.cost = np.zeros(self._columns)
        self.row_lower = np.full(self._rows, -np.inf)
        self.row_upper = np.full(self._rows, np.inf)

    def bound(self, variable: Variable, lower: np.ndarray | float, upper: np.ndarray | float) -> None:
        self.col_lower[variable.columns] = lower
        self.col_upper[variable.columns] = upper

    def rhs(self, name: str, value: np.ndarray | float) -> None:
        """The right-hand side of the rows `name` (an equality's both bounds, else its one bound)."""
        block = self.rows[name]
        if block.sense != "at_least":
            self.row_upper[block.rows] = value
        if block.sense != "at_most":
            self.row_lower[block.rows] = value

    def clear_costs(self) -> None:
        self.cost[:] = 0.0

    def add_cost(self, expression: Linear, weights: np.ndarray | float) -> None:
        """Add `weights @ expression` (a scalar weight: on every entry) to the objective."""
        vector = np.broadcast_to(np.asarray(weights, dtype=float), (expression.size,))
        for variable, coefficients in expression.weighted(vector).items():
            self.cost[variable.columns] += coefficients


@dataclass(frozen=True)
class Solution:
    """One solve's primal values, duals (HiGHS's convention, see the module docstring) and objective."""

    x: np.ndarray
    row_dual: np.ndarray
    col_dual: np.ndarray
    objective: float
