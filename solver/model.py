"""The linear program: its columns, rows and costs in matrix form (solver.linear), built once per structure.

Objective (in units of the largest price, so weights stay meaningful whatever the currency;
power in kW and energy in kWh):
energy cost (net = import - export, both >= 0, priced max(import, export price) and
min(import, export price): the same as max(import price x net, export price x net), with every
price in the cost vector and none in the constraint matrix) + peak cost
+ a large penalty per Wh of unmet or excess session energy - the value of energy charged below a
session's price limit + small preference terms (fair share, earliness, battery priorities).

Every number that changes between solves is a bound, a right-hand side or a cost, never a matrix entry, so
the matrix is built once and a re-solve only writes arrays. The price-limit reward is a cost on the car's
current at the steps priced below its limit. (In cvxpy it had to be a cost on a column of its own beside the
current, each fixed at 0 where the other applies: parameters could not multiply a variable with parametric
bounds. That column was a seventh of the load-managed bench site's car-steps.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from solver.bidirectional import discharge_lower
from solver.cvxpy_backend import solve_with_cvxpy
from solver.features import FeatureModel
from solver.highs_basis import StartingBasisHighs
from solver.layout import Layout
from solver.linear import Linear, LinearProgram, Solution
from solver.matrices import Matrices
from solver.numbers import Numbers

UNMET_PENALTY_PER_KWH = 100.0
"""Penalty per kWh of unmet (or excess) session energy: 100x the largest price."""
SHORTFALL_SEGMENTS = 2
"""The unmet penalty grows by `SHORTFALL_STEP` once more than half of a car's need (received + still needed)
is left unmet, so shortfall is shared: the car furthest behind is served first, over its whole stay. (Four
segments gave finer shares but 29 % more simplex pivots on the load-managed bench site at N=1000.)"""
SHORTFALL_STEP = 0.5
POLICY_PENALTY_PER_KWH = 200.0
"""Per kWh a battery's state of charge misses a policy's band: above any charging target."""
EXTERNAL_PENALTY_PER_KWH = 1000.0
"""Per kWh over an external power limit: only what nothing controllable can avoid ends there."""
END_PENALTY_PER_KWH = 10.0
"""Per kWh a battery ends the horizon below its end target (default: where it started): above any price,
below the charging targets and policies."""
FAIRNESS_WEIGHT = 1e-4
"""Per A a car deviates from its comparable cars' current, per step within the fair-share horizon."""
EARLINESS_WEIGHT = 1e-4
"""Per kWh, growing linearly over the horizon: among equal prices, charge sooner."""
PRIORITY_WEIGHT = 1e-4
"""Per kWh moved through a battery, times its priority number (1 = used first)."""
PRICE_LIMIT_REWARD_PER_KWH = 1.0
"""In units of the largest price or limit, so charging below a price limit pays whatever the price."""


@dataclass(frozen=True)
class LpSolution:
    """Raw values of one successful solve (normalised objective already scaled back)."""

    car_current: np.ndarray
    battery_power: np.ndarray
    battery_soc_Wh: np.ndarray
    objective: float
    single_current: np.ndarray | None = None


def _shortfall_offsets(layout: Layout, numbers: Numbers) -> np.ndarray:
    """Intercepts (kWh) of the shortfall penalty's pieces, segment-major: continuous at each segment's start."""
    received = np.array([s.session.energy_delivered_Wh for s in layout.sessions])
    need = (received + numbers.energy_target_Wh) / 1000
    starts = np.arange(SHORTFALL_SEGMENTS)[:, None] * need[None, :] / SHORTFALL_SEGMENTS
    return (SHORTFALL_STEP * np.cumsum(starts, axis=0)).ravel()


class LinearModel:
    """Columns and rows for one model structure (solver.linear); `set_numbers` writes each solve's numbers."""

    def __init__(self, layout: Layout, matrices: Matrices) -> None:
        self.layout = layout
        self.matrices = matrices
        steps = layout.steps
        n_cars, n_sessions = layout.car_steps, len(layout.sessions)
        batteries = layout.batteries
        n_battery = len(batteries) * steps
        m = matrices
        lp = self.lp = LinearProgram()

        self.current = lp.variable("current", n_cars) if n_cars else None
        self.charge = lp.variable("charge", n_battery) if n_battery else None
        self.discharge = lp.variable("discharge", n_battery) if n_battery else None
        self.soc = lp.variable("soc", n_battery) if n_battery else None
        self.aggregate = lp.variable("aggregate", m.aggregate_index.size) if m.aggregate_index.size else None
        self.imported = lp.variable("imported", steps)
        self.exported = lp.variable("exported", steps)
        self.grid = self.imported - self.exported
        self.peak = lp.variable("peak", 1)
        self.fair_mean = lp.variable("fair_mean", m.fair_mean.shape[1]) if m.fair_mean.shape[1] else None
        self.fair_gap = lp.variable("fair_gap", m.fair_select.shape[0]) if self.fair_mean is not None else None
        self.unmet = lp.variable("unmet", n_sessions) if n_sessions else None
        self.shortfall = lp.variable("shortfall", n_sessions) if n_sessions else None
        external = layout.problem.external_limits
        self.import_over = lp.variable("import_over", steps) if external.import_power_W is not None else None
        self.export_over = lp.variable("export_over", steps) if external.export_power_W is not None else None
        self.policy_short = lp.variable("policy_short", m.policy.shape[0]) if m.policy.shape[0] else None
        self.policy_over = lp.variable("policy_over", m.policy.shape[0]) if m.policy.shape[0] else None
        self.end_short = lp.variable("end_short", len(batteries)) if batteries else None
        self.served = lp.variable("served", n_sessions) if n_sessions else None
        self.excess = lp.variable("excess", n_sessions) if n_sessions else None
        self.charging: Linear | None = self.current
        self.features = FeatureModel(layout, m.aggregate_index, self.charging, lp)
        self.charging = self.features.net(self.charging)

        self._build_constraints()
        lp.finish()
        self._constant_bounds()
        tree = None if self.aggregate is None else (self.aggregate, "aggregate")
        self._highs = StartingBasisHighs(
            (() if tree is None else (tree,))
            + ((self.imported, "grid_balance"),)
            + (() if self.soc is None else ((self.soc, "soc_balance"),))
            + self.features.defined(),
            reducible=tree,
        )
        self.compile_s, self._iterations = 0.0, 0
        """cvxpy's compilation (ECOS, Clarabel) and the solver's iterations, in the last solve."""
        self.last: Solution | None = None
        """The last solve's solution (columns, duals): what `value`, `dual` and refine's rounds read."""

    def _flows(self, car_matrix: sp.csr_array, battery_matrix: sp.csr_array) -> Linear | None:
        terms: list[Linear] = []
        if self.charging is not None:
            terms.append(car_matrix @ self.charging)
        if self.charge is not None and self.discharge is not None:
            terms.append(battery_matrix @ (self.charge - self.discharge))
        if car_matrix is self.matrices.aggregate_car:
            terms.extend(self.features.aggregate_flows())
        return sum(terms[1:], terms[0]) if terms else None

    def _build_constraints(self) -> None:
        m, lp = self.matrices, self.lp
        grid_row = -self.grid
        if self.aggregate is not None:
            tree = m.aggregate_tree @ self.aggregate
            flows = self._flows(m.aggregate_car, m.aggregate_battery)
            lp.constrain("aggregate", tree if flows is None else tree - flows, "equal")
            grid_row = m.grid_aggregate @ self.aggregate - self.grid
        lp.constrain("grid_balance", grid_row, "equal")
        if self.import_over is not None:
            lp.constrain("import_limit", self.grid - self.import_over, "at_most")
        if self.export_over is not None:
            lp.constrain("export_limit", -self.grid - self.export_over, "at_most")
        lp.constrain("peak", self.grid - np.ones((self.layout.steps, 1)) @ self.peak, "at_most")
        lp.constrain("peak_floor", self.peak, "at_least")
        if self.fair_mean is not None and self.fair_gap is not None and self.charging is not None:
            deviation = m.fair_select @ self.charging - m.fair_mean @ self.fair_mean
            lp.constrain("fair_above", deviation - self.fair_gap, "at_most")
            lp.constrain("fair_below", -deviation - self.fair_gap, "at_most")
        charging = self.charging
        if charging is not None and self.unmet is not None and self.excess is not None and self.served is not None:
            energy = self.features.energy(m.energy @ charging) + self.unmet - self.excess - self.served
            lp.constrain("energy", energy, "equal")
            assert self.shortfall is not None
            segments = SHORTFALL_SEGMENTS
            slopes = sp.kron(
                sp.csr_array(1 + SHORTFALL_STEP * np.arange(segments)[:, None]), sp.eye_array(self.unmet.size)
            )
            stack = sp.kron(sp.csr_array(np.ones((segments, 1))), sp.eye_array(self.unmet.size))
            lp.constrain("shortfall", stack @ self.shortfall - slopes @ self.unmet, "at_least")
            if m.autonomy_steps.size:
                autonomous = self.features.autonomy(m.autonomy @ charging, m.autonomy_steps)
                lp.constrain("full_autonomy", autonomous, "at_most")
            self.features.constrain()
        if self.charge is not None and self.discharge is not None and self.soc is not None:
            soc = m.soc_balance @ self.soc + m.soc_charge @ self.charge + m.soc_discharge @ self.discharge
            lp.constrain("soc_balance", soc, "equal")
            if self.policy_short is not None and self.policy_over is not None:
                lp.constrain("policy_lower", m.policy @ self.soc + self.policy_short, "at_least")
                lp.constrain("policy_upper", m.policy @ self.soc - self.policy_over, "at_most")
            if self.end_short is not None:
                lp.constrain("end_of_horizon", m.soc_end @ self.soc + self.end_short, "at_least")

    def _constant_bounds(self) -> None:
        """The bounds no solve changes: free fair-share means, batteries' SoC within their capacity."""
        lp, steps = self.lp, self.layout.steps
        if self.fair_mean is not None:
            lp.bound(self.fair_mean, -np.inf, np.inf)
        if self.soc is not None:
            lp.bound(self.soc, 0.0, np.repeat([b.capacity_Wh / 1000 for b in self.layout.batteries], steps))
        if "aggregate" in lp.rows:
            lp.rhs("aggregate", 0.0)
        lp.rhs("peak", 0.0)
        for name in ("fair_above", "fair_below"):
            if name in lp.rows:
                lp.rhs(name, 0.0)
        if "energy" in lp.rows:
            lp.rhs("energy", 0.0)

    def _costs(self, numbers: Numbers) -> None:
        """The objective of one solve as the LP's cost vector (see the module docstring)."""
        layout, m, lp = self.layout, self.matrices, self.lp
        hours, steps = layout.problem.step_hours, layout.steps
        lp.clear_costs()
        lp.add_cost(self.imported, self.import_price)
        lp.add_cost(self.exported, -self.export_price)
        lp.add_cost(self.peak, self.peak_price)
        if self.fair_gap is not None:
            lp.add_cost(self.fair_gap, FAIRNESS_WEIGHT)
        for over in (self.import_over, self.export_over):
            if over is not None:
                lp.add_cost(over, self.penalty_scale * EXTERNAL_PENALTY_PER_KWH * hours)
        if self.policy_short is not None and self.policy_over is not None:
            lp.add_cost(self.policy_short, self.penalty_scale * POLICY_PENALTY_PER_KWH)
            lp.add_cost(self.policy_over, self.penalty_scale * POLICY_PENALTY_PER_KWH)
        if self.end_short is not None and self.soc is not None:
            lp.add_cost(self.end_short, self.penalty_scale * END_PENALTY_PER_KWH)
            lp.add_cost(m.soc_end @ self.soc, -self.end_value)
        if self.charging is not None and self.shortfall is not None and self.excess is not None:
            lp.add_cost(self.shortfall, self.unmet_weight)
            lp.add_cost(self.excess, self.unmet_weight)
            lateness = (layout.step_of_car_step + 1) / steps
            lp.add_cost(self.charging, EARLINESS_WEIGHT * lateness * layout.energy_per_ampere() / 1000)
        self.features.costs(EARLINESS_WEIGHT)
        if self.current is not None and numbers.below_price_limit.any():
            kwh_per_ampere = layout.energy_per_ampere() / 1000
            lp.add_cost(self.current, -(PRICE_LIMIT_REWARD_PER_KWH * kwh_per_ampere) * numbers.below_price_limit)
        if self.charge is not None and self.discharge is not None:
            charge_w = np.repeat([b.charging_priority for b in layout.batteries], steps)
            discharge_w = np.repeat([b.discharging_priority for b in layout.batteries], steps)
            lp.add_cost(self.charge, PRIORITY_WEIGHT * hours * charge_w)
            lp.add_cost(self.discharge, PRIORITY_WEIGHT * hours * discharge_w)

    def set_numbers(self, numbers: Numbers) -> None:
        """Write one solve's numbers into the LP's bounds, right-hand sides and costs (prices divided by their
        scale; kW, kWh)."""
        layout, m, lp = self.layout, self.matrices, self.lp
        problem = layout.problem
        hours, scale = problem.step_hours, numbers.price_scale
        flat_fixed = numbers.fixed_rows.ravel()
        if self.current is not None:
            lp.bound(self.current, numbers.car_lower, numbers.car_upper)
        if self.aggregate is not None:
            # Where the non-controllable load alone is over a limit, the devices under it add nothing (reported).
            upper = np.maximum(numbers.row_limit_import.ravel() - flat_fixed, 0.0)
            lower = np.minimum(-numbers.row_limit_export.ravel() - flat_fixed, 0.0)
            lp.bound(self.aggregate, lower[m.aggregate_index], upper[m.aggregate_index])
        lp.rhs("grid_balance", -numbers.fixed_total / 1000)
        if "import_limit" in lp.rows:
            lp.rhs("import_limit", numbers.import_power_limit / 1000)
        if "export_limit" in lp.rows:
            lp.rhs("export_limit", numbers.export_power_limit / 1000)
        import_price, export_price = numbers.objective_import_price, numbers.objective_export_price
        self.import_price = np.maximum(import_price, export_price) / scale * hours
        self.export_price = np.minimum(import_price, export_price) / scale * hours
        config = problem.config
        peak_per_kw = config.peak_price_per_kW / scale if config.peak_minimization else 0.0
        self.peak_price = peak_per_kw
        lp.rhs("peak_floor", max(config.peak_already_reached_W, 0.0) / 1000 if config.peak_minimization else 0.0)
        # Penalties dominate cost: a peak price per kW counts as much per kWh over a single step.
        self.penalty_scale = 1 + peak_per_kw / hours
        self.unmet_weight = UNMET_PENALTY_PER_KWH * self.penalty_scale
        if self.served is not None:
            lp.bound(self.served, numbers.energy_target_Wh / 1000, numbers.energy_cap_Wh / 1000)
        if "shortfall" in lp.rows:
            lp.rhs("shortfall", -_shortfall_offsets(layout, numbers))
        if "full_autonomy" in lp.rows:
            lp.rhs("full_autonomy", numbers.local_surplus[m.autonomy_steps] / 1000)
        self._battery_numbers(numbers)
        self.end_value = numbers.end_value_per_kWh / scale
        self.features.layout = layout
        self.features.set_numbers(numbers)
        self._costs(numbers)

    def _battery_numbers(self, numbers: Numbers) -> None:
        layout, lp = self.layout, self.lp
        if self.charge is None or self.discharge is None:
            return
        lower, upper = numbers.battery_lower.ravel() / 1000, numbers.battery_upper.ravel() / 1000
        lp.bound(self.charge, np.maximum(lower, 0.0), np.maximum(upper, 0.0))
        lp.bound(self.discharge, np.maximum(-upper, 0.0), np.maximum(-lower, 0.0))
        soc_rhs = np.zeros((len(layout.batteries), layout.steps))
        soc_rhs[:, 0] = numbers.initial_soc_Wh / 1000
        lp.rhs("soc_balance", soc_rhs.ravel())
        if "policy_lower" in lp.rows:
            policy = np.array([row[3:] for row in layout.policy_rows]).reshape(-1, 2)
            capacity = np.array([layout.batteries[row[0]].capacity_Wh / 1000 for row in layout.policy_rows])
            initial = np.array([numbers.initial_soc_Wh[row[0]] / 1000 for row in layout.policy_rows])
            known = self.matrices.policy_initial_weight * initial
            lp.rhs("policy_lower", policy[:, 0] / 100 * capacity - known)
            lp.rhs("policy_upper", policy[:, 1] / 100 * capacity - known)
        if "end_of_horizon" in lp.rows:
            lp.rhs("end_of_horizon", numbers.end_floor_Wh / 1000)

    @property
    def highs_solver(self) -> StartingBasisHighs:
        """The HiGHS of this model (its last optimal instance: refine's true bill)."""
        return self._highs

    def _time_limit(self, time_limit_s: float | None) -> float:
        config = self.layout.problem.config
        return float(config.time_limit_s if time_limit_s is None else time_limit_s)

    def solve(self, numbers: Numbers, time_limit_s: float | None = None) -> tuple[str, LpSolution | None]:
        """Solve the LP as `set_numbers` left it with the configured solver, within `time_limit_s` (default: the
        configuration's). HiGHS resumes from the last optimal basis itself when only bounds moved (highs_basis)."""
        solver, limit = self.layout.problem.config.solver, self._time_limit(time_limit_s)
        if solver == "HIGHS":
            status, self.last = self._highs.solve(self.lp, limit)
            self.compile_s, self._iterations = 0.0, self._highs.iterations
        else:
            run = solve_with_cvxpy(self.lp, solver, limit)
            status, self.last = run.status, run.solution
            self.compile_s, self._iterations = run.compile_s, run.iterations
        if self.last is None:
            return status, None
        return status, self.solution(numbers, self.last.objective)

    def value(self, expression: Linear) -> np.ndarray:
        """An expression's value in the last solution."""
        if self.last is None:
            raise ValueError("read before the LP was solved")
        return expression.value(self.last.x)

    def solution(self, numbers: Numbers, objective: float) -> LpSolution:
        """The variables' values after a solve (`objective` in the LP's units)."""
        steps, n_batteries = self.layout.steps, len(self.layout.batteries)
        lowest = discharge_lower(self.layout)
        current = np.zeros(0) if self.charging is None else np.maximum(self.value(self.charging), lowest)
        if self.charge is not None and self.discharge is not None and self.soc is not None:
            power = (self.value(self.charge) - self.value(self.discharge)).reshape(n_batteries, steps) * 1000
            soc = self.value(self.soc).reshape(n_batteries, steps) * 1000
        else:
            power = np.zeros((0, steps))
            soc = np.zeros((0, steps))
        single = self.features.single
        return LpSolution(
            car_current=np.minimum(current, numbers.car_upper) if current.size else current,
            battery_power=power,
            battery_soc_Wh=soc,
            objective=objective * numbers.price_scale,
            single_current=None if single is None else np.clip(self.value(single), 0.0, None),
        )

    def iterations(self) -> int:
        """Simplex (or interior point) iterations of the last solve."""
        return self._iterations

    def aggregate_reduced_cost(self) -> np.ndarray | None:
        """Objective change per A of room at each aggregate's bound (zero off its bounds): its reduced cost."""
        if self.aggregate is None or self.last is None:
            return None
        return self.last.col_dual[self.aggregate.columns]

    def dual(self, name: str) -> np.ndarray | None:
        """The duals of the rows `name` in the last solution (HiGHS's convention, solver.linear)."""
        rows = self.lp.rows.get(name)
        if rows is None or self.last is None:
            return None
        return self.last.row_dual[rows.rows]
