"""Phasewise optimizer: plain data in (`Problem`), plain data out (`Result`).

`solve(problem)` builds, compiles and solves once; keep a `CompiledModel` to re-solve the same
site structure with new prices, forecasts or measurements without recompiling.
"""

from solver.engine import CompiledModel, IncompatibleProblem, solve
from solver.policies import expand_pleevi_policies, expand_pleevi_policy
from solver.problem import (
    PHASES,
    Battery,
    BatteryPolicy,
    ChargingPole,
    ChargingSession,
    Collector,
    ExternalLimits,
    FlexibilityBounds,
    ForecastedSeries,
    LoadMeasurement,
    OptimizationConfig,
    PinToPhaseMapping,
    Problem,
)
from solver.result import (
    BatteryState,
    BindingLimit,
    CostBreakdown,
    DeviceSchedule,
    EnforcedLimits,
    GridSchedule,
    LimitsRootSide,
    Result,
    ScheduleEntry,
    SessionOutcome,
    Timings,
    Violation,
)

__all__ = [
    "PHASES",
    "Battery",
    "BatteryPolicy",
    "BatteryState",
    "BindingLimit",
    "ChargingPole",
    "ChargingSession",
    "Collector",
    "CompiledModel",
    "CostBreakdown",
    "DeviceSchedule",
    "EnforcedLimits",
    "ExternalLimits",
    "FlexibilityBounds",
    "ForecastedSeries",
    "GridSchedule",
    "IncompatibleProblem",
    "LimitsRootSide",
    "LoadMeasurement",
    "OptimizationConfig",
    "PinToPhaseMapping",
    "Problem",
    "Result",
    "ScheduleEntry",
    "SessionOutcome",
    "Timings",
    "Violation",
    "expand_pleevi_policies",
    "expand_pleevi_policy",
    "solve",
]
