"""A solver `Result` as the JSON stored with its run (and read back by the GraphQL types)."""

from __future__ import annotations

from typing import Any

import numpy as np

import solver
from app.optimization.series import finite_or_none


def _floats(values: np.ndarray) -> list[float | None]:
    return finite_or_none([float(v) for v in np.asarray(values, dtype=float).ravel()])


def result_document(result: solver.Result, warnings: tuple[str, ...]) -> dict[str, Any]:
    return {
        "status": result.status,
        "objective": result.objective,
        "timestamps": [t.isoformat() for t in result.timestamps],
        "devices": {
            device_id: {
                "kind": schedule.kind,
                "collector_id": schedule.collector_id,
                "power_W": _floats(schedule.power_W),
                "current_A": {phase: _floats(values) for phase, values in schedule.current_A.items()},
            }
            for device_id, schedule in result.devices.items()
        },
        "grid": {
            "net_power_W": _floats(result.grid.net_power_W),
            "import_power_W": _floats(result.grid.import_power_W),
            "export_power_W": _floats(result.grid.export_power_W),
            "phases": {
                phase: {
                    "current_A": _floats(result.grid.phase_current_A[phase]),
                    "import_power_W": _floats(result.grid.phase_import_power_W[phase]),
                    "export_power_W": _floats(result.grid.phase_export_power_W[phase]),
                }
                for phase in result.grid.phase_current_A
            },
        },
        "batteries": {
            device_id: {"soc_Wh": _floats(state.soc_Wh), "soc_percent": _floats(state.soc_percent)}
            for device_id, state in result.batteries.items()
        },
        "sessions": {
            device_id: {"target_Wh": o.target_Wh, "delivered_Wh": o.delivered_Wh, "unmet_Wh": o.unmet_Wh}
            for device_id, o in result.sessions.items()
        },
        "cost": {"energy": result.cost.energy, "peak": result.cost.peak, "peak_import_W": result.cost.peak_import_W},
        "binding_limits": [
            {
                "kind": b.kind,
                "collector_id": b.collector_id,
                "phase": b.phase,
                "direction": b.direction,
                "steps": list(b.steps),
                "held_back": list(b.held_back),
                "shadow_price": b.shadow_price,
                "explanation": b.explanation,
            }
            for b in result.binding_limits
        ],
        "warnings": [*warnings, *result.warnings],
    }


def enforced_document(limits: tuple[solver.EnforcedLimits, ...]) -> list[dict[str, Any]]:
    return [
        {
            "uuid": e.uuid,
            "valid_until": e.valid_until.isoformat(),
            "valid_for_s": e.valid_for_s,
            "limits_root_side": {
                "ac_max_current_A": e.limits_root_side.ac_max_current_A,
                "total_power_W": e.limits_root_side.total_power_W,
                "ac_max_phase_count": e.limits_root_side.ac_max_phase_count,
            },
            "schedule_start": e.schedule_start.isoformat(),
            "schedule_step_s": e.schedule_step.total_seconds(),
            "schedule_current_A": _floats(e.schedule_current_A),
            "schedule_power_W": _floats(e.schedule_power_W),
        }
        for e in limits
    ]


def timings_document(timings: solver.Timings) -> dict[str, float]:
    return {
        "build_s": timings.build_s,
        "compile_s": timings.compile_s,
        "solve_s": timings.solve_s,
        "enforce_s": timings.enforce_s,
        "total_s": timings.total_s,
        "recompiled": float(timings.recompiled),
        "lp_iterations": float(timings.lp_iterations),
    }
