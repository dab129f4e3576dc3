"""The decision for the current instant: who charges now, at how many amps, exactly within every limit.

A car takes 0 A or at least its `ac_min_current_A`, so the LP's current cannot simply be rounded. The
decision is a greedy pass that is exact by construction (every step keeps every limited row at least
`MARGIN_A` under its limit, measured load included) and linear in the number of cars:

1. Candidates are the cars the plan charges now. Their planned power is the budget: the plan's price
   decisions hold, and the amps of a car that cannot reach its minimum go to another one.
2. A car's undeferrable current is the part of its plan now that no later step could make up: later
   steps have room only up to the car's own maximum and what the plan leaves on the rows above it (all of
   it in the car's last step, or where the plan fills the fuse until the car leaves). Cars whose
   undeferrable current is at least their minimum come first and share the room towards it; no car
   switched on after them squeezes them. Those whose undeferrable current is below their minimum come
   next and are rounded up to it (whatever the budget) where it fits: rounding them down would lose what
   the plan gives them for good. A plan that leaves a car's charging to its last steps therefore gets it.
   Then a car the plan charges at or above its minimum keeps its planned amps.
3. Then, in order of who is furthest behind (energy still needed against the energy it could take before
   it leaves, then the energy already received), a car is switched on at its minimum when that minimum
   fits every limit above it and the budget, rounded to the nearest car. So when the share is below the
   minimum, cars take turns, the one behind first, and a waiting car is only left out when its minimum
   does not fit.
4. The cars that are on get their planned current (at least the minimum), scaled towards the current they
   were switched on at where the measured load leaves less room; the budget of the cars left out is then
   shared equally (water filling) among those on, each capped so that it ends at most one step at its
   minimum ahead of a comparable car that waits. Comparable cars therefore end their stay within one such
   step.

Full-autonomy cars come last: they may take only what the site would otherwise export, with every other
device at its decided value, so their charging never causes grid import. Batteries keep their planned
power, unless the measured load alone breaks a limit: then a small LP moves them to shrink the overload.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from solver.assemble import Plan
from solver.bidirectional import discharge_now
from solver.layout import Layout
from solver.numbers import Numbers
from solver.undeferrable import undeferrable_current

MARGIN_A = 0.0101
"""Room kept under every current limit (A; the enforced step must stay at least 0.01 A under)."""
MARGIN_W = 5.0
"""Room kept under the grid power limits and the autonomy surplus (W)."""
UNDEFERRABLE_A = 0.01
"""Undeferrable current below which a car's plan now may still be rounded down to 0 (A; under 1 Wh a step)."""
BISECTION_ROUNDS = 40
FILLING_ROUNDS = 6


@dataclass(frozen=True)
class InstantDecision:
    """Car current per session (A per used pin) and battery power (W) for the current instant."""

    car_current: np.ndarray
    battery_power: np.ndarray
    warnings: tuple[str, ...]


@dataclass
class _Rows:
    """The limited rows of the instant: touched collector phases (A), grid import power (W), autonomy surplus (W)."""

    flows: sp.csc_array
    upper: np.ndarray
    lower: np.ndarray
    margin: np.ndarray
    autonomy_row: int
    room: np.ndarray | None = None
    """What the cars may add on each row over the decided base: the limit less the margin, never below the
    base itself (a row the measured load alone overloads takes no more, its cars get 0)."""

    def settle(self, base: np.ndarray) -> None:
        self.room = np.maximum(self.upper - self.margin, base)

    def column(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        start, stop = self.flows.indptr[k], self.flows.indptr[k + 1]
        return self.flows.indices[start:stop], self.flows.data[start:stop]


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


def _rows(layout: Layout, numbers: Numbers) -> tuple[_Rows, sp.csc_array]:
    """Per-A car flows on every limited row and per-W battery flows, with the room the measured load leaves."""
    sessions = layout.sessions
    n_batteries = len(layout.batteries)
    wpa = np.array([s.watts_per_ampere for s in sessions])
    autonomous = np.array([s.session.full_autonomy for s in sessions], dtype=float)
    touched = np.flatnonzero(
        np.asarray(abs(layout.car_injection).sum(axis=1)).ravel()
        + np.asarray(abs(layout.battery_injection).sum(axis=1)).ravel()
        > 0
    )
    cars = sp.vstack(
        [layout.car_injection[touched], sp.csr_array(wpa[None, :]), sp.csr_array((wpa * autonomous)[None, :])],
        format="csc",
    )
    batteries = sp.vstack(
        [layout.battery_injection[touched], sp.csr_array(np.ones((1, n_batteries))), sp.csr_array((1, n_batteries))],
        format="csc",
    )
    base = np.concatenate([numbers.measured_rows[touched], [numbers.measured_total, 0.0]])
    upper = np.concatenate([numbers.row_limit_import[touched, 0], [numbers.import_power_limit[0], 0.0]]) - base
    lower = np.concatenate([-numbers.row_limit_export[touched, 0], [-numbers.export_power_limit[0], -np.inf]]) - base
    margin = np.concatenate([np.full(touched.size, MARGIN_A), [MARGIN_W, MARGIN_W]])
    return _Rows(cars, upper, lower, margin, touched.size + 1), batteries


def _batteries_now(
    rows: _Rows, battery_flows: sp.csc_array, target: np.ndarray, low: np.ndarray, high: np.ndarray
) -> tuple[np.ndarray, bool]:
    """The planned battery power, moved (by a small LP) only where it or the measured load breaks a limit's margin.

    Returns the power and whether an import-side overload remains with every car at 0.
    """
    m = rows.autonomy_row
    upper = rows.upper[:m] - rows.margin[:m]
    lower = rows.lower[:m] + rows.margin[:m]
    flow = battery_flows[:m] @ target
    if target.size == 0 or ((flow <= upper + 1e-9) & (flow >= lower - 1e-9)).all():
        return target, bool((flow > upper + 1e-9).any())
    n = target.size
    limited = battery_flows[:m].toarray()
    # Columns: battery power | overload slack per row (import, export) | |deviation| per battery.
    cost = np.concatenate([np.zeros(n), np.full(2 * m, 1e6), np.full(n, 1e-3)])
    a_ub = np.block(
        [
            [limited, -np.eye(m), np.zeros((m, m + n))],
            [-limited, np.zeros((m, m)), -np.eye(m), np.zeros((m, n))],
            [np.eye(n), np.zeros((n, 2 * m)), -np.eye(n)],
            [-np.eye(n), np.zeros((n, 2 * m)), -np.eye(n)],
        ]
    )
    b_ub = np.concatenate([upper, -np.maximum(lower, -1e12), target, -target])
    bounds = [(lo, hi) for lo, hi in zip(low, high, strict=True)] + [(0, None)] * (2 * m + n)
    answer = linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    power = target if answer.status != 0 else np.clip(answer.x[:n], low, high)
    return power, bool((battery_flows[:m] @ power > upper + 1e-9).any())


def _behind_order(layout: Layout, numbers: Numbers, candidates: np.ndarray, planned: np.ndarray) -> np.ndarray:
    """Candidates furthest behind first: need against what the car could take until it leaves, then received."""
    sessions = layout.sessions
    takeable = np.bincount(
        layout.car_of_step, weights=numbers.car_upper * layout.energy_per_ampere(), minlength=len(sessions)
    )
    urgency = numbers.energy_target_Wh / np.maximum(takeable, 1e-9)
    received = np.array([s.session.energy_delivered_Wh for s in sessions])
    order = np.lexsort((-planned[candidates], received[candidates], -np.round(urgency[candidates], 9)))
    return candidates[order]


def _fits(rows: _Rows, flow: np.ndarray, k: int, amps: float) -> bool:
    assert rows.room is not None
    index, value = rows.column(k)
    return bool((flow[index] + value * amps <= rows.room[index]).all())


def _scaled(rows: _Rows, base: np.ndarray, low: np.ndarray, high: np.ndarray, on: np.ndarray) -> np.ndarray:
    """low + s_k (high - low) per car, s_k the largest share in [0, 1] every row above car k leaves.

    Car flows are non-negative on every limited row, so taking each car's tightest row is feasible in one
    pass, and a tight sub-board only holds back the cars under it (s = 0 fits by construction).
    """
    assert rows.room is not None
    low_on = np.where(on, low, 0.0)
    span = np.where(on, np.maximum(high - low, 0.0), 0.0)
    flow_low = base + rows.flows @ low_on
    extra = rows.flows @ span
    share_of_row = np.ones(extra.size)
    tight = extra > 1e-12
    share_of_row[tight] = np.clip((rows.room[tight] - flow_low[tight]) / extra[tight], 0.0, 1.0)
    flows = rows.flows
    share = np.ones(low.size)
    filled = np.flatnonzero(np.diff(flows.indptr) > 0)
    if filled.size:
        share[filled] = np.minimum.reduceat(share_of_row[flows.indices], flows.indptr[filled])
    return np.where(on, low + share * span, 0.0)


def _level_fill(
    rows: _Rows,
    base: np.ndarray,
    start: np.ndarray,
    cap: np.ndarray,
    active: np.ndarray,
    budget_W: float,
    wpa: np.ndarray,
) -> np.ndarray:
    """The active cars raised to the highest common level (each to its cap) within the budget and every limit."""
    assert rows.room is not None
    room = rows.room

    def at(level: float) -> np.ndarray:
        return np.where(active, np.maximum(start, np.minimum(level, cap)), start)

    def fits(level: float) -> bool:
        raised = at(level)
        within_budget = ((raised - start) * wpa).sum() <= budget_W + 1e-9
        return bool(within_budget and (base + rows.flows @ raised <= room + 1e-9).all())

    lo, hi = float(start[active].min()), float(cap[active].max())
    if fits(hi):
        return at(hi)
    for _ in range(BISECTION_ROUNDS):
        middle = (lo + hi) / 2
        if fits(middle):
            lo = middle
        else:
            hi = middle
    return at(lo)


def _water_filled(
    rows: _Rows,
    base: np.ndarray,
    current: np.ndarray,
    cap: np.ndarray,
    on: np.ndarray,
    budget_W: float,
    wpa: np.ndarray,
) -> np.ndarray:
    """Raise the cars that are on towards a common level (each to its cap) within the budget and every limit.

    Progressive filling: when a row fills up, its cars stop there and the others go on rising.
    """
    assert rows.room is not None
    active = on & (cap > current + 1e-9)
    for _ in range(FILLING_ROUNDS):
        if budget_W <= 1e-9 or not active.any():
            break
        raised = _level_fill(rows, base, current, cap, active, budget_W, wpa)
        budget_W -= float(((raised - current) * wpa).sum())
        current = raised
        full = base + rows.flows @ current >= rows.room - 1e-6
        under_full = np.asarray(rows.flows[full].sum(axis=0)).ravel() > 0
        active &= ~under_full & (cap > current + 1e-9)
    return current


def _catch_up_cap(
    layout: Layout, maximum: np.ndarray, minimum: np.ndarray, on: np.ndarray, waiting: np.ndarray
) -> np.ndarray:
    """Highest current per car that keeps it at most one step at its minimum ahead of a comparable car
    that waits because its minimum did not fit."""
    classes = layout.comparable_classes()
    received = np.array([s.session.energy_delivered_Wh for s in layout.sessions])
    per_ampere = np.array([s.watts_per_ampere for s in layout.sessions]) * layout.problem.step_hours
    cap = maximum.copy()
    for c in np.unique(classes[waiting]):
        lowest = received[waiting & (classes == c)].min()
        members = on & (classes == c)
        allowed = (lowest - received[members]) / np.maximum(per_ampere[members], 1e-9) + minimum[members]
        cap[members] = np.minimum(cap[members], np.maximum(allowed, minimum[members]))
    return cap


@dataclass(frozen=True)
class _Cars:
    """The instant's numbers per session."""

    planned: np.ndarray
    forced: np.ndarray
    minimum: np.ndarray
    maximum: np.ndarray
    wpa: np.ndarray
    eligible: np.ndarray
    undeferrable: np.ndarray
    """Current now that no later step could make up (step 2 of the module docstring)."""


def _switch_on(rows: _Rows, flow: np.ndarray, k: int, amps: float) -> bool:
    """Add car k at `amps` to `flow` where that fits every row above it."""
    if not _fits(rows, flow, k, amps):
        return False
    index, value = rows.column(k)
    flow[index] += value * amps
    return True


def _allocate(
    layout: Layout, numbers: Numbers, rows: _Rows, base: np.ndarray, cars: _Cars, group: np.ndarray
) -> np.ndarray:
    """Currents of the cars in `group` (the others at 0) over `base`: steps 1-4 of the module docstring."""
    planned, forced, minimum, maximum, wpa = cars.planned, cars.forced, cars.minimum, cars.maximum, cars.wpa
    wanted = np.maximum(planned, forced)
    candidates = np.flatnonzero(group & cars.eligible & (wanted > 1e-9))
    budget = float((wanted[candidates] * wpa[candidates]).sum())
    desired = np.minimum(np.maximum(wanted, minimum), maximum)
    urgent = cars.undeferrable > UNDEFERRABLE_A
    held = urgent & (cars.undeferrable >= minimum - 1e-9)
    on = np.zeros(planned.size, dtype=bool)
    waiting = np.zeros(planned.size, dtype=bool)
    flow = base.copy()
    order = _behind_order(layout, numbers, candidates, planned)
    # Cars with an undeferrable current of at least their minimum first: on at their minimum, then sharing the
    # room among themselves towards their undeferrable current, which no car switched on after them takes away.
    for k in order[held[order]]:
        on[k] = _switch_on(rows, flow, k, minimum[k])
        waiting[k] = not on[k]
    floor = minimum.copy()
    if on.any():
        undeferrable = np.minimum(cars.undeferrable, desired)
        floor = np.where(on, _scaled(rows, base, minimum, undeferrable, on), minimum)
        flow = base + rows.flows @ np.where(on, floor, 0.0)
    # Then the cars whose undeferrable current is below their minimum, rounded up where it fits above those;
    # then the cars planned at or above their minimum, with their own planned amps; the others share what the
    # plan gave them all, each switched on while its minimum is within half of what is left.
    whole = (wanted >= minimum - 1e-9) | (forced > 1e-9) | urgent
    free = budget - float((desired[candidates] * wpa[candidates] * whole[candidates]).sum())
    spent = 0.0
    rest = order[~held[order]]
    for k in np.concatenate([rest[urgent[rest]], rest[whole[rest] & ~urgent[rest]], rest[~whole[rest]]]):
        if not whole[k] and spent + minimum[k] * wpa[k] > free + minimum[k] * wpa[k] / 2 + 1e-9:
            continue
        on[k] = _switch_on(rows, flow, k, minimum[k])
        waiting[k] = not on[k]
        spent += minimum[k] * wpa[k] if on[k] and not whole[k] else 0.0
    cap = _catch_up_cap(layout, maximum, minimum, on, waiting)
    desired = np.maximum(np.minimum(desired, cap), floor)
    current = _scaled(rows, base, floor, desired, on)
    return _water_filled(rows, base, current, cap, on, budget - float((current * wpa).sum()), wpa)


def decide_instant(layout: Layout, numbers: Numbers, plan: Plan) -> InstantDecision:
    """Who charges now and at how many amps, exactly within every limit (see the module docstring)."""
    sessions = layout.sessions
    n_cars, n_batteries = len(sessions), len(layout.batteries)
    if n_cars == 0 and n_batteries == 0:
        return InstantDecision(np.zeros(0), np.zeros(0), ())
    plugged = np.array([s.steps > 0 for s in sessions], dtype=bool)
    first = layout.offsets[:-1][plugged]
    planned, maximum, forced = np.zeros(n_cars), np.zeros(n_cars), np.zeros(n_cars)
    planned[plugged], maximum[plugged], forced[plugged] = (
        plan.car_current[first],
        numbers.car_upper[first],
        numbers.car_lower[first],
    )
    minimum = np.array([s.session.ac_min_current_A for s in sessions])
    cars = _Cars(
        planned=planned,
        forced=forced,
        minimum=minimum,
        maximum=maximum,
        wpa=np.array([s.watts_per_ampere for s in sessions]),
        eligible=plugged & (maximum >= minimum) & (maximum > 0),
        undeferrable=undeferrable_current(layout, numbers, plan),
    )
    autonomous = np.array([s.session.full_autonomy for s in sessions], dtype=bool)

    rows, battery_flows = _rows(layout, numbers)
    low, high = _battery_range(layout, numbers)
    target = np.clip(plan.battery_power[:, 0], low, high) if n_batteries else np.zeros(0)
    battery, overloaded = _batteries_now(rows, battery_flows, target, low, high)
    warnings: list[str] = []
    if overloaded:
        warnings.append("the measured non-controllable load exceeds an import limit now: the cars under it get 0")
    base = battery_flows @ battery
    rows.settle(base)
    if (base < rows.lower - 1e-9).any():
        warnings.append("the measured production exceeds an export limit now, even with batteries charging")
    current = _allocate(layout, numbers, rows, base, cars, ~autonomous)
    if autonomous.any():
        flow = base + rows.flows @ current
        grid = rows.autonomy_row - 1
        exported = -(numbers.measured_total + flow[grid])
        assert rows.room is not None
        rows.room[rows.autonomy_row] = max(exported - MARGIN_W, 0.0)
        current = current + _allocate(layout, numbers, rows, flow, cars, autonomous)
    current = discharge_now(layout, numbers, plan, rows.flows, rows.lower, rows.margin, base, current)
    return InstantDecision(current, battery, tuple(warnings))
