"""What a solve plans with when the LP gives no answer in time: the best plan at hand, equal share last.

In order of preference (`solver.result.PlanSource`):
- `optimized`: the LP's answer (with its full-autonomy rounds and the true bill).
- `best_so_far`: the time ran out during the full-autonomy rounds; the last round's optimal answer, with the
  full-autonomy cars switched off where it still had them charging while the site imports.
- `previous_plan`: the last optimized plan of this site, shifted to the new start: each car keeps the current
  the previous plan gave it at that instant (within its new bounds, no more than its remaining need); at any step
  where that no longer fits a limit with the new forecasts (a collector phase, the import power limit, the
  surplus of full-autonomy cars), the equal share of that step instead. Batteries idle, as in equal share.
- `equal_share`: the fallback of `solver.fallback`.
Every one is fuse-safe: the enforced step then decides the instant with the measured load as always.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from solver.assemble import Plan
from solver.fallback import import_side_headroom, import_side_load
from solver.layout import Layout
from solver.numbers import Numbers

TOLERANCE = 1e-6


def timed_out(status: str) -> bool:
    """Did the LP stop at its time limit (HiGHS's kTimeLimit is named `user_limit`, as cvxpy names it)?"""
    return status.startswith(("user_limit", "time_limit"))


@dataclass(frozen=True)
class PreviousPlan:
    """An optimized plan's car currents (A per used pin, per step from `start`), by pole."""

    start: datetime
    step: timedelta
    car_current: Mapping[str, np.ndarray]

    @classmethod
    def of(cls, layout: Layout, plan: Plan) -> PreviousPlan:
        matrix = plan.car_matrix(layout)
        currents = {s.device_id: matrix[k] for k, s in enumerate(layout.sessions)}
        return cls(layout.problem.start, layout.problem.config.step, currents)


def shifted_plan(layout: Layout, numbers: Numbers, previous: PreviousPlan, fallback: Plan) -> Plan | None:
    """`previous` moved to the layout's start and repaired with `fallback` where it no longer fits (module docstring).

    None when it cannot apply: another step length, or a start before the previous plan's.
    """
    problem = layout.problem
    if previous.step != problem.config.step or problem.start < previous.start:
        return None
    shift = math.floor((problem.start - previous.start) / previous.step + TOLERANCE)
    steps = layout.steps
    matrix = np.zeros((len(layout.sessions), steps))
    for k, session in enumerate(layout.sessions):
        old = previous.car_current.get(session.device_id)
        if old is not None:
            part = old[shift : shift + steps]
            matrix[k, : part.size] = part
    current = np.clip(matrix[layout.car_of_step, layout.step_of_car_step], numbers.car_lower, numbers.car_upper)
    current = _within_need(layout, numbers, current)
    load = import_side_load(layout)
    order = np.argsort(layout.step_of_car_step, kind="stable")
    bounds = np.searchsorted(layout.step_of_car_step[order], np.arange(steps + 1))
    for t in range(steps):
        columns = order[bounds[t] : bounds[t + 1]]
        if columns.size == 0:
            continue
        at_step = np.zeros(len(layout.sessions))
        at_step[layout.car_of_step[columns]] = current[columns]
        headroom = import_side_headroom(numbers, t, numbers.fixed_rows[:, t], numbers.fixed_total[t])
        used = load @ at_step
        if np.any((used > headroom + TOLERANCE) & (used > TOLERANCE)):
            current[columns] = fallback.car_current[columns]
    return Plan(current, fallback.battery_power, fallback.battery_soc_Wh)


def _within_need(layout: Layout, numbers: Numbers, current: np.ndarray) -> np.ndarray:
    """Currents cut back, from each car's last steps, so that no car takes more than its energy cap."""
    energy = current * layout.energy_per_ampere()
    matrix = np.zeros((len(layout.sessions), layout.steps))
    matrix[layout.car_of_step, layout.step_of_car_step] = energy
    taken = np.cumsum(matrix, axis=1)
    allowed = np.minimum(taken, numbers.energy_cap_Wh[:, None])
    kept = np.diff(allowed, axis=1, prepend=0.0)[layout.car_of_step, layout.step_of_car_step]
    share = np.divide(kept, energy, out=np.zeros_like(energy), where=energy > 0)
    result: np.ndarray = current * np.clip(share, 0.0, 1.0)
    return result
