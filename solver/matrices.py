"""Constant sparse matrices of the linear program, built once per model structure.

Units inside the LP keep coefficients near 1 for the simplex: car currents in A, grid and battery
power in kW, energy and state of charge in kWh.

Car currents are ONE vector over all car-steps (only steps a car is plugged in) and battery
charge/discharge/SoC are vectors over battery-steps (index b*T + t), so each family of constraints
is a single sparse product: cvxpy compiles a handful of expressions whatever the site size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from solver.layout import Layout


@dataclass(frozen=True)
class Matrices:
    """Row (collector phase x step) constraints keep only rows something controllable touches."""

    row_index: np.ndarray
    export_side: np.ndarray
    row_car: sp.csr_array
    row_battery: sp.csr_array
    grid_car: sp.csr_array
    grid_battery: sp.csr_array
    energy: sp.csr_array
    fairness_select: sp.csr_array
    fairness: sp.csr_array
    autonomy_steps: np.ndarray
    autonomy: sp.csr_array
    price_limit_steps: np.ndarray
    price_limit_select: sp.csr_array
    soc_balance: sp.csr_array
    soc_charge: sp.csr_array
    soc_discharge: sp.csr_array
    policy: sp.csr_array
    policy_initial_weight: np.ndarray


def _row_matrices(layout: Layout) -> tuple[np.ndarray, np.ndarray, sp.csr_array, sp.csr_array]:
    topology, steps = layout.topology, layout.steps
    size = topology.size * steps
    per_car_step = layout.car_injection[:, layout.car_of_step].tocoo()
    car = sp.csr_array(
        (per_car_step.data, (per_car_step.row * steps + layout.step_of_car_step[per_car_step.col], per_car_step.col)),
        shape=(size, layout.car_steps),
    )
    n_batteries = len(layout.batteries)
    battery_coo = layout.battery_injection.tocoo()
    t = np.tile(np.arange(steps), battery_coo.nnz)
    battery = sp.csr_array(
        (
            np.repeat(battery_coo.data * 1000.0, steps),
            (np.repeat(battery_coo.row, steps) * steps + t, np.repeat(battery_coo.col, steps) * steps + t),
        ),
        shape=(size, n_batteries * steps),
    )
    upper, lower = _needed(layout, car, battery)
    touched = np.flatnonzero(upper | lower)
    export_side = np.flatnonzero(lower[touched])
    return touched, export_side, sp.csr_array(car[touched]), sp.csr_array(battery[touched])


def _needed(layout: Layout, car: sp.csr_array, battery: sp.csr_array) -> tuple[np.ndarray, np.ndarray]:
    """Which (row, step) limits can bind, per direction, whatever numbers a compatible problem brings.

    Only rows with a battery or PV below them can carry export. A row without forecasts below it
    and below the root (no external limit) carries only the controllable flows, each within its
    structural range (live bounds only narrow it): when even their extreme sum stays within the
    fuse, the limit cannot bind and its LP row is left out.
    """
    topology, steps = layout.topology, layout.steps
    variable = np.zeros(topology.size, dtype=bool)
    variable[topology.root_rows] = True
    exporting = np.asarray(abs(layout.battery_injection).sum(axis=1)).ravel() > 0
    for forecast in layout.problem.forecasts:
        below = topology.injection(forecast.collector_id, topology.phases(forecast.collector_id)) != 0
        variable |= below
        exporting |= below & (forecast.kind == "pv")
    variable, exporting = np.repeat(variable, steps), np.repeat(exporting, steps)
    limit = np.repeat(topology.line_current, steps)
    car_max = np.array([s.max_current_A for s in layout.sessions])[layout.car_of_step]
    charge = np.repeat([b.maximum_charging_power_W / 1000 for b in layout.batteries], steps)
    discharge = np.repeat([b.maximum_discharging_power_W / 1000 for b in layout.batteries], steps)
    positive, negative = battery.maximum(0), (-battery).maximum(0)
    highest = car @ car_max + positive @ charge + negative @ discharge
    lowest = -(positive @ discharge + negative @ charge)
    touched = (np.diff(car.indptr) > 0) | (np.diff(battery.indptr) > 0)
    tolerance = 1e-9
    upper = touched & (variable | (highest > limit + tolerance))
    lower = touched & exporting & (variable | (lowest < -limit - tolerance))
    return upper, lower


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


def build_matrices(layout: Layout) -> Matrices:
    steps, car_steps = layout.steps, layout.car_steps
    row_index, export_side, row_car, row_battery = _row_matrices(layout)
    kw_per_ampere = np.array([s.watts_per_ampere for s in layout.sessions])[layout.car_of_step] / 1000.0
    columns = np.arange(car_steps)
    grid_car = sp.csr_array((kw_per_ampere, (layout.step_of_car_step, columns)), shape=(steps, car_steps))
    n_batteries = len(layout.batteries)
    grid_battery = sp.csr_array(
        (np.ones(n_batteries * steps), (np.tile(np.arange(steps), n_batteries), np.arange(n_batteries * steps))),
        shape=(steps, n_batteries * steps),
    )
    energy = sp.csr_array(
        (layout.energy_per_ampere() / 1000.0, (layout.car_of_step, columns)), shape=(len(layout.sessions), car_steps)
    )
    max_current = np.array([s.max_current_A for s in layout.sessions])[layout.car_of_step]
    fair = np.flatnonzero((layout.step_of_car_step < layout.fair_share_steps) & (max_current > 0))
    fairness_select = sp.csr_array((np.ones(fair.size), (np.arange(fair.size), fair)), shape=(fair.size, car_steps))
    fairness = sp.csr_array(
        (-max_current[fair], (np.arange(fair.size), layout.step_of_car_step[fair])), shape=(fair.size, steps)
    )

    autonomous = np.array([s.session.full_autonomy for s in layout.sessions], dtype=bool)[layout.car_of_step]
    autonomy_steps = np.unique(layout.step_of_car_step[autonomous])
    position = np.searchsorted(autonomy_steps, layout.step_of_car_step[autonomous])
    autonomy = sp.csr_array(
        (kw_per_ampere[autonomous], (position, columns[autonomous])), shape=(autonomy_steps.size, car_steps)
    )

    limited = np.array([s.session.price_limit is not None for s in layout.sessions], dtype=bool)[layout.car_of_step]
    price_limit_steps = columns[limited]
    price_limit_select = sp.csr_array(
        (np.ones(price_limit_steps.size), (np.arange(price_limit_steps.size), price_limit_steps)),
        shape=(price_limit_steps.size, car_steps),
    )
    balance, charge, discharge = _soc_matrices(layout)
    policy, initial = _policy_matrix(layout)
    return Matrices(
        row_index=row_index,
        export_side=export_side,
        row_car=row_car,
        row_battery=row_battery,
        grid_car=grid_car,
        grid_battery=grid_battery,
        energy=energy,
        fairness_select=fairness_select,
        fairness=fairness,
        autonomy_steps=autonomy_steps,
        autonomy=autonomy,
        price_limit_steps=price_limit_steps,
        price_limit_select=price_limit_select,
        soc_balance=balance,
        soc_charge=charge,
        soc_discharge=discharge,
        policy=policy,
        policy_initial_weight=initial,
    )
