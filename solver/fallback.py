"""Fast, always-safe allocation when the LP fails or runs out of time.

Equal share under the tightest limit: every active car gets the same current (capped by its own
maximum, never below its minimum); cars that cannot get their minimum get 0. Batteries stay idle.
Only consumption is allocated, so limits on the export side can only get better.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from solver.assemble import Plan
from solver.layout import Layout
from solver.numbers import Numbers

BISECTION_ROUNDS = 48


def _drop_until_minimums_fit(
    load: sp.csr_array, headroom: np.ndarray, minimum: np.ndarray, active: np.ndarray
) -> np.ndarray:
    """Switch cars off (latest in input order first) until every row fits them at their minimum."""
    active = active.copy()
    while True:
        used = load @ (minimum * active)
        over = np.flatnonzero((used - headroom > 1e-9) & (used > 0))
        if over.size == 0:
            return active
        row = over[np.argmax(used[over] - headroom[over])]
        excess = used[row] - headroom[row]
        row_load = load[[row], :].toarray().ravel()
        for car in np.flatnonzero(active & (row_load > 0))[::-1]:
            active[car] = False
            excess -= row_load[car] * minimum[car]
            if excess <= 1e-9:
                break


def equal_share(
    load: sp.csr_array, headroom: np.ndarray, minimum: np.ndarray, maximum: np.ndarray, active: np.ndarray
) -> np.ndarray:
    """Largest common current per car such that `load @ current <= headroom`.

    `load` (rows x cars) is non-negative: A (or W) on each limited row per A of each car. A car
    gets min(max(level, its minimum), its maximum) for one common level, or 0 if switched off.
    """
    candidates = active & (maximum >= minimum) & (maximum > 0)
    candidates = _drop_until_minimums_fit(load, headroom, minimum, candidates)
    if not candidates.any():
        return np.zeros(minimum.size)

    def at(level: float) -> np.ndarray:
        return np.where(candidates, np.minimum(np.maximum(level, minimum), maximum), 0.0)

    low, high = 0.0, float(maximum[candidates].max())
    if np.all(load @ at(high) <= headroom + 1e-9):
        return at(high)
    for _ in range(BISECTION_ROUNDS):
        middle = (low + high) / 2
        if np.all(load @ at(middle) <= headroom + 1e-9):
            low = middle
        else:
            high = middle
    return at(low)


def import_side_load(layout: Layout) -> sp.csr_array:
    """Per-A load of each car (columns) on every import-side limit (rows).

    Rows: every collector phase, the grid import power limit, the local surplus available to
    full-autonomy cars.
    """
    wpa = np.array([s.watts_per_ampere for s in layout.sessions])
    autonomous = np.array([s.session.full_autonomy for s in layout.sessions], dtype=float)
    return sp.csr_array(
        sp.vstack(
            [
                sp.csr_array(layout.car_injection),
                sp.csr_array(wpa[None, :]),
                sp.csr_array((wpa * autonomous)[None, :]),
            ],
            format="csr",
        )
    )


def import_side_headroom(numbers: Numbers, step: int, fixed_rows: np.ndarray, fixed_total: float) -> np.ndarray:
    """Room left on each row of `import_side_load` by the non-controllable load at one step."""
    return np.concatenate(
        [
            numbers.row_limit_import[:, step] - fixed_rows,
            [numbers.import_power_limit[step] - fixed_total, max(-fixed_total, 0.0)],
        ]
    )


def fallback_plan(layout: Layout, numbers: Numbers) -> Plan:
    """Equal share step by step until each session's target energy is delivered; batteries idle."""
    steps = layout.steps
    n_sessions = len(layout.sessions)
    minimum = np.array([s.session.ac_min_current_A for s in layout.sessions])
    remaining = numbers.energy_target_Wh.copy()
    energy = layout.energy_per_ampere()
    current = np.zeros(layout.car_steps)
    order = np.argsort(layout.step_of_car_step, kind="stable")
    bounds = np.searchsorted(layout.step_of_car_step[order], np.arange(steps + 1))
    load = import_side_load(layout)
    for t in range(steps):
        columns = order[bounds[t] : bounds[t + 1]]
        if columns.size == 0:
            continue
        cars = layout.car_of_step[columns]
        maximum = np.zeros(n_sessions)
        floor = np.zeros(n_sessions)
        maximum[cars] = numbers.car_upper[columns]
        floor[cars] = minimum[cars]
        active = np.zeros(n_sessions, dtype=bool)
        active[cars] = remaining[cars] > 1e-9
        needed = np.full(n_sessions, np.inf)
        needed[cars] = remaining[cars] / np.maximum(energy[columns], 1e-12)
        maximum = np.minimum(maximum, np.maximum(needed, floor))
        headroom = import_side_headroom(numbers, t, numbers.fixed_rows[:, t], numbers.fixed_total[t])
        share = equal_share(load, headroom, floor, maximum, active)
        current[columns] = share[cars]
        remaining[cars] -= share[cars] * energy[columns]
    n_batteries = len(layout.batteries)
    soc = np.repeat(numbers.initial_soc_Wh.reshape(n_batteries, 1), steps + 1, axis=1)
    return Plan(car_current=current, battery_power=np.zeros((n_batteries, steps)), battery_soc_Wh=soc)
