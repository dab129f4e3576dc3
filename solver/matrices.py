"""Constant sparse matrices of the linear program, built once per model structure.

Units inside the LP keep coefficients near 1 for the simplex: car currents in A, grid and battery
power in kW, energy and state of charge in kWh.

Car currents are ONE vector over all car-steps (only steps a car is plugged in) and battery
charge/discharge/SoC are vectors over battery-steps (index b*T + t), so each family of constraints
is a single sparse product: the LP has a handful of blocks whatever the site size (solver.linear).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from solver.layout import Layout


@dataclass(frozen=True)
class Matrices:
    """One aggregate variable per (collector phase, step) that has a controllable flow below it.

    `aggregate_tree @ a == aggregate_car @ current + aggregate_battery @ (charge - discharge)` makes each
    aggregate the net controllable current on its row: the flows on the collector's own phase plus its
    children's aggregates, each scaled by the child's voltage ratio and landing on the parent phase its
    1P placement or phase permutation names. The fuse limits are the aggregates' bounds, so every LP row
    holds a collector's own devices and its children, never every car below it.
    """

    aggregate_index: np.ndarray
    aggregate_tree: sp.csr_array
    aggregate_car: sp.csr_array
    aggregate_battery: sp.csr_array
    grid_aggregate: sp.csr_array
    energy: sp.csr_array
    fair_select: sp.csr_array
    fair_mean: sp.csr_array
    autonomy_steps: np.ndarray
    autonomy: sp.csr_array
    soc_balance: sp.csr_array
    soc_charge: sp.csr_array
    soc_discharge: sp.csr_array
    policy: sp.csr_array
    policy_initial_weight: np.ndarray
    soc_end: sp.csr_array


def _per_step(layout: Layout, car: sp.csc_array, battery: sp.csc_array) -> tuple[sp.csr_array, sp.csr_array]:
    """(row, step) x car-step and (row, step) x battery-step (kW) versions of per-car / per-W row maps."""
    topology, steps = layout.topology, layout.steps
    size = topology.size * steps
    per_car_step = car[:, layout.car_of_step].tocoo()
    car_rows = per_car_step.row * steps + layout.step_of_car_step[per_car_step.col]
    car_matrix = sp.csr_array((per_car_step.data, (car_rows, per_car_step.col)), shape=(size, layout.car_steps))
    battery_coo = battery.tocoo()
    t = np.tile(np.arange(steps), battery_coo.nnz)
    battery_matrix = sp.csr_array(
        (
            np.repeat(battery_coo.data * 1000.0, steps),
            (np.repeat(battery_coo.row, steps) * steps + t, np.repeat(battery_coo.col, steps) * steps + t),
        ),
        shape=(size, len(layout.batteries) * steps),
    )
    return car_matrix, battery_matrix


def _aggregate_matrices(layout: Layout) -> tuple[np.ndarray, sp.csr_array, sp.csr_array, sp.csr_array, sp.csr_array]:
    """Aggregate indexing (row * T + t), tree, local flows, and the grid power (kW) of the root aggregates."""
    topology, steps = layout.topology, layout.steps
    below_car, below_battery = _per_step(layout, layout.car_injection, layout.battery_injection)
    index = np.flatnonzero((np.diff(below_car.indptr) > 0) | (np.diff(below_battery.indptr) > 0))
    local_car, local_battery = _per_step(layout, layout.car_local, layout.battery_local)
    rows, times = np.divmod(index, steps)
    child = np.flatnonzero(topology.parent_row[rows] >= 0)
    parent = np.searchsorted(index, topology.parent_row[rows[child]] * steps + times[child])
    n = index.size
    tree = sp.eye_array(n, format="csr") - sp.csr_array(
        (topology.parent_ratio[rows[child]], (parent, child)), shape=(n, n)
    )
    root = np.flatnonzero(topology.parent_row[rows] < 0)
    grid = sp.csr_array((topology.row_voltage[rows[root]] / 1000.0, (times[root], root)), shape=(steps, n))
    local_car, local_battery = sp.csr_array(local_car[index]), sp.csr_array(local_battery[index])
    return index, sp.csr_array(tree), local_car, local_battery, grid


def _soc_matrices(layout: Layout) -> tuple[sp.csr_array, sp.csr_array, sp.csr_array]:
    """s[b,t] - s[b,t-1] - dt*eta_c*c[b,t] + dt/eta_d*d[b,t] = (s0 at t = 0, else 0)."""
    steps, hours = layout.steps, layout.problem.step_hours
    batteries = layout.batteries
    blocks = [sp.eye_array(steps) - sp.eye_array(steps, k=-1) for _ in batteries]
    balance = sp.block_diag(blocks, format="csr") if blocks else sp.csr_array((0, 0))
    charge = sp.diags_array(np.repeat([-hours * b.charging_efficiency for b in batteries], steps), format="csr")
    discharge = sp.diags_array(np.repeat([hours / b.discharging_efficiency for b in batteries], steps), format="csr")
    return sp.csr_array(balance), sp.csr_array(charge), sp.csr_array(discharge)


def _policy_matrix(layout: Layout) -> tuple[sp.csr_array, np.ndarray]:
    """SoC at each policy instant, linear between step boundaries; boundary 0 is the known s0."""
    steps = layout.steps
    rows, cols, values = [], [], []
    initial = np.zeros(len(layout.policy_rows))
    for i, (b, k, alpha, _, _) in enumerate(layout.policy_rows):
        for boundary, weight in ((k, 1.0 - alpha), (k + 1, alpha)):
            if weight == 0:
                continue
            if boundary == 0:
                initial[i] += weight
            else:
                rows.append(i)
                cols.append(b * steps + boundary - 1)
                values.append(weight)
    shape = (len(layout.policy_rows), len(layout.batteries) * steps)
    return sp.csr_array((values, (rows, cols)), shape=shape), initial


def _fair_share(layout: Layout) -> tuple[sp.csr_array, sp.csr_array]:
    """Car-steps of comparable cars (classes of two or more) within the fair-share horizon, and their class mean.

    `fair_select @ current - fair_mean @ mean` is each such car's deviation from its class's current at that
    step; a small cost on its size keeps comparable cars at the same current without pricing charging itself.
    """
    classes = layout.comparable_classes()
    shared = np.bincount(classes, minlength=classes.max(initial=-1) + 1)[classes] >= 2
    max_current = np.array([s.max_current_A for s in layout.sessions])
    chosen = np.flatnonzero(
        (layout.step_of_car_step < layout.fair_share_steps)
        & shared[layout.car_of_step]
        & (max_current[layout.car_of_step] > 0)
    )
    group = classes[layout.car_of_step[chosen]] * layout.steps + layout.step_of_car_step[chosen]
    groups, position = np.unique(group, return_inverse=True)
    rows = np.arange(chosen.size)
    select = sp.csr_array((np.ones(chosen.size), (rows, chosen)), shape=(chosen.size, layout.car_steps))
    mean = sp.csr_array((np.ones(chosen.size), (rows, position)), shape=(chosen.size, groups.size))
    return select, mean


def build_matrices(layout: Layout) -> Matrices:
    steps, car_steps = layout.steps, layout.car_steps
    index, tree, aggregate_car, aggregate_battery, grid = _aggregate_matrices(layout)
    kw_per_ampere = np.array([s.watts_per_ampere for s in layout.sessions])[layout.car_of_step] / 1000.0
    columns = np.arange(car_steps)
    energy = sp.csr_array(
        (layout.energy_per_ampere() / 1000.0, (layout.car_of_step, columns)), shape=(len(layout.sessions), car_steps)
    )
    fair_select, fair_mean = _fair_share(layout)

    autonomous = np.array([s.session.full_autonomy for s in layout.sessions], dtype=bool)[layout.car_of_step]
    autonomy_steps = np.unique(layout.step_of_car_step[autonomous])
    position = np.searchsorted(autonomy_steps, layout.step_of_car_step[autonomous])
    autonomy = sp.csr_array(
        (kw_per_ampere[autonomous], (position, columns[autonomous])), shape=(autonomy_steps.size, car_steps)
    )

    balance, charge, discharge = _soc_matrices(layout)
    policy, initial = _policy_matrix(layout)
    return Matrices(
        aggregate_index=index,
        aggregate_tree=tree,
        aggregate_car=aggregate_car,
        aggregate_battery=aggregate_battery,
        grid_aggregate=grid,
        energy=energy,
        fair_select=fair_select,
        fair_mean=fair_mean,
        autonomy_steps=autonomy_steps,
        autonomy=autonomy,
        soc_balance=balance,
        soc_charge=charge,
        soc_discharge=discharge,
        policy=policy,
        policy_initial_weight=initial,
        soc_end=sp.csr_array(
            (
                np.ones(len(layout.batteries)),
                (np.arange(len(layout.batteries)), np.arange(1, len(layout.batteries) + 1) * steps - 1),
            ),
            shape=(len(layout.batteries), len(layout.batteries) * steps),
        ),
    )
