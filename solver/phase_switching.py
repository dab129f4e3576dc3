"""1 <-> 3 phase switching: the plan may use either, the enforced step picks one, with hysteresis.

The plan (an LP, kept an LP): a switchable car has, next to its three-phase current (per used pin, the
car's ordinary variable), a one-phase current on the pin its pole's mapping lists first, so rotations still
decide which phase of which collector carries it. Both are >= 0 and their sum on that pin stays within the
car's maximum: a step that mixes them is the time-share of the two (the convex hull of switching within the
step). The energy is V x one-phase + phases x V x three-phase current; the fuses see each on its own phases.
New variables exist only for switchable cars.

The enforced step (exact, greedy): the car's planned power now decides the phase count. Three phases from the
power the car takes at its minimum current on three phases (EVerest's 4140 W at 6 A and 230 V), one phase
below that threshold less the hysteresis (setting, default 200 W); in between the count in force stays, and no
switch happens sooner than the minimum time after the last one (setting, default 10 min). The enforced step
then runs on the chosen phases: 0 or at least the minimum there, within every limit, and the limits carry
`ac_max_phase_count`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:
    from solver.assemble import Plan
    from solver.layout import Layout, SessionLayout
    from solver.result import EnforcedLimits

SINGLE_PHASE_WEIGHT = 1e-5
"""Per kWh taken on one phase: among equal plans, three balanced phases."""


def single_phase_of(layout: SessionLayout) -> str | None:
    """The phase a switchable car uses on one phase, or None when it cannot switch."""
    pole, session = layout.pole, layout.session
    if not pole.supports_phase_switching or pole.is_dc or len(layout.phases) < 2:
        return None
    if session.min_phase_count is not None and session.min_phase_count > 1:
        return None
    return layout.phases[0]


@dataclass(frozen=True)
class Switching:
    """The one-phase variables: one per car-step of a switchable car.

    `car_step[i]` is the car-step of variable i; `local` its current on its collector's own row per A (rows x
    variables, per step flattened as row * T + t); `kw_per_ampere` and `kwh_per_ampere` its power and energy.
    """

    car_step: np.ndarray
    session: np.ndarray
    flat_row: np.ndarray
    kw_per_ampere: np.ndarray
    kwh_per_ampere: np.ndarray

    @property
    def size(self) -> int:
        return int(self.car_step.size)


def switching(layout: Layout) -> Switching:
    """The one-phase variables of the layout's switchable cars (none: size 0)."""
    topology = layout.topology
    switchable = np.array([s.single_phase is not None for s in layout.sessions], dtype=bool)
    if not switchable.any():
        empty = np.zeros(0, dtype=np.int64)
        return Switching(empty, empty, empty, np.zeros(0), np.zeros(0))
    car_step = np.flatnonzero(switchable[layout.car_of_step])
    session = layout.car_of_step[car_step]
    rows = np.array(
        [topology.row(s.pole.collector_id, s.single_phase or s.phases[0]) for s in layout.sessions], dtype=np.int64
    )
    voltage = np.array([topology.voltage(s.pole.collector_id) for s in layout.sessions])
    phases = np.array([max(len(s.phases), 1) for s in layout.sessions])
    flat_row = rows[session] * layout.steps + layout.step_of_car_step[car_step] if car_step.size else car_step
    energy = layout.energy_per_ampere()[car_step] / phases[session] if car_step.size else np.zeros(0)
    return Switching(
        car_step=car_step,
        session=session,
        flat_row=flat_row,
        kw_per_ampere=voltage[session] / 1000.0 if car_step.size else np.zeros(0),
        kwh_per_ampere=energy / 1000.0,
    )


def aggregate_matrix(switch: Switching, aggregate_index: np.ndarray) -> sp.csr_array:
    """Aggregates x one-phase variables: each variable's current on its own collector row at its step."""
    position = np.searchsorted(aggregate_index, switch.flat_row)
    return sp.csr_array(
        (np.ones(switch.size), (position, np.arange(switch.size))), shape=(aggregate_index.size, switch.size)
    )


def row_injection(layout: Layout, plan: Plan) -> np.ndarray:
    """Current of the plan's one-phase parts on every row and step, (rows, steps)."""
    topology, steps = layout.topology, layout.steps
    rows = np.zeros((topology.size, steps))
    if plan.single_current.size == 0:
        return rows
    switch = switching(layout)
    local = np.zeros(topology.size * steps)
    np.add.at(local, switch.flat_row, plan.single_current)
    return np.asarray(topology.aggregation @ local.reshape(topology.size, steps))


def planned_power(layout: Layout, plan: Plan) -> np.ndarray:
    """Per car-step: the plan's power (W), its one-phase part included."""
    wpa = np.array([s.watts_per_ampere for s in layout.sessions])[layout.car_of_step]
    power: np.ndarray = plan.car_current * wpa
    if plan.single_current.size:
        switch = switching(layout)
        power[switch.car_step] += plan.single_current * switch.kw_per_ampere * 1000.0
    return power


def _phase_count(layout: Layout, k: int, power_now: float, single_now: float) -> int:
    """The phase count of switchable car k now: threshold, hysteresis and the minimum time between switches.

    A plan that takes most of its power now on one phase (three do not fit) asks for one phase whatever the power.
    """
    s = layout.sessions[k]
    problem = layout.problem
    config = problem.config
    three = len(s.phases)
    voltage = layout.topology.voltage(s.pole.collector_id)
    threshold = three * voltage * max(s.session.ac_min_current_A, 1e-9)
    active = s.session.active_phase_count
    active = None if active is None else (1 if active <= 1 else three)
    mostly_single = single_now > power_now / 2 + 1e-6
    if power_now >= threshold and not mostly_single:
        wanted = three
    elif mostly_single or (1e-6 < power_now < threshold - config.phase_switch_hysteresis_W):
        wanted = 1
    else:
        wanted = three if active is None else active
    if active is None or wanted == active:
        return wanted
    last = s.session.last_phase_switch
    if last is not None and problem.issued - last < config.phase_switch_min_interval:
        return active
    return wanted


def instant_view(layout: Layout, plan: Plan) -> tuple[Layout, Plan]:
    """The layout and plan the enforced step works on: each switchable car on its chosen phases.

    A car chosen on one phase becomes a one-phase car on its first pin's phase, its planned current at every
    step the plan's power over one phase; on three phases, the plan's power over three. Without switchable
    cars both come back unchanged.
    """
    switchable = [k for k, s in enumerate(layout.sessions) if s.single_phase is not None and s.steps > 0]
    if not switchable:
        return layout, plan
    power = planned_power(layout, plan)
    single = np.zeros(layout.car_steps)
    if plan.single_current.size:
        switch = switching(layout)
        single[switch.car_step] = plan.single_current * switch.kw_per_ampere * 1000.0
    sessions = list(layout.sessions)
    current = plan.car_current.copy()
    topology = layout.topology
    car_local = sp.lil_array(layout.car_local)
    for k in switchable:
        s = sessions[k]
        start, stop = layout.offsets[k], layout.offsets[k + 1]
        count = _phase_count(layout, k, float(power[start]), float(single[start]))
        if count == 1:
            assert s.single_phase is not None
            for phase in s.phases:
                car_local[topology.row(s.pole.collector_id, phase), k] = 0.0
            car_local[topology.row(s.pole.collector_id, s.single_phase), k] = 1.0
            sessions[k] = replace(
                s, phases=(s.single_phase,), watts_per_ampere=topology.voltage(s.pole.collector_id), single_phase=None
            )
        current[start:stop] = power[start:stop] / sessions[k].watts_per_ampere
    local = sp.csc_array(car_local)
    chosen = replace(
        layout, sessions=tuple(sessions), car_local=local, car_injection=sp.csc_array(topology.aggregation @ local)
    )
    return chosen, replace(plan, car_current=current, single_current=np.zeros(0))


def scheduled(layout: Layout, plan: Plan, limits: tuple[EnforcedLimits, ...]) -> tuple[EnforcedLimits, ...]:
    """The switchable cars' informative schedules per step on the phase count the plan's power there asks for (the
    threshold, or one phase where the plan takes most of it on one); step 0 stays the enforced decision."""
    switchable = {s.device_id: k for k, s in enumerate(layout.sessions) if s.single_phase is not None and s.steps > 0}
    if not switchable:
        return limits
    power = planned_power(layout, plan)
    single = np.zeros(layout.car_steps)
    if plan.single_current.size:
        switch = switching(layout)
        single[switch.car_step] = plan.single_current * switch.kw_per_ampere * 1000.0
    found = []
    for limit in limits:
        k = switchable.get(limit.uuid)
        if k is None:
            found.append(limit)
            continue
        s = layout.sessions[k]
        voltage = layout.topology.voltage(s.pole.collector_id)
        three = len(s.phases)
        start, stop = layout.offsets[k], layout.offsets[k + 1]
        steps = layout.step_of_car_step[start:stop]
        watts = np.zeros(layout.steps)
        watts[steps] = power[start:stop]
        one = np.zeros(layout.steps, dtype=bool)
        threshold = three * voltage * max(s.session.ac_min_current_A, 1e-9)
        one[steps] = (single[start:stop] > power[start:stop] / 2 + 1e-6) | (power[start:stop] < threshold)
        counts = np.where(one, 1, three)
        counts[0] = limit.limits_root_side.ac_max_phase_count
        current = watts / (counts * voltage)
        current[0] = limit.schedule_current_A[0]
        watts[0] = limit.schedule_power_W[0]
        found.append(replace(limit, schedule_current_A=current, schedule_power_W=watts, schedule_phase_count=counts))
    return tuple(found)
