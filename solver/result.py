"""Output data of one optimization: plain frozen dataclasses (numpy arrays per step inside).

Signs as everywhere: import/consumption positive, export/production negative, a battery positive
while charging. Every per-step array has one value per step of the grid, `timestamps[t]` its start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import numpy as np

DeviceKind = Literal["charging_pole", "battery", "pv", "load"]
BindingKind = Literal[
    "collector_phase",
    "external_import_current",
    "external_export_current",
    "external_import_power",
    "external_export_power",
    "full_autonomy",
]
PlanSource = Literal["optimized", "best_so_far", "previous_plan", "equal_share"]
"""Where a result's plan comes from, best first (solver.timeout)."""


@dataclass(frozen=True)
class DeviceSchedule:
    """Planned power (W) and current per phase of the device's collector (A), each step."""

    device_id: str
    kind: DeviceKind
    collector_id: str
    power_W: np.ndarray
    current_A: Mapping[str, np.ndarray]


@dataclass(frozen=True)
class GridSchedule:
    """The grid connection (root collector).

    `net_power_W` is the site total; `import_power_W`/`export_power_W` are its positive and
    negative parts (net over the phases, as a site meter settles). Per phase: signed current and
    the positive/negative parts of that phase's power.
    """

    net_power_W: np.ndarray
    import_power_W: np.ndarray
    export_power_W: np.ndarray
    phase_current_A: Mapping[str, np.ndarray]
    phase_import_power_W: Mapping[str, np.ndarray]
    phase_export_power_W: Mapping[str, np.ndarray]


@dataclass(frozen=True)
class BatteryState:
    """State of charge at the T+1 step boundaries (index 0 = now)."""

    device_id: str
    soc_Wh: np.ndarray
    soc_percent: np.ndarray


@dataclass(frozen=True)
class CostBreakdown:
    """Cost of the returned schedule in the prices' currency.

    energy = sum(import x import price - export x export price) x step hours / 1000;
    peak = peak price per kW x max(highest planned import, peak already reached) / 1000, only with
    peak minimization on.
    """

    energy: float
    peak: float
    peak_import_W: float

    @property
    def total(self) -> float:
        return self.energy + self.peak


@dataclass(frozen=True)
class SessionOutcome:
    """Energy a session gets by its leave time (or the horizon end) against the energy it requested.

    `unmet_Wh` = target - delivered (never negative); `untakeable_Wh` is the part of the target the car
    cannot physically take before it leaves (pole and car limits, charge-to-max), whatever the site does.
    """

    device_id: str
    target_Wh: float
    delivered_Wh: float
    unmet_Wh: float
    untakeable_Wh: float = 0.0
    car_energy_Wh: np.ndarray | None = None
    """A car that may discharge: the energy in its battery at the T+1 step boundaries (index 0 = now)."""


ViolationKind = Literal[
    "charging_target",
    "battery_policy",
    "battery_end_of_horizon",
    "external_import_power",
    "external_export_power",
    "collector_overload",
]


@dataclass(frozen=True)
class Violation:
    """A soft target the plan could not meet (or a limit the non-controllable load alone breaks).

    `subject` is the device or collector concerned (None: the grid connection), `steps` where it happens,
    `amount` the worst miss in `unit` (Wh of energy, W of power, A of current).
    """

    kind: ViolationKind
    subject: str | None
    phase: str | None
    steps: tuple[int, ...]
    amount: float
    unit: Literal["Wh", "W", "A"]
    explanation: str


@dataclass(frozen=True)
class BindingLimit:
    """A limit that held the plan back, found from a non-zero dual value.

    `shadow_price` is the largest objective gain (currency) per extra A (or W for power limits)
    over the listed steps; `held_back` the controllable devices under it that were below their
    own maximum at those steps.
    """

    kind: BindingKind
    collector_id: str | None
    phase: str | None
    direction: Literal["import", "export"]
    steps: tuple[int, ...]
    held_back: tuple[str, ...]
    shadow_price: float
    explanation: str


@dataclass(frozen=True)
class LimitsRootSide:
    """EVerest LimitsRes: negative values mean export direction."""

    ac_max_current_A: float
    total_power_W: float
    ac_max_phase_count: int


@dataclass(frozen=True)
class ScheduleEntry:
    timestamp: datetime
    limits_root_side: LimitsRootSide


@dataclass(frozen=True)
class EnforcedLimits:
    """EVerest EnforcedLimits for one controllable device: after valid_until it must stop.

    `fallback`: the limits come from the equal-share fallback (the LP failed, or the site is paused), not
    from an optimized plan; they are fuse-safe all the same. The informative schedule (planned limit per
    step, entry 0 = the enforced one) is kept as
    arrays, cheap for thousands of cars; `schedule` turns it into EVerest-style entries.
    """

    uuid: str
    valid_until: datetime
    valid_for_s: float
    limits_root_side: LimitsRootSide
    schedule_start: datetime
    schedule_step: timedelta
    schedule_current_A: np.ndarray
    schedule_power_W: np.ndarray
    fallback: bool = False
    schedule_phase_count: np.ndarray | None = None
    """A car that may switch phases: the phase count of each step (None: the enforced one throughout)."""

    @property
    def schedule(self) -> tuple[ScheduleEntry, ...]:
        now = self.limits_root_side.ac_max_phase_count
        counts = (
            [now] * self.schedule_current_A.size if self.schedule_phase_count is None else self.schedule_phase_count
        )
        return tuple(
            ScheduleEntry(
                self.schedule_start + t * self.schedule_step, LimitsRootSide(float(current), float(power), int(phases))
            )
            for t, (current, power, phases) in enumerate(
                zip(self.schedule_current_A, self.schedule_power_W, counts, strict=True)
            )
        )


@dataclass(frozen=True)
class Timings:
    """Wall seconds. `recompiled` is True for the first solve of a model, which built its LP (`build_s`); a
    re-solve reuses it. `compile_s` is cvxpy's compilation of that LP for ECOS and Clarabel, at every solve with
    them; HiGHS reads the model's arrays directly (0).

    `lp_iterations`: the LP's simplex (or interior point) iterations, 0 when it did not run.
    `instant_s` (the enforced step's decision) and `assemble_s` (schedules, enforced limits, violations) are
    the parts of `enforce_s` besides the binding limits.
    """

    build_s: float
    compile_s: float
    solve_s: float
    enforce_s: float
    recompiled: bool
    lp_iterations: int = 0
    instant_s: float = 0.0
    assemble_s: float = 0.0

    @property
    def total_s(self) -> float:
        return self.build_s + self.compile_s + self.solve_s + self.enforce_s


@dataclass(frozen=True)
class Result:
    """Everything one optimization decided.

    `status` is the solver's status ("optimal", ...) or why the fallback ran. `objective` is the
    LP objective in currency (cost plus penalties and small preference terms), None on fallback.
    `plan_source` says where the plan comes from (solver.timeout): the LP (`optimized`), its last full-autonomy
    round when the time ran out (`best_so_far`), or, without the LP's answer, the previous optimized plan shifted
    (`previous_plan`) or the equal share (`equal_share`); `used_fallback` is true for the last two.
    `collector_current_A[r]` is the net current of `collector_rows[r]` (collector id, phase).
    """

    status: str
    used_fallback: bool
    objective: float | None
    timestamps: tuple[datetime, ...]
    devices: Mapping[str, DeviceSchedule]
    grid: GridSchedule
    batteries: Mapping[str, BatteryState]
    cost: CostBreakdown
    sessions: Mapping[str, SessionOutcome]
    collector_rows: tuple[tuple[str, str], ...]
    collector_current_A: np.ndarray
    binding_limits: tuple[BindingLimit, ...]
    enforced_limits: tuple[EnforcedLimits, ...]
    timings: Timings
    warnings: tuple[str, ...]
    violations: tuple[Violation, ...] = ()
    plan_source: PlanSource = "optimized"
