"""Closed loop: re-planned every step with the energy each car received, every feasible target is met.

A target is feasible when one plan of the whole stay, made at the start with exact forecasts, meets it. The
enforced step then rounds the plan to 0 or at least the minimum current every step; these cases are the ones
where that rounding used to lose energy for good: a plan that leaves a car's remainder to its last steps
(a piece below the minimum that rounding down never gets back), and cars planned at their maximum for the
rest of their stay squeezed by a car with time to spare rounded up to its minimum.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pytest
from solver_helpers import START, THREE_PINS, assert_currents_within, assert_enforced_min_rule, enforced_currents, pole

from solver import ChargingSession, Collector, OptimizationConfig, Problem, solve

STEP = timedelta(minutes=15)
HOURS = STEP / timedelta(hours=1)
WATTS_PER_AMPERE = 3 * 230.0
STEP_AT_16_A_Wh = 16.0 * WATTS_PER_AMPERE * HOURS
MARGIN_A = 0.01
MET_WITHIN_Wh = 10.0


@dataclass(frozen=True)
class Car:
    need_Wh: float
    leave_step: int
    max_A: float = 16.0


def _problem(fuse: float, cars: list[Car], prices: list[float], t: int, delivered: np.ndarray) -> Problem:
    left = len(prices) - t
    plugged = [i for i, car in enumerate(cars) if t < car.leave_step]
    return Problem(
        start=START + t * STEP,
        collectors=(Collector("main", fuse),),
        poles=tuple(pole(f"p{i}", "main") for i in range(len(cars))),
        sessions=tuple(
            ChargingSession(
                f"p{i}",
                THREE_PINS,
                energy_needed_Wh=max(cars[i].need_Wh - delivered[i], 0.0),
                energy_delivered_Wh=float(delivered[i]),
                leave_time=START + cars[i].leave_step * STEP,
                max_current_per_phase_A=cars[i].max_A,
            )
            for i in plugged
        ),
        import_price=prices[t:],
        export_price=[0.0] * left,
        config=OptimizationConfig(step=STEP, horizon=STEP * left),
    )


def _closed_loop(fuse: float, cars: list[Car], prices: list[float]) -> np.ndarray:
    """Energy each car received, drawing its enforced limit (or what it still needs) at every re-plan."""
    delivered = np.zeros(len(cars))
    for t in range(len(prices)):
        problem = _problem(fuse, cars, prices, t, delivered)
        if not problem.sessions:
            continue
        result = solve(problem)
        assert not result.used_fallback, result.status
        assert_currents_within(problem, enforced_currents(problem, result), tolerance=-MARGIN_A)
        assert_enforced_min_rule(problem, result)
        limits = {e.uuid: e.limits_root_side.ac_max_current_A for e in result.enforced_limits}
        for s in problem.sessions:
            i = int(s.device_id[1:])
            drawn = min(limits[s.device_id], s.energy_needed_Wh / (WATTS_PER_AMPERE * HOURS))
            delivered[i] += drawn * WATTS_PER_AMPERE * HOURS
    return delivered


def _feasible(fuse: float, cars: list[Car], prices: list[float]) -> np.ndarray:
    """Which targets one plan of the whole stay, made at the start, meets."""
    result = solve(_problem(fuse, cars, prices, 0, np.zeros(len(cars))))
    return np.array([result.sessions[f"p{i}"].unmet_Wh <= 1.0 for i in range(len(cars))])


FALLING = [0.50 - 0.02 * t for t in range(12)]


@pytest.mark.parametrize(
    ("fuse", "cars", "prices"),
    [
        # A lone car whose remainder (0.1 step at 16 A = 1.6 A) falls in its dearest, first step.
        (32.0, [Car(7.1 * STEP_AT_16_A_Wh, 8)], FALLING[:8]),
        # The same with prices rising at the end: the remainder lands mid-stay.
        (32.0, [Car(6.05 * STEP_AT_16_A_Wh, 8)], [0.3, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.4]),
        # Two cars that need every step at 16 A but a little, and a third with time to spare that rounding up
        # to 6 A would squeeze them on the 35 A fuse.
        (
            35.0,
            [Car(8 * STEP_AT_16_A_Wh - 50.0, 8), Car(8 * STEP_AT_16_A_Wh - 50.0, 8), Car(3_000.0, 12)],
            [0.3] * 12,
        ),
        # A small car park on a shared fuse, leave times and needs apart, falling prices.
        (
            40.0,
            [
                Car(5.3 * STEP_AT_16_A_Wh, 7),
                Car(9.2 * STEP_AT_16_A_Wh, 12),
                Car(4.1 * STEP_AT_16_A_Wh, 10),
                Car(2.05 * STEP_AT_16_A_Wh * 2, 12, max_A=32.0),
            ],
            FALLING,
        ),
    ],
)
def test_a_closed_loop_meets_every_feasible_target(fuse: float, cars: list[Car], prices: list[float]) -> None:
    feasible = _feasible(fuse, cars, prices)
    assert feasible.any()
    delivered = _closed_loop(fuse, cars, prices)
    need = np.array([car.need_Wh for car in cars])
    short = np.where(feasible, need - delivered, 0.0)
    assert (short <= MET_WITHIN_Wh).all(), f"short by {short.round(1)} Wh (feasible {feasible})"
