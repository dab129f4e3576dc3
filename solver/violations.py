"""What a plan misses: every soft target it could not meet, and every limit the non-controllable load breaks.

Read off the returned schedule itself (not the LP's slack variables), so the fallback's plan is judged by
the same rules: which target, at which steps, by how much.
"""

from __future__ import annotations

import numpy as np

from solver.assemble import Assembled, Plan
from solver.layout import Layout
from solver.numbers import Numbers
from solver.result import Violation

ENERGY_TOLERANCE_WH = 1.0
CURRENT_TOLERANCE_A = 1e-5
POWER_TOLERANCE_W = 1e-2


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


def _charging_targets(layout: Layout, assembled: Assembled) -> list[Violation]:
    found = []
    for s in layout.sessions:
        outcome = assembled.sessions[s.device_id]
        missed = outcome.unmet_Wh - outcome.untakeable_Wh
        if missed > ENERGY_TOLERANCE_WH:
            end = max(s.steps - 1, 0)
            found.append(
                Violation(
                    "charging_target",
                    s.device_id,
                    None,
                    (end,),
                    float(missed),
                    "Wh",
                    f"session on {s.device_id!r} gets {outcome.delivered_Wh:.0f} of {outcome.target_Wh:.0f} Wh: "
                    f"{missed:.0f} Wh short within what it could take"
                    + (f" ({outcome.untakeable_Wh:.0f} Wh more it cannot take)" if outcome.untakeable_Wh > 0 else ""),
                )
            )
    return found


def _batteries(layout: Layout, numbers: Numbers, plan: Plan) -> list[Violation]:
    found = []
    for b, row_k, alpha, low, high in layout.policy_rows:
        battery = layout.batteries[b]
        soc = plan.battery_soc_Wh[b]
        at = (1 - alpha) * soc[row_k] + alpha * soc[row_k + 1] if alpha else soc[row_k]
        band = (low / 100 * battery.capacity_Wh, high / 100 * battery.capacity_Wh)
        miss = max(band[0] - at, at - band[1], 0.0)
        if miss > ENERGY_TOLERANCE_WH:
            found.append(
                Violation(
                    "battery_policy",
                    battery.id,
                    None,
                    (row_k + (1 if alpha else 0),),
                    float(miss),
                    "Wh",
                    f"battery {battery.id!r} is at {at / battery.capacity_Wh * 100:.1f} % at step boundary "
                    f"{row_k + alpha:g}, outside its policy of {low:g}-{high:g} %",
                )
            )
    for b, battery in enumerate(layout.batteries):
        end = plan.battery_soc_Wh[b, -1]
        miss = numbers.end_floor_Wh[b] - end
        if miss > ENERGY_TOLERANCE_WH:
            found.append(
                Violation(
                    "battery_end_of_horizon",
                    battery.id,
                    None,
                    (layout.steps,),
                    float(miss),
                    "Wh",
                    f"battery {battery.id!r} ends the horizon at {end:.0f} Wh, {miss:.0f} Wh below its end target",
                )
            )
    return found


def _external(numbers: Numbers, assembled: Assembled) -> list[Violation]:
    found = []
    net = assembled.grid.net_power_W
    for kind, over, direction in (
        ("external_import_power", net - numbers.import_power_limit, "import"),
        ("external_export_power", -net - numbers.export_power_limit, "export"),
    ):
        steps = np.flatnonzero(over > POWER_TOLERANCE_W)
        if steps.size:
            found.append(
                Violation(
                    kind,  # type: ignore[arg-type]
                    None,
                    None,
                    tuple(steps.tolist()),
                    float(over[steps].max()),
                    "W",
                    f"the grid connection's {direction} is over its external limit at steps {_ranges(steps)}, "
                    f"by up to {over[steps].max():.0f} W",
                )
            )
    return found


def _collectors(layout: Layout, numbers: Numbers, currents: np.ndarray) -> list[Violation]:
    found = []
    for side, over in (
        ("import", currents - numbers.row_limit_import),
        ("export", -currents - numbers.row_limit_export),
    ):
        for r in np.flatnonzero((over > CURRENT_TOLERANCE_A).any(axis=1)):
            collector_id, phase = layout.topology.rows[r]
            steps = np.flatnonzero(over[r] > CURRENT_TOLERANCE_A)
            found.append(
                Violation(
                    "collector_overload",
                    collector_id,
                    phase,
                    tuple(steps.tolist()),
                    float(over[r, steps].max()),
                    "A",
                    f"collector {collector_id!r} phase {phase} is over its {side} limit at steps {_ranges(steps)} "
                    f"by up to {over[r, steps].max():.2f} A: the non-controllable load alone is above it, so the "
                    "controllable devices under it get nothing",
                )
            )
    return found


def violations(layout: Layout, numbers: Numbers, plan: Plan, assembled: Assembled) -> tuple[Violation, ...]:
    """Every violated soft target and overloaded limit of the returned plan."""
    return tuple(
        _charging_targets(layout, assembled)
        + _batteries(layout, numbers, plan)
        + _external(numbers, assembled)
        + _collectors(layout, numbers, assembled.collector_current_A)
    )
