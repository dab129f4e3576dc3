"""Two exact corrections of the LP's answer, each run only where it is needed.

Full autonomy: a full-autonomy car may only take what the site would otherwise export, so at a step where
it charges the site must not import at all. The LP only caps such cars by the forecast surplus; where its
plan has them charging while the site imports (other cars or the battery took the surplus first), those
steps are closed to them and the LP re-solves (in its own HiGHS, from its last basis: only right-hand sides move).

The real bill: where the import price is below the export price, importing and exporting at once would pay,
so the LP prices import at the higher and export at the lower of the two (an upper bound on the bill). A
MILP with one binary per such step (importing or exporting, never both) then optimizes the true bill, started
from the LP's answer, which it keeps if it finds nothing better in time. With at most `ENUMERATED_STEPS` such
steps (a negative price now and then), the same optimum comes faster from the LPs of every choice: each is the
LP with, at each such step, either export or import closed and the other side billed at its true price, solved
in the LP's own HiGHS from its optimal basis (a few pivots each, where the MILP started over and took 3-6 times
the LP's time on the random sites of bench/random_sites.py). A choice that exports where the non-controllable
load alone imports whatever the devices do is infeasible and is not run (on the random family every inverted
step was such a step: its LP took up to 600 pivots only to prove that).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import replace

import cvxpy as cp
import highspy as hp
import numpy as np

from solver.bidirectional import discharge_lower
from solver.model import SOLVED, LinearModel, LpSolution, run
from solver.numbers import Numbers
from solver.pipeline import unpack
from solver.timeout import timed_out

AUTONOMY_ROUNDS = 4
TOLERANCE_KW = 1e-6
ENUMERATED_STEPS = 3
"""Up to this many inverted-price steps, the true bill is the best of 2^k LPs instead of a MILP."""


def autonomy_conflicts(model: LinearModel) -> np.ndarray:
    """Per autonomy step: does a full-autonomy car charge while the site imports?"""
    m = model.matrices
    if model.charging is None or not m.autonomy_steps.size or model.charging.value is None:
        return np.zeros(m.autonomy_steps.size, dtype=bool)
    autonomous = m.autonomy @ model.charging.value
    imported = _value(model.imported)[m.autonomy_steps]
    conflicts: np.ndarray = (autonomous > TOLERANCE_KW) & (imported > TOLERANCE_KW)
    return conflicts


def solve_with_autonomy(
    model: LinearModel, numbers: Numbers, deadline: float | None = None
) -> tuple[str, LpSolution | None, bool]:
    """The LP, re-solved with the conflicting steps closed to full-autonomy cars until there are none.

    Every solve stops at `deadline` (a `time.perf_counter()` instant; None: each has the configured limit). The
    flag says the time ran out during the rounds: the answer is then the last round's, with the full-autonomy
    cars switched off at its conflicting steps (solver.timeout's `best_so_far`).
    """
    status, solution = model.solve(numbers, _remaining(deadline))
    closed = np.zeros(model.matrices.autonomy_steps.size, dtype=bool)
    for _ in range(AUTONOMY_ROUNDS):
        if solution is None:
            return status, None, False
        conflicts = autonomy_conflicts(model)
        if not conflicts.any():
            return status, solution, False
        closed |= conflicts
        previous = solution
        status, solution = _solve_closed(model, numbers, closed, _remaining(deadline))
        if solution is None and timed_out(status):
            return status, _without_conflicts(model, previous, conflicts), True
    return status, solution, False


def _solve_closed(
    model: LinearModel, numbers: Numbers, closed: np.ndarray, time_limit_s: float | None
) -> tuple[str, LpSolution | None]:
    """The LP with no surplus for full-autonomy cars at the `closed` steps: only those rows' bounds move, so it
    resumes in the LP's HiGHS and cvxpy only reads the answer back (solver.pipeline); through cvxpy's whole solve
    when that HiGHS or its chain is not at hand."""
    held = np.array(model.surplus.value, dtype=float)
    surplus = np.where(closed, 0.0, held)
    model.surplus.value = surplus
    rows = model.constraints["full_autonomy"]
    results = None
    if model.chain is not None:
        results = model.highs_solver.resolve_rows(rows, held, surplus, model.solver_options(time_limit_s))
    if results is None or model.chain is None:
        return model.solve(numbers, time_limit_s)
    status = unpack(model.problem, results, model.chain)
    if status not in SOLVED:
        return status, None
    return status, model.solution(numbers, float(model.problem.value))


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(deadline - time.perf_counter(), 1e-9)


def _without_conflicts(model: LinearModel, solution: LpSolution, conflicts: np.ndarray) -> LpSolution:
    """`solution` with every full-autonomy car at 0 at the conflicting steps (less load: still within every fuse)."""
    autonomy = model.matrices.autonomy
    hit = np.asarray(abs(autonomy[np.flatnonzero(conflicts), :]).sum(axis=0)).ravel() > 0
    return replace(solution, car_current=np.where(hit, 0.0, solution.car_current))


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
    if steps.size <= ENUMERATED_STEPS:
        billed = replace(solution, objective=lp_bill)
        enumerated = _best_sign_choice(model, numbers, steps, import_price - export_price, time_limit_s, billed)
        if enumerated is not None:
            return enumerated
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


def _best_sign_choice(
    model: LinearModel,
    numbers: Numbers,
    steps: np.ndarray,
    cheaper: np.ndarray,
    time_limit_s: float,
    lp: LpSolution,
) -> LpSolution | None:
    """The true bill's optimum as the best LP over every import-or-export choice at `steps` (module docstring),
    or `lp` (the LP's answer at its true bill) when that is as good.

    `cheaper` (per kWh, in the LP's units, < 0) is what the true price takes off the LP's cost of a kW of
    import or export there. None when the LP's HiGHS is not at hand or a choice did not solve in time (an
    infeasible choice is one the MILP would not take either).
    """
    highs = model.highs_solver.optimal
    if highs is None or model.problem.value is None:
        return None
    started = time.perf_counter()
    offset = float(model.problem.value) - float(highs.getInfo().objective_function_value)
    columns = model.highs_solver.columns
    imported = columns[model.imported.id] + steps
    exported = columns[model.exported.id] + steps
    both = np.concatenate([imported, exported]).astype(np.int32)
    held = highs.getLp()
    cost = np.asarray(held.col_cost_)[both]
    lower, upper = np.asarray(held.col_lower_)[both], np.asarray(held.col_upper_)[both]
    best: tuple[float, np.ndarray] | None = None
    can_export = _lowest_grid_kW(model, numbers)[steps] <= TOLERANCE_KW
    try:
        for importing in itertools.product((True, False), repeat=steps.size):
            side = np.array(importing)
            if (~side & ~can_export).any():  # exporting where the load alone imports: infeasible, no LP needed
                continue
            remaining = time_limit_s - (time.perf_counter() - started)
            if remaining <= 0:
                return None
            closed = np.concatenate([~side, side])
            highs.changeColsCost(both.size, both, cost + np.concatenate([cheaper, cheaper]))
            highs.changeColsBounds(both.size, both, lower, np.where(closed, 0.0, upper))
            highs.setOptionValue("time_limit", highs.getRunTime() + remaining)
            highs.run()
            status = highs.getModelStatus()
            if status == hp.HighsModelStatus.kInfeasible:  # e.g. no export possible while the load alone imports
                continue
            if status != hp.HighsModelStatus.kOptimal:
                return None
            value = float(highs.getInfo().objective_function_value)
            if best is None or value < best[0]:
                best = (value, np.array(highs.getSolution().col_value))
    finally:
        highs.changeColsCost(both.size, both, cost)
        highs.changeColsBounds(both.size, both, lower, upper)
    if best is None:
        return None
    if (best[0] + offset) * numbers.price_scale >= lp.objective - 1e-9:
        return lp
    for variable in model.problem.variables():
        first = columns[variable.id]
        variable.value = best[1][first : first + variable.size].reshape(variable.shape)
    return model.solution(numbers, best[0] + offset)


def _lowest_grid_kW(model: LinearModel, numbers: Numbers) -> np.ndarray:
    """A lower bound on the grid's net power per step (kW): the non-controllable load with every car at its lowest
    net current (its minimum, less what it may discharge) and every battery discharging fully. The grid's balance is
    exactly the load plus every device's power (AC side), so where this is above 0 the site cannot export."""
    layout = model.layout
    watts_per_ampere = np.array([s.watts_per_ampere for s in layout.sessions])[layout.car_of_step]
    cars = np.bincount(
        layout.step_of_car_step,
        weights=(numbers.car_lower + discharge_lower(layout)) * watts_per_ampere,
        minlength=layout.steps,
    )
    lowest: np.ndarray = (numbers.fixed_total + cars + numbers.battery_lower.sum(axis=0)) / 1000
    return lowest


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
