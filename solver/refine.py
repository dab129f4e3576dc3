"""Two exact corrections of the LP's answer, each run only where it is needed.

Full autonomy: a full-autonomy car may only take what the site would otherwise export, so at a step where
it charges the site must not import at all. The LP only caps such cars by the forecast surplus; where its
plan has them charging while the site imports (other cars or the battery took the surplus first), those
steps are closed to them and the LP re-solves (it resumes from its last basis: only right-hand sides move).

The real bill: where the import price is below the export price, importing and exporting at once would pay,
so the LP prices import at the higher and export at the lower of the two (an upper bound on the bill). A
MILP with one binary per such step (importing or exporting, never both) then optimizes the true bill, started
from the LP's answer, which it keeps if it finds nothing better in time.
"""

from __future__ import annotations

import time
from dataclasses import replace

import cvxpy as cp
import numpy as np

from solver.bidirectional import discharge_lower
from solver.model import SOLVED, LinearModel, LpSolution, run
from solver.numbers import Numbers

AUTONOMY_ROUNDS = 4
TOLERANCE_KW = 1e-6


def autonomy_conflicts(model: LinearModel) -> np.ndarray:
    """Per autonomy step: does a full-autonomy car charge while the site imports?"""
    m = model.matrices
    if model.charging is None or not m.autonomy_steps.size or model.charging.value is None:
        return np.zeros(m.autonomy_steps.size, dtype=bool)
    autonomous = m.autonomy @ model.charging.value
    imported = _value(model.imported)[m.autonomy_steps]
    conflicts: np.ndarray = (autonomous > TOLERANCE_KW) & (imported > TOLERANCE_KW)
    return conflicts


def solve_with_autonomy(model: LinearModel, numbers: Numbers) -> tuple[str, LpSolution | None]:
    """The LP, re-solved with the conflicting steps closed to full-autonomy cars until there are none."""
    status, solution = model.solve(numbers)
    closed = np.zeros(model.matrices.autonomy_steps.size, dtype=bool)
    for _ in range(AUTONOMY_ROUNDS):
        if solution is None:
            return status, None
        conflicts = autonomy_conflicts(model)
        if not conflicts.any():
            return status, solution
        closed |= conflicts
        surplus = np.array(model.surplus.value, dtype=float)
        surplus[closed] = 0.0
        model.surplus.value = surplus
        status, solution = model.solve(numbers)
    return status, solution


def inverted_steps(numbers: Numbers) -> np.ndarray:
    return np.flatnonzero(numbers.objective_import_price < numbers.objective_export_price - 1e-12)


def true_bill(model: LinearModel, numbers: Numbers, solution: LpSolution, time_limit_s: float) -> LpSolution:
    """The MILP over the inverted-price steps (see the module docstring); the LP's answer if it finds nothing better."""
    steps = inverted_steps(numbers)
    if steps.size == 0:
        return solution
    started = time.perf_counter()
    layout, scale = model.layout, numbers.price_scale
    hours = layout.problem.step_hours
    import_price = numbers.objective_import_price[steps] / scale * hours
    export_price = numbers.objective_export_price[steps] / scale * hours
    # The LP priced import at the export price and export at the import price there: bill them truly.
    correction = (import_price - export_price) @ (model.imported[steps] + model.exported[steps])
    lp_bill = solution.objective + float(
        (import_price - export_price) @ (_value(model.imported)[steps] + _value(model.exported)[steps]) * scale
    )
    bound = _grid_bound_kW(model, numbers)[steps]
    importing = cp.Variable(steps.size, boolean=True)
    constraints = [
        *model.problem.constraints,
        model.imported[steps] <= cp.multiply(bound, importing),
        model.exported[steps] <= cp.multiply(bound, 1 - importing),
    ]
    milp = cp.Problem(cp.Minimize(model.problem.objective.expr + correction), constraints)
    remaining = max(time_limit_s - (time.perf_counter() - started), 0.05)
    status = run(milp, "HIGHS", {"time_limit": remaining})
    if status not in SOLVED and status != "user_limit":
        return solution
    candidate = model.solution(numbers, float(milp.value))
    if candidate.objective >= lp_bill - 1e-9:
        return replace(solution, objective=lp_bill)
    return candidate


def _grid_bound_kW(model: LinearModel, numbers: Numbers) -> np.ndarray:
    """An upper bound on |import| and |export| per step: the non-controllable load plus every device at full power."""
    layout = model.layout
    cars = np.bincount(
        layout.step_of_car_step,
        weights=numbers.car_upper * np.array([s.watts_per_ampere for s in layout.sessions])[layout.car_of_step],
        minlength=layout.steps,
    )
    cars = cars + np.bincount(
        layout.step_of_car_step,
        weights=-discharge_lower(layout) * np.array([s.watts_per_ampere for s in layout.sessions])[layout.car_of_step],
        minlength=layout.steps,
    )
    batteries = np.maximum(np.abs(numbers.battery_lower), np.abs(numbers.battery_upper)).sum(axis=0)
    bound: np.ndarray = (np.abs(numbers.fixed_total) + cars + batteries) / 1000 + 1.0
    return bound


def _value(variable: cp.Variable) -> np.ndarray:
    """A solved variable's values (the LP has been solved before anything here reads them)."""
    value = variable.value
    assert value is not None, "read before the LP was solved"
    return np.asarray(value)
