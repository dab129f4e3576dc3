"""The documents stored with a run (its result, enforced limits and timings), as typed models.

This module is their one writer (from a solver `Result`); readers get them parsed, through
`app.optimization.stored_run`. Field names are the stored JSON keys. Every model refuses unknown keys and
requires every key it has no default for, so a renamed key is a parse error, never an empty schedule.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import numpy as np
from pydantic import BaseModel, ConfigDict

import solver
from app.optimization.series import finite_or_none

Series = list[float | None]  # one value per step; null where the value is unlimited (JSON has no infinity)


class Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def stored(self) -> dict[str, Any]:
        """The JSON object written to the database."""
        return self.model_dump(mode="json")


class DeviceScheduleDocument(Document):
    kind: str
    collector_id: UUID
    power_W: Series
    current_A: dict[str, Series]


class GridPhaseDocument(Document):
    current_A: Series
    import_power_W: Series
    export_power_W: Series


class GridDocument(Document):
    net_power_W: Series
    import_power_W: Series
    export_power_W: Series
    phases: dict[str, GridPhaseDocument]


class BatteryDocument(Document):
    soc_Wh: Series
    soc_percent: Series


class SessionDocument(Document):
    target_Wh: float
    delivered_Wh: float
    unmet_Wh: float
    untakeable_Wh: float = 0.0  # runs stored before the untakeable part was reported
    car_energy_Wh: Series | None = None  # a car that may discharge: Wh in its battery per step boundary


class ViolationDocument(Document):
    """A soft target the plan misses (solver.Violation): which, when (steps), by how much (amount, unit)."""

    kind: str
    subject: str | None
    phase: str | None
    steps: list[int]
    amount: float
    unit: str
    explanation: str


class CostDocument(Document):
    energy: float
    peak: float
    peak_import_W: float


class BindingLimitDocument(Document):
    kind: str
    collector_id: UUID | None
    phase: str | None
    direction: str
    steps: list[int]
    held_back: list[UUID]
    shadow_price: float
    explanation: str


class RunDocument(Document):
    """What the optimizer decided; device ids key the per-device maps."""

    status: str
    objective: float | None
    timestamps: list[datetime]
    devices: dict[UUID, DeviceScheduleDocument]
    grid: GridDocument
    batteries: dict[UUID, BatteryDocument]
    sessions: dict[UUID, SessionDocument]
    cost: CostDocument
    binding_limits: list[BindingLimitDocument]
    warnings: list[str]
    violations: list[ViolationDocument] = []  # runs stored before violations were reported
    plan_source: str = "optimized"  # solver.result.PlanSource (runs stored before it: see used_fallback)

    def step_at(self, instant: datetime) -> int:
        """The index of the step in force at `instant` (the first one before the plan starts)."""
        index = 0
        for k, stamp in enumerate(self.timestamps):
            if stamp <= instant:
                index = k
        return index


class LimitsRootSideDocument(Document):
    ac_max_current_A: float
    total_power_W: float
    ac_max_phase_count: int


class EnforcedLimitsDocument(Document):
    """`valid_until` = `issued_at` + `valid_for_s`; `fallback`: the equal-share fallback's limits (LP failed or
    the site is paused). Runs stored before issue 11 have neither (their validity counted from the horizon)."""

    uuid: UUID
    valid_until: datetime
    valid_for_s: float
    issued_at: datetime | None = None
    fallback: bool = False
    limits_root_side: LimitsRootSideDocument
    schedule_start: datetime
    schedule_step_s: float
    schedule_current_A: Series
    schedule_power_W: Series
    schedule_phase_count: list[int] | None = None  # a car that may switch phases: the count of each step


class TimingsDocument(Document):
    """Wall seconds per stage; `recompiled` is 1.0 when the compiled model was rebuilt."""

    build_s: float
    compile_s: float
    solve_s: float
    enforce_s: float
    total_s: float
    recompiled: float
    lp_iterations: float = 0.0  # runs stored before the LP's iterations were counted


def _floats(values: np.ndarray) -> Series:
    return finite_or_none([float(v) for v in np.asarray(values, dtype=float).ravel()])


def result_document(result: solver.Result, warnings: tuple[str, ...]) -> RunDocument:
    return RunDocument(
        status=result.status,
        plan_source=result.plan_source,
        objective=result.objective,
        timestamps=list(result.timestamps),
        devices={
            UUID(device_id): DeviceScheduleDocument(
                kind=schedule.kind,
                collector_id=UUID(schedule.collector_id),
                power_W=_floats(schedule.power_W),
                current_A={phase: _floats(values) for phase, values in schedule.current_A.items()},
            )
            for device_id, schedule in result.devices.items()
        },
        grid=GridDocument(
            net_power_W=_floats(result.grid.net_power_W),
            import_power_W=_floats(result.grid.import_power_W),
            export_power_W=_floats(result.grid.export_power_W),
            phases={
                phase: GridPhaseDocument(
                    current_A=_floats(result.grid.phase_current_A[phase]),
                    import_power_W=_floats(result.grid.phase_import_power_W[phase]),
                    export_power_W=_floats(result.grid.phase_export_power_W[phase]),
                )
                for phase in result.grid.phase_current_A
            },
        ),
        batteries={
            UUID(device_id): BatteryDocument(soc_Wh=_floats(state.soc_Wh), soc_percent=_floats(state.soc_percent))
            for device_id, state in result.batteries.items()
        },
        sessions={
            UUID(device_id): SessionDocument(
                target_Wh=o.target_Wh,
                delivered_Wh=o.delivered_Wh,
                unmet_Wh=o.unmet_Wh,
                untakeable_Wh=o.untakeable_Wh,
                car_energy_Wh=None if o.car_energy_Wh is None else _floats(o.car_energy_Wh),
            )
            for device_id, o in result.sessions.items()
        },
        cost=CostDocument(energy=result.cost.energy, peak=result.cost.peak, peak_import_W=result.cost.peak_import_W),
        binding_limits=[
            BindingLimitDocument(
                kind=b.kind,
                collector_id=UUID(b.collector_id) if b.collector_id else None,
                phase=b.phase,
                direction=b.direction,
                steps=list(b.steps),
                held_back=[UUID(h) for h in b.held_back],
                shadow_price=b.shadow_price,
                explanation=b.explanation,
            )
            for b in result.binding_limits
        ],
        warnings=[*warnings, *result.warnings],
        violations=[
            ViolationDocument(
                kind=v.kind,
                subject=v.subject,
                phase=v.phase,
                steps=list(v.steps),
                amount=v.amount,
                unit=v.unit,
                explanation=v.explanation,
            )
            for v in result.violations
        ],
    )


def enforced_document(limits: tuple[solver.EnforcedLimits, ...], issued_at: datetime) -> list[EnforcedLimitsDocument]:
    """The limits as issued at `issued_at` (when they are stored and published): valid from then for their validity."""
    return [
        EnforcedLimitsDocument(
            uuid=UUID(e.uuid),
            valid_until=issued_at + timedelta(seconds=e.valid_for_s),
            valid_for_s=e.valid_for_s,
            issued_at=issued_at,
            fallback=e.fallback,
            limits_root_side=LimitsRootSideDocument(
                ac_max_current_A=e.limits_root_side.ac_max_current_A,
                total_power_W=e.limits_root_side.total_power_W,
                ac_max_phase_count=e.limits_root_side.ac_max_phase_count,
            ),
            schedule_start=e.schedule_start,
            schedule_step_s=e.schedule_step.total_seconds(),
            schedule_current_A=_floats(e.schedule_current_A),
            schedule_power_W=_floats(e.schedule_power_W),
            schedule_phase_count=None if e.schedule_phase_count is None else [int(c) for c in e.schedule_phase_count],
        )
        for e in limits
    ]


def timings_document(timings: solver.Timings) -> TimingsDocument:
    return TimingsDocument(
        build_s=timings.build_s,
        compile_s=timings.compile_s,
        solve_s=timings.solve_s,
        enforce_s=timings.enforce_s,
        total_s=timings.total_s,
        recompiled=float(timings.recompiled),
        lp_iterations=float(timings.lp_iterations),
    )
