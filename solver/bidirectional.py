"""Bidirectional charging (V2G/V2H): a car that may give energy back, priced and bounded like a battery.

Only a session that allows it, on a bidirectional pole, with the car's capacity and state of charge known,
discharges; every other car keeps current >= 0 and gets no new variable. For such a car the LP's current may
go negative down to its discharge limit (the pole's, or the session's maximum discharge power). Its stored
energy E follows, one state per step: E[t] = E[t-1] + energy per A x current[t] - loss x discharged[t], where
discharged >= -current (>= 0) and the loss is the round trip's 1 / efficiency - 1, so discharging costs energy
and a small battery-like wear cost: the plan discharges only when the price difference pays for both. E stays
between the state-of-charge floor (or where it starts, if lower) and the capacity; the session's target is
met on the net energy, so the car is back at its target at leave time. The collector phases, the external
limits and the grid balance see the signed current as they see every other flow, so discharging stays within
every fuse in the export direction and within the export limits.

The enforced step gives chargers their amps as if no car discharged (a car may give back less than its
limit), then lets each car the plan discharges now give back up to its planned current where every row and
the grid's export limit take it with the other devices at their decided values and charging cars at 0:
0 or at least its minimum, a negative `ac_max_current_A` (export direction).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:
    from solver.assemble import Plan
    from solver.layout import Layout, SessionLayout
    from solver.numbers import Numbers

WEAR_WEIGHT_PER_KWH = 1e-3
"""Per kWh given back, in units of the largest price: like a battery's priority cost, a little above it."""


def discharge_current(layout: SessionLayout) -> float:
    """The most current (A per phase) the car may give back, 0 when it may not discharge."""
    session, pole = layout.session, layout.pole
    if not (session.allow_discharge and pole.bidirectional):
        return 0.0
    if session.car_battery_capacity_Wh is None or session.car_battery_soc_percent is None:
        return 0.0
    limit = layout.max_current_A
    if session.max_discharge_power_W is not None:
        limit = min(limit, session.max_discharge_power_W / max(layout.watts_per_ampere, 1e-9))
    return max(limit, 0.0)


@dataclass(frozen=True)
class Storage:
    """The discharging cars' car-steps and what their stored energy may do (kWh, per A of current)."""

    car_step: np.ndarray
    session: np.ndarray
    kwh_per_ampere: np.ndarray
    loss_kwh_per_ampere: np.ndarray
    balance: sp.csr_array
    """E[t] - E[t-1] per state (the first state of each car starts from its initial energy)."""

    @property
    def size(self) -> int:
        return int(self.car_step.size)


def storage(layout: Layout) -> Storage:
    """The state variables' indexing and matrices (size 0 without a discharging car)."""
    discharging = np.array([s.discharge_A > 0 for s in layout.sessions], dtype=bool)
    if not discharging.any():
        empty = np.zeros(0, dtype=np.int64)
        return Storage(empty, empty, np.zeros(0), np.zeros(0), sp.csr_array((0, 0)))
    car_step = np.flatnonzero(discharging[layout.car_of_step])
    session = layout.car_of_step[car_step]
    energy = layout.energy_per_ampere()[car_step] / 1000.0
    efficiency = np.array([s.session.discharging_efficiency for s in layout.sessions])[session]
    first = np.ones(car_step.size, dtype=bool)
    first[1:] = session[1:] != session[:-1]
    n = car_step.size
    previous = np.flatnonzero(~first)
    balance = sp.eye_array(n, format="csr") - sp.csr_array(
        (np.ones(previous.size), (previous, previous - 1)), shape=(n, n)
    )
    return Storage(
        car_step=car_step,
        session=session,
        kwh_per_ampere=energy,
        loss_kwh_per_ampere=energy * (1 / efficiency - 1),
        balance=sp.csr_array(balance),
    )


def energy_bounds(layout: Layout, store: Storage) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per state: floor and capacity (kWh), and the initial energy at each car's first state (else 0)."""
    lows, highs, start = np.zeros(store.size), np.zeros(store.size), np.zeros(store.size)
    for k in np.unique(store.session):
        session = layout.sessions[k].session
        capacity = session.car_battery_capacity_Wh or 0.0
        initial = capacity * (session.car_battery_soc_percent or 0.0) / 100 / 1000
        floor = capacity * session.min_soc_percent / 100 / 1000
        states = np.flatnonzero(store.session == k)
        lows[states] = min(floor, initial)
        highs[states] = max(capacity / 1000, initial)
        start[states[0]] = initial
    return lows, highs, start


def discharge_lower(layout: Layout) -> np.ndarray:
    """Per car-step: the lowest current (negative: discharging), 0 for cars that may not discharge."""
    limit = np.array([-s.discharge_A for s in layout.sessions])
    return limit[layout.car_of_step] if limit.size else np.zeros(0)


def session_energy(layout: Layout, plan: Plan) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Per session the net energy the car got (Wh: charged less what discharging took out of its battery), and
    for each discharging car its stored energy at the step boundaries (Wh, index 0 = now)."""
    energy = layout.energy_per_ampere()
    efficiency = np.array([s.session.discharging_efficiency for s in layout.sessions])[layout.car_of_step]
    current = plan.car_current
    taken = np.where(current >= 0, current * energy, current * energy / efficiency)
    delivered = np.bincount(layout.car_of_step, weights=taken, minlength=len(layout.sessions))
    stored: dict[int, np.ndarray] = {}
    for k, s in enumerate(layout.sessions):
        if s.discharge_A <= 0:
            continue
        car = s.session
        initial = (car.car_battery_capacity_Wh or 0.0) * (car.car_battery_soc_percent or 0.0) / 100
        steps = taken[layout.offsets[k] : layout.offsets[k + 1]]
        stored[k] = initial + np.concatenate([[0.0], np.cumsum(steps)])
    return delivered, stored


def discharge_now(
    layout: Layout,
    numbers: Numbers,
    plan: Plan,
    flows: sp.csc_array,
    lower: np.ndarray,
    margin: np.ndarray,
    base: np.ndarray,
    current: np.ndarray,
) -> np.ndarray:
    """The enforced step's discharging: each car the plan discharges now gives back up to its planned current
    where every limited row (export side, with charging cars at 0) takes it; 0 or at least its minimum."""
    sessions = layout.sessions
    discharging = [k for k, s in enumerate(sessions) if s.discharge_A > 0 and s.steps > 0]
    if not discharging:
        return current
    wanted = np.zeros(len(sessions))
    for k in discharging:
        wanted[k] = max(-plan.car_current[layout.offsets[k]], 0.0)
    if not (wanted > 1e-9).any():
        return current
    current = current.copy()
    flow = base.copy()
    energy = layout.energy_per_ampere()
    for k in sorted(discharging, key=lambda k: -wanted[k]):
        s = sessions[k]
        minimum = s.session.ac_min_current_A
        car = s.session
        room_Wh = (car.car_battery_capacity_Wh or 0.0) * ((car.car_battery_soc_percent or 0.0) - car.min_soc_percent)
        ceiling = min(
            s.discharge_A,
            max(room_Wh / 100, 0.0) * car.discharging_efficiency / max(energy[layout.offsets[k]], 1e-9),
        )
        amps = min(wanted[k], ceiling)
        if amps < minimum - 1e-9:
            amps = minimum if amps >= minimum / 2 and minimum <= ceiling else 0.0
        if amps <= 1e-9 or current[k] > 1e-9:
            continue
        start, stop = flows.indptr[k], flows.indptr[k + 1]
        index, value = flows.indices[start:stop], flows.data[start:stop]
        positive = value > 1e-12
        room = (flow[index] - lower[index] - margin[index])[positive] / value[positive]
        amps = min(amps, float(room.min(initial=np.inf)))
        if amps < max(minimum, 1e-6) - 1e-9:
            continue
        flow[index] -= value * amps
        current[k] = -amps
    return current
