"""Enforced limits for the current instant (EVerest form), exact about the 0-or-minimum rule.

A car takes 0 A or at least its `ac_min_current_A`; rounding the LP's current cannot honour that
and the phase physics at once. A small MILP over the current instant does: one binary (on/off)
per car, the batteries continuous, every collector phase and grid limit checked against the latest
MEASURED non-controllable load, as close as possible to the LP's plan. Slack on a limit is allowed
only at a huge price (and reported), so the answer exists even when the measured load alone is too
high: then cars get 0 and batteries discharge.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import highspy
import numpy as np
import scipy.sparse as sp

from solver.assemble import Plan
from solver.fallback import equal_share, import_side_headroom, import_side_load
from solver.layout import Layout
from solver.numbers import Numbers
from solver.result import EnforcedLimits, LimitsRootSide

SLACK_PENALTY = 1e6
UPWARD_DEVIATION_WEIGHT = 0.99
"""Slightly cheaper than deviating down: a car planned at 3 A with a 6 A minimum prefers 6 over 0."""


@dataclass(frozen=True)
class InstantDecision:
    """Car current per session (A per used pin) and battery power (W) for the current instant."""

    car_current: np.ndarray
    battery_power: np.ndarray
    warnings: tuple[str, ...]


def _battery_range(layout: Layout, numbers: Numbers) -> tuple[np.ndarray, np.ndarray]:
    """Battery power now within its live bounds and what its SoC allows over one step."""
    hours = layout.problem.step_hours
    lows, highs = [], []
    for b, battery in enumerate(layout.batteries):
        soc = numbers.initial_soc_Wh[b]
        high = min(numbers.battery_upper[b, 0], (battery.capacity_Wh - soc) / (battery.charging_efficiency * hours))
        low = max(numbers.battery_lower[b, 0], -soc * battery.discharging_efficiency / hours)
        lows.append(min(low, max(high, 0.0)))
        highs.append(max(high, lows[-1]))
    return np.array(lows), np.array(highs)


def _plugged_now(layout: Layout) -> np.ndarray:
    return np.array([s.steps > 0 for s in layout.sessions], dtype=bool)


def _now(
    layout: Layout, numbers: Numbers, car_current: np.ndarray, plugged: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Planned and maximum current of each session at step 0 (0 for cars leaving now)."""
    first = layout.offsets[:-1][plugged]
    target = np.zeros(len(layout.sessions))
    maximum = np.zeros(len(layout.sessions))
    target[plugged] = car_current[first]
    maximum[plugged] = numbers.car_upper[first]
    return target, maximum


def decide_instant(layout: Layout, numbers: Numbers, plan: Plan, time_limit_s: float) -> InstantDecision:
    """Solve the current-instant MILP; fall back to the equal share if HiGHS gives no solution."""
    sessions = layout.sessions
    n_cars, n_batteries = len(sessions), len(layout.batteries)
    plugged = _plugged_now(layout)
    minimum = np.array([s.session.ac_min_current_A for s in sessions])
    target, maximum = _now(layout, numbers, plan.car_current, plugged)
    maximum = np.where(maximum >= minimum, maximum, 0.0)
    battery_low, battery_high = _battery_range(layout, numbers)
    battery_target = np.clip(plan.battery_power[:, 0], battery_low, battery_high) if n_batteries else np.zeros(0)
    if n_cars == 0 and n_batteries == 0:
        return InstantDecision(np.zeros(0), np.zeros(0), ())

    wpa = np.array([s.watts_per_ampere for s in sessions])
    autonomous = np.array([s.session.full_autonomy for s in sessions], dtype=float)
    topology = layout.topology
    touched = np.flatnonzero(
        np.asarray(abs(layout.car_injection).sum(axis=1)).ravel()
        + np.asarray(abs(layout.battery_injection).sum(axis=1)).ravel()
        > 0
    )
    # Limited rows: touched collector phases, grid power, autonomy surplus. Columns: [cars, batteries].
    flows = sp.vstack(
        [
            sp.hstack([layout.car_injection[touched], layout.battery_injection[touched]]),
            sp.csr_array(np.concatenate([wpa, np.ones(n_batteries)])[None, :]),
            sp.csr_array(np.concatenate([wpa * autonomous, np.zeros(n_batteries)])[None, :]),
        ],
        format="csc",
    )
    base = np.concatenate([numbers.measured_rows[touched], [numbers.measured_total, 0.0]])
    upper = (
        np.concatenate(
            [numbers.row_limit_import[touched, 0], [numbers.import_power_limit[0], max(-numbers.measured_total, 0.0)]]
        )
        - base
    )
    lower = np.concatenate([-numbers.row_limit_export[touched, 0], [-numbers.export_power_limit[0], -np.inf]]) - base
    nearest = _nearest_allowed(target, minimum, maximum)
    flow = flows @ np.concatenate([nearest, battery_target])
    if ((flow <= upper + 1e-9) & (flow >= lower - 1e-9)).all():
        return InstantDecision(nearest, battery_target, ())

    n_limits = flows.shape[0]
    n_devices = n_cars + n_batteries

    # Columns: x (cars, batteries) | z (cars, binary) | down dev | up dev (devices) | slack up | slack down.
    between = _between(target, minimum, maximum)
    eye_d = sp.eye_array(n_devices, format="csc")
    eye_l = sp.eye_array(n_limits, format="csc")
    zeros = sp.csc_array
    car_rows = sp.eye_array(n_cars, n_devices, format="csc")
    matrix = sp.vstack(
        [
            sp.hstack([flows, zeros((n_limits, n_cars)), zeros((n_limits, 2 * n_devices)), -eye_l, eye_l]),
            sp.hstack([eye_d, zeros((n_devices, n_cars)), eye_d, -eye_d, zeros((n_devices, 2 * n_limits))]),
            sp.hstack(
                [car_rows, sp.diags_array(-maximum, format="csc"), zeros((n_cars, 2 * n_devices + 2 * n_limits))]
            ),
            sp.hstack(
                [car_rows, sp.diags_array(-minimum, format="csc"), zeros((n_cars, 2 * n_devices + 2 * n_limits))]
            ),
            _envelope(target, minimum, between, n_devices, 3 * n_devices + n_cars + 2 * n_limits),
        ],
        format="csc",
    )
    targets = np.concatenate([target, battery_target])
    row_lower = np.concatenate([lower, targets, np.full(n_cars, -np.inf), np.zeros(n_cars), target[between]])
    row_upper = np.concatenate(
        [upper, targets, np.zeros(n_cars), np.full(n_cars, np.inf), np.full(between.size, np.inf)]
    )
    scale_battery = np.array([1.0 / topology.voltage(b.collector_id) for b in layout.batteries])
    dev_weight = np.concatenate([np.ones(n_cars), scale_battery])
    cost = np.concatenate(
        [
            np.zeros(n_devices + n_cars),
            dev_weight,
            UPWARD_DEVIATION_WEIGHT * dev_weight,
            np.full(2 * n_limits, SLACK_PENALTY),
        ]
    )
    col_lower = np.concatenate([np.zeros(n_cars), battery_low, np.zeros(n_cars + 2 * n_devices + 2 * n_limits)])
    col_upper = np.concatenate([maximum, battery_high, np.ones(n_cars), np.full(2 * n_devices + 2 * n_limits, np.inf)])
    integrality = np.concatenate([np.zeros(n_devices), np.ones(n_cars), np.zeros(2 * n_devices + 2 * n_limits)])

    def incumbent(relaxed: np.ndarray) -> np.ndarray:
        """A MILP point near the relaxation: cars below their minimum go to 0, then back up to it where
        every limit keeps its room, largest first; deviations and slacks follow from the currents."""
        x = relaxed[:n_devices].copy()
        flow = flows @ x
        room = np.maximum(upper, flow)
        for k in np.flatnonzero((x[:n_cars] > 1e-9) & (x[:n_cars] < minimum - 1e-9)):
            flow -= flows[:, [k]].toarray().ravel() * x[k]
            x[k] = 0.0
        for k in sorted(np.flatnonzero((relaxed[:n_cars] > 1e-9) & (x[:n_cars] == 0.0)), key=lambda k: -relaxed[k]):
            raised = flow + flows[:, [k]].toarray().ravel() * minimum[k]
            if minimum[k] <= maximum[k] and (raised <= room + 1e-9).all():
                x[k], flow = minimum[k], raised
        z = (x[:n_cars] > 0).astype(float)
        deviation = x - targets
        return np.concatenate(
            [
                x,
                z,
                np.maximum(-deviation, 0.0),
                np.maximum(deviation, 0.0),
                np.maximum(flow - upper, 0.0),
                np.maximum(lower - flow, 0.0),
            ]
        )

    solution = _run_highs(
        matrix, cost, col_lower, col_upper, row_lower, row_upper, integrality, incumbent, time_limit_s
    )
    if solution is None:
        return _equal_share_now(layout, numbers, minimum, maximum, plugged)
    on = solution[n_devices : n_devices + n_cars] > 0.5
    cars = np.where(on, np.clip(solution[:n_cars], minimum, maximum), 0.0)
    slack = solution[n_devices + n_cars + 2 * n_devices :]
    warnings: tuple[str, ...] = ()
    if slack[:n_limits].max(initial=0.0) > 1e-6:
        warnings = ("the measured non-controllable load exceeds an import limit now: cars get 0",)
        cars = np.zeros(n_cars)
    if slack[n_limits:].max(initial=0.0) > 1e-6:
        warnings += ("the measured production exceeds an export limit now, even with batteries charging",)
    return InstantDecision(cars, solution[n_cars:n_devices].copy(), warnings)


def _between(target: np.ndarray, minimum: np.ndarray, maximum: np.ndarray) -> np.ndarray:
    """Cars planned between 0 and their minimum (that may take the minimum at all)."""
    return np.flatnonzero((target > 1e-9) & (target < minimum) & (minimum <= maximum))


def _envelope(
    target: np.ndarray, minimum: np.ndarray, cars: np.ndarray, n_devices: int, n_columns: int
) -> sp.csc_array:
    """down + 0.99 up - slope x >= target for each of `cars`, planned between 0 and its minimum.

    The line through (0, target) and (minimum, 0.99 (minimum - target)): the convex hull of that
    car's deviation cost over its allowed currents {0} and [minimum, maximum]. Without it the
    relaxation keeps the plan at no cost (z = x / maximum) and HiGHS spent its time in cuts.
    """
    t, m = target[cars], minimum[cars]
    slope = (UPWARD_DEVIATION_WEIGHT * (m - t) - t) / m
    rows = np.repeat(np.arange(cars.size), 3)
    n_cars = target.size
    columns = np.column_stack([cars, n_devices + n_cars + cars, 2 * n_devices + n_cars + cars]).ravel()
    values = np.column_stack([-slope, np.ones(cars.size), np.full(cars.size, UPWARD_DEVIATION_WEIGHT)]).ravel()
    return sp.csc_array((values, (rows, columns)), shape=(cars.size, n_columns))


def _nearest_allowed(target: np.ndarray, minimum: np.ndarray, maximum: np.ndarray) -> np.ndarray:
    """Each car's own best answer: its planned current, or the cheaper of 0 and its minimum.

    When these fit every limit they are the MILP's optimum: its objective is a sum of per-device
    deviations (batteries keep their target), and each term is at its own minimum.
    """
    allowed = minimum <= maximum
    up_cost = UPWARD_DEVIATION_WEIGHT * (minimum - target)
    rounded = np.where(allowed & (target > 0) & (up_cost < target), minimum, 0.0)
    return np.where(allowed & (target >= minimum), np.minimum(target, maximum), rounded)


def _run_highs(
    matrix: sp.csc_array,
    cost: np.ndarray,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    integrality: np.ndarray,
    incumbent: Callable[[np.ndarray], np.ndarray],
    time_limit_s: float,
) -> np.ndarray | None:
    """The relaxation first, then the MILP started from `incumbent(relaxed)`.

    Without a starting point HiGHS spent most of its time in root cuts and heuristics looking for a
    first solution that a rounding of the relaxation gives at once.
    """
    started = time.perf_counter()
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("time_limit", float(time_limit_s))
    highs.setOptionValue("mip_rel_gap", 1e-6)
    highs.setOptionValue("mip_abs_gap", 1e-3)
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = matrix.shape[1], matrix.shape[0]
    lp.col_cost_ = cost
    lp.col_lower_ = col_lower
    lp.col_upper_ = np.where(np.isinf(col_upper), inf, col_upper)
    lp.row_lower_ = np.where(np.isinf(row_lower), -inf, row_lower)
    lp.row_upper_ = np.where(np.isinf(row_upper), inf, row_upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr
    lp.a_matrix_.index_ = matrix.indices
    lp.a_matrix_.value_ = matrix.data
    highs.passModel(lp)
    highs.run()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    start = incumbent(np.asarray(highs.getSolution().col_value, dtype=float))
    binary = np.flatnonzero(integrality).astype(np.int32)
    highs.changeColsIntegrality(binary.size, binary, np.full(binary.size, highspy.HighsVarType.kInteger))
    solution = highspy.HighsSolution()
    solution.col_value = start.tolist()
    solution.value_valid = True
    highs.setSolution(solution)
    highs.setOptionValue("time_limit", max(float(time_limit_s) - (time.perf_counter() - started), 0.01))
    highs.run()
    if highs.getInfo().primal_solution_status != 2:
        return None
    return np.asarray(highs.getSolution().col_value, dtype=float)


def _equal_share_now(
    layout: Layout, numbers: Numbers, minimum: np.ndarray, maximum: np.ndarray, plugged: np.ndarray
) -> InstantDecision:
    """Equal share against the measured load, batteries idle."""
    headroom = import_side_headroom(numbers, 0, numbers.measured_rows, numbers.measured_total)
    cars = equal_share(import_side_load(layout), headroom, minimum, maximum, plugged)
    return InstantDecision(
        cars, np.zeros(len(layout.batteries)), ("the current-instant MILP found no solution: equal share used",)
    )


def equal_share_now(layout: Layout, numbers: Numbers) -> InstantDecision:
    """The fallback's decision for now: equal share against the measured load."""
    plugged = _plugged_now(layout)
    _, maximum = _now(layout, numbers, numbers.car_upper, plugged)
    minimum = np.array([s.session.ac_min_current_A for s in layout.sessions])
    decision = _equal_share_now(layout, numbers, minimum, maximum, plugged)
    return InstantDecision(decision.car_current, decision.battery_power, ())


def enforced_limits(layout: Layout, plan: Plan, decision: InstantDecision) -> tuple[EnforcedLimits, ...]:
    """EVerest EnforcedLimits per car with a session and per battery; the schedule is the plan."""
    problem, topology = layout.problem, layout.topology
    config = problem.config
    valid_for = config.enforced_valid_for or config.step
    valid_until = problem.start + valid_for
    cars = plan.car_matrix(layout)
    limits = []
    for k, session in enumerate(layout.sessions):
        planned = cars[k].copy()
        planned[0] = decision.car_current[k]
        limits.append(
            _limits(
                layout,
                session.device_id,
                planned,
                session.watts_per_ampere,
                len(session.phases),
                valid_until,
                valid_for,
            )
        )
    for b, battery in enumerate(layout.batteries):
        phases = len(topology.phases(battery.collector_id))
        voltage = topology.voltage(battery.collector_id)
        planned_power = plan.battery_power[b].copy()
        planned_power[0] = decision.battery_power[b]
        limits.append(
            _limits(
                layout, battery.id, planned_power / (phases * voltage), phases * voltage, phases, valid_until, valid_for
            )
        )
    return tuple(limits)


def _limits(
    layout: Layout,
    uuid: str,
    current: np.ndarray,
    watts_per_ampere: float,
    phase_count: int,
    valid_until: datetime,
    valid_for: timedelta,
) -> EnforcedLimits:
    problem = layout.problem
    return EnforcedLimits(
        uuid=uuid,
        valid_until=valid_until,
        valid_for_s=valid_for.total_seconds(),
        limits_root_side=LimitsRootSide(float(current[0]), float(current[0] * watts_per_ampere), phase_count),
        schedule_start=problem.start,
        schedule_step=problem.config.step,
        schedule_current_A=current,
        schedule_power_W=current * watts_per_ampere,
    )
