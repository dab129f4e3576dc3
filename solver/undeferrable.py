"""What of a car's plan now no later step could make up: the enforced step rounds that up, never down.

Later steps have room for a car only up to its own maximum and what the plan leaves on every row above it,
so energy the plan gives a car now beyond that room is lost for good if it is not delivered now.
"""

from __future__ import annotations

import numpy as np

from solver.assemble import Plan, row_currents
from solver.layout import Layout
from solver.numbers import Numbers


def _headroom_later(layout: Layout, numbers: Numbers, plan: Plan) -> np.ndarray:
    """Per car-step: how many more amps than planned the car could take then, within its own limit and the
    room the plan leaves on every row above it (each car counts a row's whole room: an upper estimate)."""
    room = np.maximum(numbers.row_limit_import - row_currents(layout, numbers, plan), 0.0)
    flows = layout.car_injection.tocsc()
    tightest = np.full((len(layout.sessions), layout.steps), np.inf)
    filled = np.flatnonzero(np.diff(flows.indptr) > 0)
    if filled.size:
        positive = np.maximum(flows.data, 1e-12)[:, None]
        per_row = room[flows.indices] / positive
        tightest[filled] = np.minimum.reduceat(per_row, flows.indptr[filled], axis=0)
    own = numbers.car_upper - plan.car_current
    headroom: np.ndarray = np.maximum(np.minimum(own, tightest[layout.car_of_step, layout.step_of_car_step]), 0.0)
    return headroom


def undeferrable_current(layout: Layout, numbers: Numbers, plan: Plan) -> np.ndarray:
    """Per session: the planned current now that no later step could make up (A).

    A later step makes up at most the car's headroom then (its own limit and the room the plan leaves on the
    rows above it), so what the plan gives it now beyond the sum of those is lost for good if it is not
    delivered now.
    """
    n_cars = len(layout.sessions)
    energy = layout.energy_per_ampere()
    later = np.ones(layout.car_steps, dtype=bool)
    plugged = layout.offsets[1:] > layout.offsets[:-1]
    first = layout.offsets[:-1][plugged]
    later[first] = False
    headroom_Wh = np.bincount(
        layout.car_of_step, weights=_headroom_later(layout, numbers, plan) * energy * later, minlength=n_cars
    )
    undeferrable = np.zeros(n_cars)
    undeferrable[plugged] = np.clip(
        plan.car_current[first] - headroom_Wh[plugged] / np.maximum(energy[first], 1e-12), 0.0, None
    )
    return undeferrable
