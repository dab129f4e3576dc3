"""Where every device sits in the linear model: derived, validated facts about the problem.

The layout separates what shapes the model (windows, pins, matrices: the `structure_key`) from
what only moves numbers (prices, forecasts, bounds: the parameters), so a compiled model can be
re-solved whenever the structure is unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from solver.bidirectional import discharge_current
from solver.dc import dc_session
from solver.phase_switching import single_phase_of
from solver.problem import Battery, ChargingPole, ChargingSession, ForecastedSeries, Problem
from solver.topology import Topology, build_topology


@dataclass(frozen=True)
class SessionLayout:
    """A plugged car: its pins, window and static limits. Currents are per used pin, in A."""

    session: ChargingSession
    pole: ChargingPole
    phases: tuple[str, ...]
    steps: int
    last_step_fraction: float
    max_current_A: float
    watts_per_ampere: float
    efficiency: float = 1.0
    """Energy the car gets per Wh drawn from the collector (a DC pole's conversion efficiency)."""
    single_phase: str | None = None
    """A car that may switch to one phase: the phase its pole's first mapped pin draws from (phase_switching)."""
    discharge_A: float = 0.0
    """A car that may discharge: the most current it may give back per phase (bidirectional)."""

    @property
    def device_id(self) -> str:
        return self.session.device_id


@dataclass(frozen=True)
class Layout:
    """The problem with its topology, sessions, car-step indexing and injection matrices.

    `car_local`: current on each row per A of a car's pins, its own collector's rows only; `battery_local`: the
    same per W of a battery; `*_injection`: carried on up to every ancestor row (`topology.aggregation @ *_local`).
    """

    problem: Problem
    topology: Topology
    sessions: tuple[SessionLayout, ...]
    car_of_step: np.ndarray
    step_of_car_step: np.ndarray
    offsets: np.ndarray
    car_local: sp.csc_array
    battery_local: sp.csc_array
    car_injection: sp.csc_array
    battery_injection: sp.csc_array
    policy_rows: tuple[tuple[int, int, float, float, float], ...]

    @property
    def steps(self) -> int:
        return self.problem.steps

    @property
    def fair_share_steps(self) -> int:
        """Steps from now over which comparable sessions are kept at comparable current."""
        config = self.problem.config
        return min(math.ceil(config.fair_share_horizon / config.step), self.steps)

    @property
    def car_steps(self) -> int:
        return int(self.car_of_step.size)

    @property
    def batteries(self) -> tuple[Battery, ...]:
        return self.problem.batteries

    def energy_per_ampere(self) -> np.ndarray:
        """Wh delivered per A of each car-step (the last step counts only until the leave time)."""
        wpa = np.array([s.watts_per_ampere * s.efficiency for s in self.sessions])[self.car_of_step]
        weight = np.ones(self.car_steps)
        last = np.array([s.last_step_fraction for s in self.sessions])
        ends = self.offsets[1:] - 1
        has_steps = self.offsets[1:] > self.offsets[:-1]
        weight[ends[has_steps]] = last[has_steps]
        return np.asarray(wpa * weight * self.problem.step_hours)

    def comparable_classes(self) -> np.ndarray:
        """A class number per session: same need (received + still needed, to the Wh), phases, power per A,
        current range, window and options.

        Comparable cars are kept at the same current step by step and within one step at their minimum over
        their stay. A session's total need only changes when its target does, so the class (part of the
        model's structure) survives the re-solves of a stay.
        """
        keys: dict[tuple[object, ...], int] = {}
        classes = [
            keys.setdefault(
                (
                    round(s.session.energy_needed_Wh + s.session.energy_delivered_Wh),
                    len(s.phases),
                    s.watts_per_ampere,
                    s.max_current_A,
                    s.steps,
                    round(s.last_step_fraction, 6),
                    s.session.ac_min_current_A,
                    s.session.price_limit is not None,
                    s.session.full_autonomy,
                    s.efficiency,
                    s.single_phase,
                    s.discharge_A > 0,
                ),
                len(keys),
            )
            for s in self.sessions
        ]
        return np.array(classes, dtype=np.int64)

    def structure_key(self) -> tuple[object, ...]:
        """Everything that shapes the compiled model; equal keys can share one compiled model."""
        problem = self.problem
        collectors = tuple(
            (
                c.id,
                c.parent_id,
                c.kind,
                c.phase,
                c.line_current,
                c.phase_voltage,
                tuple(sorted((c.phase_permutations or {}).items())),
            )
            for c in self.topology.collectors
        )
        sessions = tuple(
            (
                s.device_id,
                s.phases,
                s.steps,
                round(s.last_step_fraction, 9),
                s.max_current_A,
                s.watts_per_ampere,
                s.session.full_autonomy,
                s.session.price_limit is not None,
                s.session.ac_min_current_A,
                s.pole.collector_id,
                s.efficiency,
                s.single_phase,
                s.discharge_A > 0,
            )
            for s in self.sessions
        )
        batteries = tuple(
            (
                b.id,
                b.collector_id,
                b.maximum_charging_power_W,
                b.maximum_discharging_power_W,
                b.capacity_Wh,
                b.charging_efficiency,
                b.discharging_efficiency,
                b.charging_priority,
                b.discharging_priority,
            )
            for b in problem.batteries
        )
        forecasts = tuple((f.id, f.collector_id, f.kind) for f in problem.forecasts)
        policies = tuple((b, k, round(a, 9)) for b, k, a, _, _ in self.policy_rows)
        classes = self.comparable_classes()
        shared = tuple(
            tuple(np.flatnonzero(classes == c).tolist()) for c in np.unique(classes) if (classes == c).sum() >= 2
        )
        limits = problem.external_limits
        external = (limits.import_power_W is not None, limits.export_power_W is not None)
        return (
            problem.steps,
            problem.config.step,
            self.fair_share_steps,
            collectors,
            sessions,
            batteries,
            forecasts,
            policies,
            external,
            shared,
        )


def _session_layout(
    problem: Problem, topology: Topology, pole: ChargingPole, session: ChargingSession
) -> SessionLayout:
    mapping = pole.pin_to_phase_mapping
    unknown = [p for p in session.used_pins if p not in mapping.pin_list]
    if unknown:
        raise ValueError(f"session on {pole.id!r} uses pins {unknown} the pole does not have")
    pins = [p for p in mapping.pin_list if p in session.used_pins]
    if session.max_phase_count is not None:
        pins = pins[: max(session.max_phase_count, 0)]
    phases = tuple(mapping.phase_of(p) for p in pins)
    for phase in phases:
        topology.row(pole.collector_id, phase)
    steps, fraction = problem.steps, 1.0
    if session.leave_time is not None:
        position = problem.steps_before(session.leave_time)
        if position <= 0:
            steps, fraction = 0, 1.0
        elif position < problem.steps:
            steps = math.ceil(position)
            fraction = position - (steps - 1)
    car_max = session.max_current_per_phase_A
    max_current = pole.line_current if car_max is None else min(pole.line_current, car_max)
    layout = SessionLayout(
        session=session,
        pole=pole,
        phases=phases,
        steps=steps if phases else 0,
        last_step_fraction=fraction,
        max_current_A=max(max_current, 0.0),
        watts_per_ampere=len(phases) * topology.voltage(pole.collector_id),
    )
    if pole.dc_max_power_W is not None:
        layout = dc_session(layout, topology.phases(pole.collector_id), topology.voltage(pole.collector_id))
    if not (pole.supports_phase_switching or pole.bidirectional):
        return layout
    return replace(layout, single_phase=single_phase_of(layout), discharge_A=discharge_current(layout))


def _policy_rows(problem: Problem) -> tuple[tuple[int, int, float, float, float], ...]:
    """(battery index, boundary k, weight of boundary k+1, min %, max %) per policy instant in the horizon."""
    rows = []
    for b, battery in enumerate(problem.batteries):
        for policy in battery.policies:
            for instant in policy.instants:
                position = float(instant) if isinstance(instant, int) else problem.steps_before(instant)
                if not 0 <= position <= problem.steps:
                    continue
                k = min(int(math.floor(position)), problem.steps - 1)
                rows.append((b, k, position - k, policy.minimum_soc_percent, policy.maximum_soc_percent))
    return tuple(rows)


def _check_unique(kind: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for device_id in ids:
        if device_id in seen:
            raise ValueError(f"duplicate {kind} {device_id!r}")
        seen.add(device_id)


def build_layout(problem: Problem) -> Layout:
    """Validate the devices against the topology and index every car-step."""
    topology = build_topology(problem.collectors)
    devices: list[ChargingPole | ForecastedSeries | Battery] = [*problem.poles, *problem.forecasts, *problem.batteries]
    device_ids = [d.id for d in devices]
    _check_unique("device id", device_ids)
    _check_unique("session on pole", [s.device_id for s in problem.sessions])
    for device in devices:
        topology.phases(device.collector_id)
    poles = {p.id: p for p in problem.poles}
    missing = [s.device_id for s in problem.sessions if s.device_id not in poles]
    if missing:
        raise ValueError(f"sessions on unknown charging poles: {missing}")
    sessions = tuple(_session_layout(problem, topology, poles[s.device_id], s) for s in problem.sessions)

    counts = np.array([s.steps for s in sessions], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    car_of_step = np.repeat(np.arange(len(sessions), dtype=np.int64), counts)
    step_of_car_step = np.arange(offsets[-1], dtype=np.int64) - np.repeat(offsets[:-1], counts)

    size = topology.size
    pin_rows, pin_cols = [], []
    for k, s in enumerate(sessions):
        for phase in s.phases:
            pin_rows.append(topology.row(s.pole.collector_id, phase))
            pin_cols.append(k)
    car_local = sp.csc_array((np.ones(len(pin_rows)), (pin_rows, pin_cols)), shape=(size, len(sessions)))
    battery_columns = [topology.balanced_local_per_watt(b.collector_id) for b in problem.batteries]
    battery_local = sp.csc_array(np.column_stack(battery_columns) if battery_columns else np.zeros((size, 0)))
    return Layout(
        problem=problem,
        topology=topology,
        sessions=sessions,
        car_of_step=car_of_step,
        step_of_car_step=step_of_car_step,
        offsets=offsets,
        car_local=car_local,
        battery_local=battery_local,
        car_injection=sp.csc_array(topology.aggregation @ car_local),
        battery_injection=sp.csc_array(topology.aggregation @ battery_local),
        policy_rows=_policy_rows(problem),
    )
