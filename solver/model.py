"""The linear program in cvxpy, DPP-compliant so new numbers re-solve without recompiling.

Objective (in units of the largest price, so weights stay meaningful whatever the currency;
power in kW and energy in kWh):
energy cost (net = import - export, both >= 0, priced max(import, export price) and
min(import, export price): the same as max(import price x net, export price x net), with every
price in the cost vector and none in the constraint matrix) + peak cost
+ a large penalty per Wh of unmet or excess session energy - the value of energy charged below a
session's price limit + small preference terms (fair share, earliness, battery priorities).

Parameters only multiply variables WITHOUT parametric bounds (cvxpy treats a variable with
parametric bounds as parameter-dependent, and parameter x parameter is not DPP): car currents have
parametric bounds and only constant coefficients. So the price-limit reward is a constant cost on
its own variable, `bonus`: a price-limited car's current is `current` at steps priced at or above its
limit and `bonus` below it, the other one fixed at 0 by its bounds (no row, no extra column per step
beyond the bonus itself).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from solver.bidirectional import discharge_lower
from solver.features import FeatureModel
from solver.highs_basis import StartingBasisHighs
from solver.layout import Layout
from solver.matrices import Matrices
from solver.numbers import Numbers
from solver.pipeline import Chain, solve_keeping_chain

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
SOLVED = ("optimal", "optimal_inaccurate")


@dataclass(frozen=True)
class LpSolution:
    """Raw values of one successful solve (normalised objective already scaled back)."""

    car_current: np.ndarray
    battery_power: np.ndarray
    battery_soc_Wh: np.ndarray
    objective: float
    single_current: np.ndarray | None = None


def _param(size: int, nonneg: bool = False) -> cp.Parameter:
    return cp.Parameter(size, nonneg=nonneg) if nonneg else cp.Parameter(size)


def run(problem: cp.Problem, solver: str | StartingBasisHighs, options: dict[str, object]) -> str:
    """Solve a cvxpy problem; its status, or why the solver failed."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            problem.solve(solver=solver, warm_start=False, **options)
    except cp.SolverError as error:
        return f"solver_error: {error}"
    status = str(problem.status)
    return status if problem.value is not None else f"{status}_no_value"


def _shortfall_offsets(layout: Layout, numbers: Numbers) -> np.ndarray:
    """Intercepts (kWh) of the shortfall penalty's pieces, segment-major: continuous at each segment's start."""
    received = np.array([s.session.energy_delivered_Wh for s in layout.sessions])
    need = (received + numbers.energy_target_Wh) / 1000
    starts = np.arange(SHORTFALL_SEGMENTS)[:, None] * need[None, :] / SHORTFALL_SEGMENTS
    return (SHORTFALL_STEP * np.cumsum(starts, axis=0)).ravel()


class LinearModel:
    """Variables, Parameters and constraints for one model structure."""

    def __init__(self, layout: Layout, matrices: Matrices) -> None:
        self.layout = layout
        self.matrices = matrices
        steps = layout.steps
        n_cars, n_sessions = layout.car_steps, len(layout.sessions)
        batteries = layout.batteries
        n_battery = len(batteries) * steps
        m = matrices

        self.car_lower = _param(n_cars)
        self.car_upper = _param(n_cars)
        self.aggregate_lower = _param(m.aggregate_index.size)
        self.aggregate_upper = _param(m.aggregate_index.size)
        self.fixed_total = _param(steps)
        self.import_limit = _param(steps)
        self.export_limit = _param(steps)
        self.import_price = _param(steps)
        self.export_price = _param(steps)
        self.peak_floor = cp.Parameter(nonneg=True)
        self.peak_price = cp.Parameter(nonneg=True)
        self.unmet_weight = cp.Parameter(nonneg=True)
        self.penalty_scale = cp.Parameter(nonneg=True)
        self.surplus = _param(m.autonomy_steps.size)
        self.bonus_lower = _param(m.price_limit_steps.size)
        self.bonus_upper = _param(m.price_limit_steps.size)
        self.charge_lower = _param(n_battery)
        self.charge_upper = _param(n_battery)
        self.discharge_lower = _param(n_battery)
        self.discharge_upper = _param(n_battery)
        self.energy_target = _param(n_sessions)
        self.energy_cap = _param(n_sessions)
        self.soc_rhs = _param(n_battery)
        self.policy_lower = _param(m.policy.shape[0])
        self.policy_upper = _param(m.policy.shape[0])
        self.shortfall_offset = _param(SHORTFALL_SEGMENTS * n_sessions)
        self.end_floor = _param(len(batteries))
        self.end_value = _param(len(batteries))

        self.current = cp.Variable(n_cars, bounds=[self.car_lower, self.car_upper]) if n_cars else None
        capacity = np.repeat([b.capacity_Wh / 1000 for b in batteries], steps)
        self.charge = cp.Variable(n_battery, bounds=[self.charge_lower, self.charge_upper]) if n_battery else None
        self.discharge = (
            cp.Variable(n_battery, bounds=[self.discharge_lower, self.discharge_upper]) if n_battery else None
        )
        self.soc = cp.Variable(n_battery, bounds=[np.zeros(n_battery), capacity]) if n_battery else None
        self.aggregate = (
            cp.Variable(m.aggregate_index.size, bounds=[self.aggregate_lower, self.aggregate_upper])
            if m.aggregate_index.size
            else None
        )
        self.imported = cp.Variable(steps, nonneg=True)
        self.exported = cp.Variable(steps, nonneg=True)
        self.grid = self.imported - self.exported
        self.peak = cp.Variable(nonneg=True)
        self.fair_mean = cp.Variable(m.fair_mean.shape[1]) if m.fair_mean.shape[1] else None
        self.unmet = cp.Variable(n_sessions, nonneg=True) if n_sessions else None
        self.shortfall = cp.Variable(n_sessions, nonneg=True) if n_sessions else None
        self.import_over = (
            cp.Variable(steps, nonneg=True) if layout.problem.external_limits.import_power_W is not None else None
        )
        self.export_over = (
            cp.Variable(steps, nonneg=True) if layout.problem.external_limits.export_power_W is not None else None
        )
        self.policy_short = cp.Variable(m.policy.shape[0], nonneg=True) if m.policy.shape[0] else None
        self.policy_over = cp.Variable(m.policy.shape[0], nonneg=True) if m.policy.shape[0] else None
        self.end_short = cp.Variable(len(batteries), nonneg=True) if batteries else None
        self.served = cp.Variable(n_sessions, bounds=[self.energy_target, self.energy_cap]) if n_sessions else None
        self.excess = cp.Variable(n_sessions, nonneg=True) if n_sessions else None
        self.bonus = (
            cp.Variable(m.price_limit_steps.size, bounds=[self.bonus_lower, self.bonus_upper])
            if m.price_limit_steps.size
            else None
        )
        self.charging = (
            self.current
            if self.current is None or self.bonus is None
            else self.current + m.price_limit_select.T @ self.bonus
        )
        self.features = FeatureModel(layout, m.aggregate_index, self.charging)
        self.charging = self.features.net(self.charging)

        self.constraints: dict[str, cp.Constraint] = {}
        self._build_constraints()
        self.problem = cp.Problem(cp.Minimize(self._objective()), list(self.constraints.values()))
        self._highs = StartingBasisHighs(
            (() if self.aggregate is None else ((self.aggregate, self.constraints["aggregate"]),))
            + ((self.imported, self.constraints["grid_balance"]),)
            + (() if self.soc is None else ((self.soc, self.constraints["soc_balance"]),))
            + self.features.defined(self.constraints)
        )
        self.chain: Chain | None = None
        """cvxpy's solving chain of the last HiGHS solve: refine's rounds unpack their own HiGHS runs with it."""

    def _flows(self, car_matrix: sp.csr_array, battery_matrix: sp.csr_array) -> cp.Expression | float:
        terms: list[cp.Expression] = []
        if self.charging is not None:
            terms.append(car_matrix @ self.charging)
        if self.charge is not None and self.discharge is not None:
            terms.append(battery_matrix @ (self.charge - self.discharge))
        if car_matrix is self.matrices.aggregate_car:
            terms.extend(self.features.aggregate_flows())
        return sum(terms[1:], terms[0]) if terms else 0.0

    def _build_constraints(self) -> None:
        m, c = self.matrices, self.constraints
        grid_flows: cp.Expression | float = 0.0
        if self.aggregate is not None:
            c["aggregate"] = m.aggregate_tree @ self.aggregate == self._flows(m.aggregate_car, m.aggregate_battery)
            grid_flows = m.grid_aggregate @ self.aggregate
        c["grid_balance"] = grid_flows - self.grid == -self.fixed_total
        if self.import_over is not None:
            c["import_limit"] = self.grid - self.import_over <= self.import_limit
        if self.export_over is not None:
            c["export_limit"] = -self.grid - self.export_over <= self.export_limit
        c["peak"] = self.grid <= self.peak
        c["peak_floor"] = self.peak >= self.peak_floor
        charging = self.charging
        if charging is not None and self.unmet is not None and self.excess is not None and self.served is not None:
            c["energy"] = self.features.energy(m.energy @ charging) + self.unmet - self.excess == self.served
            segments = SHORTFALL_SEGMENTS
            slopes = sp.kron(
                sp.csr_array(1 + SHORTFALL_STEP * np.arange(segments)[:, None]), sp.eye_array(self.unmet.size)
            )
            stack = sp.kron(sp.csr_array(np.ones((segments, 1))), sp.eye_array(self.unmet.size))
            c["shortfall"] = stack @ self.shortfall >= slopes @ self.unmet - self.shortfall_offset
            if m.autonomy_steps.size:
                c["full_autonomy"] = self.features.autonomy(m.autonomy @ charging, m.autonomy_steps) <= self.surplus
            c.update(self.features.constraints())
        if self.charge is not None and self.discharge is not None and self.soc is not None:
            c["soc_balance"] = (
                m.soc_balance @ self.soc + m.soc_charge @ self.charge + m.soc_discharge @ self.discharge == self.soc_rhs
            )
            if self.policy_short is not None and self.policy_over is not None:
                c["policy_lower"] = m.policy @ self.soc + self.policy_short >= self.policy_lower
                c["policy_upper"] = m.policy @ self.soc - self.policy_over <= self.policy_upper
            if self.end_short is not None:
                c["end_of_horizon"] = m.soc_end @ self.soc + self.end_short >= self.end_floor

    def _objective(self) -> cp.Expression:
        layout = self.layout
        steps = layout.steps
        m, hours = self.matrices, layout.problem.step_hours
        terms = [
            self.import_price @ self.imported - self.export_price @ self.exported,
            self.peak_price * self.peak,
        ]
        if self.fair_mean is not None and self.charging is not None:
            deviation = m.fair_select @ self.charging - m.fair_mean @ self.fair_mean
            terms.append(FAIRNESS_WEIGHT * cp.sum(cp.abs(deviation)))
        for over in (self.import_over, self.export_over):
            if over is not None:
                terms.append(self.penalty_scale * (EXTERNAL_PENALTY_PER_KWH * hours) * cp.sum(over))
        if self.policy_short is not None and self.policy_over is not None:
            terms.append(self.penalty_scale * POLICY_PENALTY_PER_KWH * cp.sum(self.policy_short + self.policy_over))
        if self.end_short is not None and self.soc is not None:
            terms.append(self.penalty_scale * END_PENALTY_PER_KWH * cp.sum(self.end_short))
            terms.append(-self.end_value @ (m.soc_end @ self.soc))
        if self.charging is not None and self.shortfall is not None and self.excess is not None:
            terms.append(self.unmet_weight * cp.sum(self.shortfall + self.excess))
            lateness = (layout.step_of_car_step + 1) / steps
            terms.append((EARLINESS_WEIGHT * lateness * layout.energy_per_ampere() / 1000) @ self.charging)
        terms.extend(self.features.objective(EARLINESS_WEIGHT))
        if self.bonus is not None:
            kwh_per_ampere = layout.energy_per_ampere()[self.matrices.price_limit_steps] / 1000
            terms.append(-(PRICE_LIMIT_REWARD_PER_KWH * kwh_per_ampere) @ self.bonus)
        if self.charge is not None and self.discharge is not None:
            hours = layout.problem.step_hours
            charge_w = np.repeat([b.charging_priority for b in layout.batteries], steps)
            discharge_w = np.repeat([b.discharging_priority for b in layout.batteries], steps)
            terms.append((PRIORITY_WEIGHT * hours * charge_w) @ self.charge)
            terms.append((PRIORITY_WEIGHT * hours * discharge_w) @ self.discharge)
        objective: cp.Expression = sum(terms[1:], terms[0])
        return objective

    def set_numbers(self, numbers: Numbers) -> None:
        """Copy one solve's numbers into the Parameters (prices divided by their scale; kW, kWh)."""
        layout, m = self.layout, self.matrices
        problem = layout.problem
        steps, hours, scale = layout.steps, problem.step_hours, numbers.price_scale
        flat_fixed = numbers.fixed_rows.ravel()
        below_limit = numbers.below_price_limit
        self.car_lower.value = np.where(below_limit, 0.0, numbers.car_lower)
        self.car_upper.value = np.where(below_limit, 0.0, numbers.car_upper)
        self.bonus_lower.value = np.where(below_limit, numbers.car_lower, 0.0)[m.price_limit_steps]
        self.bonus_upper.value = np.where(below_limit, numbers.car_upper, 0.0)[m.price_limit_steps]
        # Where the non-controllable load alone is over a limit, the devices under it add nothing (reported).
        upper = np.maximum(numbers.row_limit_import.ravel() - flat_fixed, 0.0)
        lower = np.minimum(-numbers.row_limit_export.ravel() - flat_fixed, 0.0)
        self.aggregate_upper.value = upper[m.aggregate_index]
        self.aggregate_lower.value = lower[m.aggregate_index]
        self.fixed_total.value = numbers.fixed_total / 1000
        self.import_limit.value = numbers.import_power_limit / 1000
        self.export_limit.value = numbers.export_power_limit / 1000
        import_price, export_price = numbers.objective_import_price, numbers.objective_export_price
        self.import_price.value = np.maximum(import_price, export_price) / scale * hours
        self.export_price.value = np.minimum(import_price, export_price) / scale * hours
        config = problem.config
        peak_per_kw = config.peak_price_per_kW / scale if config.peak_minimization else 0.0
        self.peak_price.value = peak_per_kw
        self.peak_floor.value = max(config.peak_already_reached_W, 0.0) / 1000 if config.peak_minimization else 0.0
        # Penalties dominate cost: a peak price per kW counts as much per kWh over a single step.
        self.penalty_scale.value = 1 + peak_per_kw / hours
        self.unmet_weight.value = UNMET_PENALTY_PER_KWH * self.penalty_scale.value
        self.energy_target.value = numbers.energy_target_Wh / 1000
        self.energy_cap.value = numbers.energy_cap_Wh / 1000
        self.surplus.value = numbers.local_surplus[m.autonomy_steps] / 1000
        lower, upper = numbers.battery_lower.ravel() / 1000, numbers.battery_upper.ravel() / 1000
        self.charge_lower.value = np.maximum(lower, 0.0)
        self.charge_upper.value = np.maximum(upper, 0.0)
        self.discharge_lower.value = np.maximum(-upper, 0.0)
        self.discharge_upper.value = np.maximum(-lower, 0.0)
        soc_rhs = np.zeros((len(layout.batteries), steps))
        if layout.batteries:
            soc_rhs[:, 0] = numbers.initial_soc_Wh / 1000
        self.soc_rhs.value = soc_rhs.ravel()
        policy = np.array([row[3:] for row in layout.policy_rows]).reshape(-1, 2)
        capacity = np.array([layout.batteries[row[0]].capacity_Wh / 1000 for row in layout.policy_rows])
        initial = np.array([numbers.initial_soc_Wh[row[0]] / 1000 for row in layout.policy_rows])
        known = m.policy_initial_weight * initial
        self.policy_lower.value = policy[:, 0] / 100 * capacity - known
        self.policy_upper.value = policy[:, 1] / 100 * capacity - known
        self.shortfall_offset.value = _shortfall_offsets(layout, numbers)
        self.end_floor.value = numbers.end_floor_Wh / 1000
        self.end_value.value = numbers.end_value_per_kWh / scale
        self.features.layout = layout
        self.features.set_numbers(numbers)

    @property
    def highs_solver(self) -> StartingBasisHighs:
        """The HiGHS interface of this model (its last optimal instance and column map: refine's true bill)."""
        return self._highs

    def solver(self) -> str | StartingBasisHighs:
        """The configured solver; HiGHS starts from the aggregate basis or the last optimal one (highs_basis)."""
        solver = self.layout.problem.config.solver
        return self._highs if solver == "HIGHS" else solver

    def solver_options(self, time_limit_s: float | None = None) -> dict[str, object]:
        """HiGHS and Clarabel take a time limit (default: the configuration's); ECOS has none, only an iteration cap.

        HiGHS runs without presolve: presolve would drop the starting basis, and took longer than the
        pivots it saved (bench site, N=1000: 0.95 s with presolve, 0.69 s from the starting basis).
        """
        config = self.layout.problem.config
        limit = float(config.time_limit_s if time_limit_s is None else time_limit_s)
        if config.solver == "ECOS":
            return {"max_iters": 500}
        if config.solver == "HIGHS":
            return {"time_limit": limit, "presolve": "off"}
        return {"time_limit": limit}

    def solve(self, numbers: Numbers, time_limit_s: float | None = None) -> tuple[str, LpSolution | None]:
        """Solve with the configured solver, within `time_limit_s` (default: the configuration's).

        cvxpy's own warm start stays off (it made HiGHS re-solves up to 70x slower); HiGHS resumes
        from the last optimal basis itself when only bounds moved (see highs_basis).
        """
        solver, options = self.solver(), self.solver_options(time_limit_s)
        if isinstance(solver, StartingBasisHighs):
            status, self.chain = solve_keeping_chain(self.problem, solver, options)
        else:
            status = run(self.problem, solver, options)
        if status not in SOLVED:
            return status, None
        return status, self.solution(numbers, float(self.problem.value))

    def solution(self, numbers: Numbers, objective: float) -> LpSolution:
        """The variables' values after a solve (of the LP, or of a problem built on its variables)."""
        steps, n_batteries = self.layout.steps, len(self.layout.batteries)
        lowest = discharge_lower(self.layout)
        current = np.zeros(0) if self.charging is None else np.maximum(solved(self.charging), lowest)
        if self.charge is not None and self.discharge is not None and self.soc is not None:
            power = (solved(self.charge) - solved(self.discharge)).reshape(n_batteries, steps) * 1000
            soc = solved(self.soc).reshape(n_batteries, steps) * 1000
        else:
            power = np.zeros((0, steps))
            soc = np.zeros((0, steps))
        return LpSolution(
            car_current=np.minimum(current, numbers.car_upper) if current.size else current,
            battery_power=power,
            battery_soc_Wh=soc,
            objective=objective * numbers.price_scale,
            single_current=self.features.single_current(),
        )

    def iterations(self) -> int:
        """Iterations of the last solve, as the solver reported them to cvxpy."""
        stats = self.problem.solver_stats
        return int(stats.num_iters or 0) if stats is not None else 0

    def aggregate_reduced_cost(self) -> np.ndarray | None:
        """Objective change per A of room at each aggregate's bound (zero off its bounds): its reduced cost.

        cvxpy reports no duals for variable bounds, so it is read off the duals of the two equality
        families the aggregates appear in (all written `lhs == rhs`, so their signs agree).
        """
        tree, grid = self.dual("aggregate"), self.dual("grid_balance")
        if tree is None or grid is None:
            return None
        m = self.matrices
        return np.asarray(m.aggregate_tree.T @ tree + m.grid_aggregate.T @ grid)

    def dual(self, name: str) -> np.ndarray | None:
        constraint = self.constraints.get(name)
        if constraint is None or constraint.dual_value is None:
            return None
        return np.atleast_1d(np.asarray(constraint.dual_value, dtype=float))


def solved(variable: cp.Variable | cp.Parameter) -> np.ndarray:
    """The value of a variable of a solved problem (cvxpy types it as optional)."""
    if variable.value is None:
        raise ValueError(f"{variable.name()} has no value: the problem was not solved")
    return np.asarray(variable.value)
