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

import highspy as hp
import numpy as np
import scipy.sparse as sp

from solver.bidirectional import discharge_lower
from solver.highs_basis import Arrays, pass_model
from solver.linear import Solution
from solver.model import LinearModel, LpSolution
from solver.numbers import Numbers
from solver.timeout import timed_out

AUTONOMY_ROUNDS = 4
TOLERANCE_KW = 1e-6
ENUMERATED_STEPS = 3
"""Up to this many inverted-price steps, the true bill is the best of 2^k LPs instead of a MILP."""


def autonomy_conflicts(model: LinearModel) -> np.ndarray:
    """Per autonomy step: does a full-autonomy car charge while the site imports?"""
    m = model.matrices
    if model.charging is None or not m.autonomy_steps.size or model.last is None:
        return np.zeros(m.autonomy_steps.size, dtype=bool)
    autonomous = m.autonomy @ model.value(model.charging)
    imported = model.value(model.imported)[m.autonomy_steps]
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
    """The LP with no surplus for full-autonomy cars at the `closed` steps: only those rows' bounds move, so HiGHS
    resumes from the LP's basis in its own instance (solver.highs_basis)."""
    surplus = numbers.local_surplus[model.matrices.autonomy_steps] / 1000
    model.lp.rhs("full_autonomy", np.where(closed, 0.0, surplus))
    return model.solve(numbers, time_limit_s)


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
    scale, hours = numbers.price_scale, model.layout.problem.step_hours
    # The LP priced import at the export price and export at the import price there: bill them truly.
    cheaper = (numbers.objective_import_price[steps] - numbers.objective_export_price[steps]) / scale * hours
    imported, exported = model.value(model.imported)[steps], model.value(model.exported)[steps]
    lp_bill = solution.objective + float(cheaper @ (imported + exported) * scale)
    billed = replace(solution, objective=lp_bill)
    if steps.size <= ENUMERATED_STEPS:
        enumerated = _best_sign_choice(model, numbers, steps, cheaper, time_limit_s, billed)
        if enumerated is not None:
            return enumerated
    return _milp(model, numbers, steps, cheaper, time_limit_s, billed)


def _milp(
    model: LinearModel, numbers: Numbers, steps: np.ndarray, cheaper: np.ndarray, time_limit_s: float, lp: LpSolution
) -> LpSolution:
    """The LP with one binary per inverted step (importing, or exporting, never both) and the true prices there,
    started over in a HiGHS of its own; `lp` (the LP's answer at its true bill) unless it finds better in time."""
    program, last = model.lp, model.last
    assert program.matrix is not None and last is not None, "the LP was solved first"
    columns, k = program.cost.size, steps.size
    imported, exported = model.imported.first + steps, model.exported.first + steps
    bound = _grid_bound_kW(model, numbers)[steps]
    picks = np.arange(k)
    # imported - bound * importing <= 0; exported + bound * importing <= bound
    binary = columns + picks
    entries = np.concatenate([np.ones(k), -bound, np.ones(k), bound])
    at = (np.concatenate([picks, picks, picks + k, picks + k]), np.concatenate([imported, binary, exported, binary]))
    rows = sp.csc_array((entries, at), shape=(2 * k, columns + k))
    matrix = sp.csc_array(sp.vstack([sp.hstack([program.matrix, sp.csc_array((program.matrix.shape[0], k))]), rows]))
    cost = np.concatenate([program.cost, np.zeros(k)])
    cost[imported] += cheaper
    cost[exported] += cheaper
    arrays = Arrays(
        cost,
        np.concatenate([program.col_lower, np.zeros(k)]),
        np.concatenate([program.col_upper, np.ones(k)]),
        np.concatenate([program.row_lower, np.full(2 * k, -np.inf)]),
        np.concatenate([program.row_upper, np.zeros(k), bound]),
    )
    milp = hp.Highs()
    milp.setOptionValue("output_flag", False)
    pass_model(milp, matrix, arrays, np.concatenate([np.zeros(columns, dtype=np.int32), np.ones(k, dtype=np.int32)]))
    milp.setOptionValue("time_limit", max(time_limit_s, 0.05))
    milp.run()
    if milp.getModelStatus() not in (hp.HighsModelStatus.kOptimal, hp.HighsModelStatus.kTimeLimit):
        return lp
    found = milp.getSolution()
    if not found.value_valid:
        return lp
    objective = float(milp.getInfo().objective_function_value)
    if objective * numbers.price_scale >= lp.objective - 1e-9:
        return lp
    model.last = replace(last, x=np.array(found.col_value)[:columns], objective=objective)
    return model.solution(numbers, objective)


def _best_sign_choice(
    model: LinearModel,
    numbers: Numbers,
    steps: np.ndarray,
    cheaper: np.ndarray,
    time_limit_s: float,
    lp_bill: LpSolution,
) -> LpSolution | None:
    """The true bill's optimum as the best LP over every import-or-export choice at `steps` (module docstring),
    or `lp_bill` (the LP's answer at its true bill) when that is as good.

    `cheaper` (per kWh, in the LP's units, < 0) is what the true price takes off the LP's cost of a kW of
    import or export there. None when the LP's HiGHS is not at hand or a choice did not solve in time (an
    infeasible choice is one the MILP would not take either).
    """
    held, last, lp = model.highs_solver, model.last, model.lp
    if held.optimal is None or last is None:
        return None
    started = time.perf_counter()
    both = np.concatenate([model.imported.first + steps, model.exported.first + steps])
    cost, upper = lp.cost[both].copy(), lp.col_upper[both].copy()
    best: tuple[float, Solution] | None = None
    can_export = _lowest_grid_kW(model, numbers)[steps] <= TOLERANCE_KW
    try:
        for importing in itertools.product((True, False), repeat=steps.size):
            side = np.array(importing)
            if (~side & ~can_export).any():  # exporting where the load alone imports: infeasible, no LP needed
                continue
            remaining = time_limit_s - (time.perf_counter() - started)
            if remaining <= 0:
                return None
            lp.cost[both] = cost + np.concatenate([cheaper, cheaper])
            lp.col_upper[both] = np.where(np.concatenate([~side, side]), 0.0, upper)
            status, found = held.solve(lp, remaining, new_costs=True)
            if status == "infeasible":  # e.g. no export possible while the load alone imports
                continue
            if found is None:
                return None
            if best is None or found.objective < best[0]:
                best = (found.objective, found)
    finally:
        lp.cost[both], lp.col_upper[both] = cost, upper
        held.restore(lp)
    if best is None:
        return None
    if best[0] * numbers.price_scale >= lp_bill.objective - 1e-9:
        return lp_bill
    model.last = replace(best[1], row_dual=last.row_dual, col_dual=last.col_dual)
    return model.solution(numbers, best[0])


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
