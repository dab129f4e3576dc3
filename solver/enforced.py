"""Enforced limits (EVerest form) from the instant's decision and the plan: what chargers obey.

Each controllable device gets the decided value for now and the plan as its informative schedule. The
limits hold for `OptimizationConfig.enforced_valid_for` from the moment they are issued (the problem's
`issued_at`, default its start), whatever the planning step, so a charger whose server dies falls back
within that bound.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from solver.assemble import Plan
from solver.instant import InstantDecision
from solver.layout import Layout
from solver.result import EnforcedLimits, LimitsRootSide


def enforced_limits(
    layout: Layout, plan: Plan, decision: InstantDecision, fallback: bool
) -> tuple[EnforcedLimits, ...]:
    """EVerest EnforcedLimits per charging pole (0 A without a session) and per battery; the schedule is the plan."""
    problem, topology = layout.problem, layout.topology
    valid_for = problem.config.enforced_valid_for
    valid_until = problem.issued + valid_for
    cars = plan.car_matrix(layout)
    limits = []
    by_pole = {s.device_id: k for k, s in enumerate(layout.sessions)}
    for pole in problem.poles:
        k = by_pole.get(pole.id)
        if k is None:
            phases = len(pole.pin_to_phase_mapping.pin_list)
            idle = np.zeros(layout.steps)
            watts = phases * topology.voltage(pole.collector_id)
            limits.append(_limits(layout, pole.id, idle, watts, phases, valid_until, valid_for, fallback))
            continue
        session = layout.sessions[k]
        planned = cars[k].copy()
        planned[0] = decision.car_current[k]
        limits.append(
            _limits(
                layout,
                session.device_id,
                planned,
                session.watts_per_ampere,
                len(session.phases),
                valid_until,
                valid_for,
                fallback,
            )
        )
    for b, battery in enumerate(layout.batteries):
        phases = len(topology.phases(battery.collector_id))
        voltage = topology.voltage(battery.collector_id)
        planned_power = plan.battery_power[b].copy()
        planned_power[0] = decision.battery_power[b]
        limits.append(
            _limits(
                layout,
                battery.id,
                planned_power / (phases * voltage),
                phases * voltage,
                phases,
                valid_until,
                valid_for,
                fallback,
            )
        )
    return tuple(limits)


def _limits(
    layout: Layout,
    uuid: str,
    current: np.ndarray,
    watts_per_ampere: float,
    phase_count: int,
    valid_until: datetime,
    valid_for: timedelta,
    fallback: bool,
) -> EnforcedLimits:
    problem = layout.problem
    return EnforcedLimits(
        uuid=uuid,
        valid_until=valid_until,
        valid_for_s=valid_for.total_seconds(),
        limits_root_side=LimitsRootSide(float(current[0]), float(current[0] * watts_per_ampere), phase_count),
        schedule_start=problem.start,
        schedule_step=problem.config.step,
        schedule_current_A=current,
        schedule_power_W=current * watts_per_ampere,
        fallback=fallback,
    )
