"""Which limits held the plan back, read from the LP's dual values.

A limit binds when its dual (for a collector phase: the reduced cost of its aggregate, whose bounds
are the limit) is non-zero: loosening it by 1 A (or 1 W) would lower the objective.
Each binding limit names the collector phase or external limit, the steps, and the devices below
it that were short of their own maximum there (the ones it held back): on the export side, batteries above
their floor and cars that may discharge giving back less than they could.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import scipy.sparse as sp

from solver.assemble import Plan
from solver.bidirectional import discharge_lower
from solver.layout import Layout
from solver.matrices import Matrices
from solver.model import LinearModel
from solver.numbers import Numbers
from solver.result import BindingKind, BindingLimit

DUAL_TOLERANCE = 1e-9


def _ranges(steps: np.ndarray) -> str:
    """'0-3, 7' for [0, 1, 2, 3, 7]."""
    parts, start = [], None
    for i, step in enumerate(steps):
        if start is None:
            start = step
        if i + 1 == len(steps) or steps[i + 1] != step + 1:
            parts.append(f"{start}" if start == step else f"{start}-{step}")
            start = None
    return ", ".join(parts)


class _Context:
    def __init__(self, layout: Layout, numbers: Numbers, plan: Plan) -> None:
        self.layout = layout
        self.numbers = numbers
        self.cars = plan.car_matrix(layout)
        upper = np.zeros_like(self.cars)
        upper[layout.car_of_step, layout.step_of_car_step] = numbers.car_upper
        self.short = upper - self.cars > 1e-6
        lowest = np.zeros_like(self.cars)
        lowest[layout.car_of_step, layout.step_of_car_step] = discharge_lower(layout)
        self.discharge_short = (self.cars - lowest > 1e-6) & (lowest < 0)
        """A car that may discharge and gives back less than it could (export limits hold it back)."""
        self.battery_short = numbers.battery_upper - plan.battery_power > 1e-6
        self.battery_above_floor = plan.battery_power - numbers.battery_lower > 1e-6
        self.car_rows = sp.csr_array(layout.car_injection)
        self.battery_rows = sp.csr_array(layout.battery_injection)

    def held_back(
        self, steps: np.ndarray, row: int | None, direction: str, cars_filter: np.ndarray | None = None
    ) -> tuple[str, ...]:
        layout = self.layout
        car_on_row = (
            np.ones(len(layout.sessions), dtype=bool)
            if row is None
            else _on_row(self.car_rows, row, len(layout.sessions))
        )
        if cars_filter is not None:
            car_on_row &= cars_filter
        cars = np.flatnonzero(car_on_row)
        room = self.short if direction == "import" else self.discharge_short
        cars = cars[room[np.ix_(cars, steps)].any(axis=1)]
        battery_on_row = (
            np.ones(len(layout.batteries), dtype=bool)
            if row is None
            else _on_row(self.battery_rows, row, len(layout.batteries))
        )
        room = self.battery_short if direction == "import" else self.battery_above_floor
        batteries = np.flatnonzero(battery_on_row)
        batteries = batteries[room[np.ix_(batteries, steps)].any(axis=1)]
        return tuple(layout.sessions[k].device_id for k in cars) + tuple(layout.batteries[b].id for b in batteries)


def _on_row(matrix: sp.csr_array, row: int, size: int) -> np.ndarray:
    """Which columns have a non-zero on `row` of a CSR matrix."""
    on = np.zeros(size, dtype=bool)
    start, stop = matrix.indptr[row], matrix.indptr[row + 1]
    on[matrix.indices[start:stop][matrix.data[start:stop] != 0]] = True
    return on


def _binding_steps(dual: np.ndarray | None) -> np.ndarray:
    if dual is None:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.abs(dual) > DUAL_TOLERANCE)


def _collector_limits(context: _Context, matrices: Matrices, model: LinearModel, scale: float) -> list[BindingLimit]:
    """Collector phases (and external phase-current limits) whose aggregate sat at a bound that cost something."""
    layout, numbers = context.layout, context.numbers
    topology, steps = layout.topology, layout.steps
    reduced = model.aggregate_reduced_cost()
    if reduced is None or model.aggregate is None:
        return []
    hits = np.flatnonzero(np.abs(reduced) > DUAL_TOLERANCE)
    value = model.value(model.aggregate)[hits]
    columns = model.aggregate.columns
    upper, lower = model.lp.col_upper[columns][hits], model.lp.col_lower[columns][hits]
    importing = np.abs(value - upper) <= np.abs(value - lower)
    rows, times = np.divmod(matrices.aggregate_index[hits], steps)
    limit = np.where(importing, numbers.row_limit_import[rows, times], numbers.row_limit_export[rows, times])
    external = limit < topology.line_current[rows] - 1e-9
    found = []
    groups = set(zip(rows.tolist(), importing.tolist(), external.tolist(), strict=True))
    for row, is_import, is_external in sorted(groups):
        chosen = (rows == row) & (importing == is_import) & (external == is_external)
        direction: Literal["import", "export"] = "import" if is_import else "export"
        step_list = np.unique(times[chosen])
        collector_id, phase = topology.rows[row]
        kind: BindingKind = "collector_phase"
        what = f"collector {collector_id!r} phase {phase} at its {topology.line_current[row]:g} A line current"
        if is_external:
            kind = "external_import_current" if is_import else "external_export_current"
            what = f"the external {direction} current limit on phase {phase} of the grid connection"
        held = context.held_back(step_list, row, direction)
        found.append(
            BindingLimit(
                kind=kind,
                collector_id=collector_id,
                phase=phase,
                direction=direction,
                steps=tuple(step_list.tolist()),
                held_back=held,
                shadow_price=float(np.abs(reduced[hits][chosen]).max() * scale),
                explanation=f"{what} ({direction}) bound at steps {_ranges(step_list)}"
                + (f"; it held back {', '.join(held)}" if held else ""),
            )
        )
    return found


def binding_limits(
    layout: Layout, matrices: Matrices, model: LinearModel, numbers: Numbers, plan: Plan, scale: float
) -> tuple[BindingLimit, ...]:
    """Binding collector phases, external limits and full-autonomy surplus, with what they held back."""
    context = _Context(layout, numbers, plan)
    found = _collector_limits(context, matrices, model, scale)
    external: tuple[tuple[str, BindingKind, Literal["import", "export"]], ...] = (
        ("import_limit", "external_import_power", "import"),
        ("export_limit", "external_export_power", "export"),
    )
    for name, kind, direction in external:
        dual = model.dual(name)
        steps = _binding_steps(dual)
        if steps.size == 0 or dual is None:
            continue
        held = context.held_back(steps, None, direction)
        found.append(
            BindingLimit(
                kind=kind,
                collector_id=None,
                phase=None,
                direction=direction,
                steps=tuple(steps.tolist()),
                held_back=held,
                shadow_price=float(np.abs(dual[steps]).max() * scale / 1000),
                explanation=f"the external {direction} power limit of the grid connection bound at steps "
                f"{_ranges(steps)}" + (f"; it held back {', '.join(held)}" if held else ""),
            )
        )
    dual = model.dual("full_autonomy")
    hits = _binding_steps(dual)
    if hits.size and dual is not None:
        steps = matrices.autonomy_steps[hits]
        autonomous = np.array([s.session.full_autonomy for s in layout.sessions], dtype=bool)
        held = context.held_back(steps, None, "import", autonomous)
        found.append(
            BindingLimit(
                kind="full_autonomy",
                collector_id=None,
                phase=None,
                direction="import",
                steps=tuple(steps.tolist()),
                held_back=held,
                shadow_price=float(np.abs(dual[hits]).max() * scale / 1000),
                explanation=f"the local surplus for full-autonomy sessions ran out at steps {_ranges(steps)}"
                + (f"; it held back {', '.join(held)}" if held else ""),
            )
        )
    return tuple(found)
