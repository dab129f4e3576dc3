"""Build once, solve many times: the compiled model and the one-shot `solve`."""

from __future__ import annotations

import time

import highspy as hp
import numpy as np

from solver.assemble import Plan, assemble, row_currents
from solver.binding import binding_limits
from solver.enforced import enforced_limits
from solver.export import exported_highs
from solver.fallback import fallback_plan
from solver.instant import decide_instant
from solver.layout import Layout, build_layout
from solver.matrices import build_matrices
from solver.model import LinearModel, LpSolution
from solver.numbers import Numbers, compute_numbers
from solver.phase_switching import instant_view, scheduled
from solver.problem import Problem
from solver.refine import solve_with_autonomy, true_bill
from solver.result import BindingLimit, PlanSource, Result, Timings
from solver.timeout import PreviousPlan, shifted_plan
from solver.violations import violations

_UNSOLVED_WARNING: dict[PlanSource, str] = {
    "previous_plan": "the LP gave no solution ({status}): the previous plan, shifted and kept within the limits, "
    "planned instead",
    "equal_share": "the LP gave no solution ({status}): the equal-share fallback planned instead",
}


class IncompatibleProblem(ValueError):
    """The problem's structure (topology, devices, sessions, windows, policies) differs from the model's."""


class CompiledModel:
    """The LP of one site structure, built once (its matrix); `solve` only writes the numbers into its arrays.

    A problem is compatible when only numbers changed: prices, forecasts, measurements, live bounds,
    initial SoC, session energies and price limits, external limits, peak settings, time limit.
    """

    def __init__(self, problem: Problem) -> None:
        started = time.perf_counter()
        self._layout = build_layout(problem)
        self._key = self._layout.structure_key()
        self._matrices = build_matrices(self._layout)
        self._model = LinearModel(self._layout, self._matrices)
        self._build_s = time.perf_counter() - started
        self._fresh = True
        self.previous_plan: PreviousPlan | None = None
        """The last optimized plan: what a solve without the LP's answer starts from (solver.timeout). A caller
        that builds a new model for a changed structure may hand it the old model's."""

    @property
    def layout(self) -> Layout:
        return self._layout

    def exported_highs(self, problem: Problem, reduced: bool = False) -> hp.Highs:
        """The model's LP for `problem`, in a plain HiGHS with default options (see export); `reduced`: as our own
        presolve hands it to HiGHS (solver.reduction)."""
        layout = build_layout(problem)
        self._model.layout = layout
        return exported_highs(self._model, compute_numbers(layout), reduced)

    def compatible(self, problem: Problem) -> bool:
        return build_layout(problem).structure_key() == self._key

    def solve(self, problem: Problem | None = None, *, force_fallback: bool = False) -> Result:
        """Solve `problem` (default: the one the model was built from) with the compiled LP.

        `force_fallback` skips the LP, as a solver failure would: for drills and tests.
        """
        called = time.perf_counter()
        # The Problem the model was built from (frozen) needs no second layout.
        layout = self._layout if problem is None or problem is self._layout.problem else build_layout(problem)
        if layout.structure_key() != self._key:
            raise IncompatibleProblem("the problem's structure differs from the compiled model's; build a new one")
        config = layout.problem.config
        build_s = self._build_s if self._fresh else 0.0
        self._fresh = False
        numbers = compute_numbers(layout)
        self._model.layout = layout
        self._model.set_numbers(numbers)

        recompiled = build_s > 0.0
        started = time.perf_counter()
        warnings: list[str] = []
        deadline = called + config.time_limit_s
        status, solution, binding_s, iterations, compile_s = "fallback_forced", None, 0.0, 0, 0.0
        binding: tuple[BindingLimit, ...] = ()
        source: PlanSource = "equal_share"
        if not force_fallback:
            status, solution, partial = solve_with_autonomy(self._model, numbers, deadline)
            source = "best_so_far" if partial else "optimized"
            iterations = self._model.iterations()
            compile_s = self._model.compile_s
            if (
                solution is not None
                and status != "optimal"
                and _adds_violations(layout, numbers, _plan(numbers, solution))
            ):
                status, solution = f"{status}_unsafe", None
        if solution is not None and source == "optimized":
            binding_started = time.perf_counter()
            plan = _plan(numbers, solution)
            binding = binding_limits(layout, self._matrices, self._model, numbers, plan, numbers.price_scale)
            binding_s = time.perf_counter() - binding_started
            if config.solver == "HIGHS":
                remaining = max(deadline - time.perf_counter(), 0.05)
                solution = true_bill(self._model, numbers, solution, remaining)
            plan = _plan(numbers, solution)
            self.previous_plan = PreviousPlan.of(layout, plan)
        elif solution is not None:
            plan = _plan(numbers, solution)
            warnings.append(f"the LP ran out of time ({status}): the last full-autonomy round's plan is used")
        else:
            plan, source = self._unsolved_plan(layout, numbers, force_fallback)
            warnings.append(_UNSOLVED_WARNING[source].format(status=status))
        solve_s = time.perf_counter() - started - binding_s - compile_s

        started = time.perf_counter()
        instant_layout, instant_plan = instant_view(layout, plan)
        decision = decide_instant(instant_layout, numbers, instant_plan)
        instant_s = time.perf_counter() - started
        warnings.extend(decision.warnings)
        limits = enforced_limits(
            instant_layout, instant_plan, decision, fallback=source in ("previous_plan", "equal_share")
        )
        limits = scheduled(layout, plan, limits)
        assembled = assemble(layout, numbers, plan)
        missed = violations(layout, numbers, plan, assembled)
        enforce_s = time.perf_counter() - started + binding_s
        assemble_s = enforce_s - binding_s - instant_s
        return Result(
            status=status,
            used_fallback=source in ("previous_plan", "equal_share"),
            objective=None if solution is None else solution.objective,
            timestamps=tuple(layout.problem.step_start(t) for t in range(layout.steps)),
            devices=assembled.devices,
            grid=assembled.grid,
            batteries=assembled.batteries,
            cost=assembled.cost,
            sessions=assembled.sessions,
            collector_rows=layout.topology.rows,
            collector_current_A=assembled.collector_current_A,
            binding_limits=binding,
            enforced_limits=limits,
            timings=Timings(
                build_s=build_s,
                compile_s=compile_s,
                solve_s=solve_s,
                enforce_s=enforce_s,
                recompiled=recompiled,
                lp_iterations=iterations,
                instant_s=instant_s,
                assemble_s=assemble_s,
            ),
            warnings=tuple(warnings),
            violations=missed,
            plan_source=source,
        )

    def _unsolved_plan(self, layout: Layout, numbers: Numbers, forced: bool) -> tuple[Plan, PlanSource]:
        """Without the LP's answer: the previous optimized plan shifted and repaired, else equal share (timeout)."""
        fallback = fallback_plan(layout, numbers)
        if not forced and self.previous_plan is not None:
            shifted = shifted_plan(layout, numbers, self.previous_plan, fallback)
            if shifted is not None:
                return shifted, "previous_plan"
        return fallback, "equal_share"


def _plan(numbers: Numbers, solution: LpSolution) -> Plan:
    n_batteries = numbers.initial_soc_Wh.size
    soc = np.concatenate([numbers.initial_soc_Wh.reshape(n_batteries, 1), solution.battery_soc_Wh], axis=1)
    if solution.single_current is not None:
        return Plan(solution.car_current, solution.battery_power, soc, solution.single_current)
    return Plan(solution.car_current, solution.battery_power, soc)


def _adds_violations(layout: Layout, numbers: Numbers, plan: Plan) -> bool:
    """Does an inaccurate LP plan break a limit that the non-controllable load alone keeps?"""
    currents = row_currents(layout, numbers, plan)
    tolerance = 1e-6
    over = (currents - numbers.row_limit_import > tolerance) | (-currents - numbers.row_limit_export > tolerance)
    fixed_over = (numbers.fixed_rows - numbers.row_limit_import > tolerance) | (
        -numbers.fixed_rows - numbers.row_limit_export > tolerance
    )
    return bool((over & ~fixed_over).any())


def solve(problem: Problem) -> Result:
    """Build, compile and solve one problem. Keep a `CompiledModel` instead to re-solve cheaply."""
    return CompiledModel(problem).solve(problem)
