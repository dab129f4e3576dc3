"""Turn raw solution vectors (from the LP or the fallback) into the per-device result parts."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from solver.bidirectional import session_energy
from solver.layout import Layout
from solver.numbers import Numbers
from solver.phase_switching import row_injection, switching
from solver.result import BatteryState, CostBreakdown, DeviceSchedule, GridSchedule, SessionOutcome


@dataclass(frozen=True)
class Plan:
    """A decided schedule: current per used pin of every car-step, battery power and SoC."""

    car_current: np.ndarray
    battery_power: np.ndarray
    battery_soc_Wh: np.ndarray
    single_current: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """Per one-phase variable of the switchable cars (`phase_switching.switching`): A on the first pin; empty
    when there is none (or the fallback planned)."""

    def car_matrix(self, layout: Layout) -> np.ndarray:
        """Car currents as (sessions, steps), zero outside each car's window."""
        matrix = np.zeros((len(layout.sessions), layout.steps))
        matrix[layout.car_of_step, layout.step_of_car_step] = self.car_current
        return matrix


@dataclass(frozen=True)
class Assembled:
    devices: dict[str, DeviceSchedule]
    grid: GridSchedule
    batteries: dict[str, BatteryState]
    cost: CostBreakdown
    sessions: dict[str, SessionOutcome]
    collector_current_A: np.ndarray


def row_currents(layout: Layout, numbers: Numbers, plan: Plan) -> np.ndarray:
    """Net current of every collector phase at every step, (rows, steps)."""
    cars = layout.car_injection @ plan.car_matrix(layout)
    batteries = layout.battery_injection @ plan.battery_power
    currents = np.asarray(cars + batteries + numbers.fixed_rows)
    return currents + row_injection(layout, plan) if plan.single_current.size else currents


def _device_schedules(layout: Layout, plan: Plan) -> dict[str, DeviceSchedule]:
    problem, topology = layout.problem, layout.topology
    steps = layout.steps
    cars = plan.car_matrix(layout)
    sessions = {s.device_id: k for k, s in enumerate(layout.sessions)}
    single_phase = _single_phase_matrix(layout, plan)
    devices: dict[str, DeviceSchedule] = {}
    for pole in problem.poles:
        phases = topology.phases(pole.collector_id)
        current = {p: np.zeros(steps) for p in phases}
        power = np.zeros(steps)
        k = sessions.get(pole.id)
        if k is not None:
            for phase in layout.sessions[k].phases:
                current[phase] = current[phase] + cars[k]
            power = cars[k] * layout.sessions[k].watts_per_ampere
            single = single_phase.get(k)
            if single is not None:
                current[single[0]] = current[single[0]] + single[1]
                power = power + single[1] * topology.voltage(pole.collector_id)
        devices[pole.id] = DeviceSchedule(pole.id, "charging_pole", pole.collector_id, power, current)
    for b, battery in enumerate(problem.batteries):
        phases = topology.phases(battery.collector_id)
        per_phase = plan.battery_power[b] / (len(phases) * topology.voltage(battery.collector_id))
        devices[battery.id] = DeviceSchedule(
            battery.id,
            "battery",
            battery.collector_id,
            plan.battery_power[b].copy(),
            {p: per_phase.copy() for p in phases},
        )
    for forecast in problem.forecasts:
        phases = topology.phases(forecast.collector_id)
        voltage = topology.voltage(forecast.collector_id)
        if forecast.total_W is not None:
            power = np.asarray(forecast.total_W, dtype=float)
            current = {p: power / (len(phases) * voltage) for p in phases}
        else:
            assert forecast.per_phase_W is not None
            current = {p: np.zeros(steps) for p in phases}
            for phase, values in forecast.per_phase_W.items():
                current[phase] = current[phase] + np.asarray(values, dtype=float) / voltage
            power = np.sum(list(current.values()), axis=0) * voltage
        devices[forecast.id] = DeviceSchedule(
            forecast.id, forecast.kind, forecast.collector_id, np.asarray(power, dtype=float), current
        )
    return devices


def _single_phase_matrix(layout: Layout, plan: Plan) -> dict[int, tuple[str, np.ndarray]]:
    """Per switchable session: its one-phase pin's phase and the plan's one-phase current per step."""
    if plan.single_current.size == 0:
        return {}
    switch = switching(layout)
    found: dict[int, tuple[str, np.ndarray]] = {}
    for k in np.unique(switch.session):
        chosen = switch.session == k
        series = np.zeros(layout.steps)
        series[layout.step_of_car_step[switch.car_step[chosen]]] = plan.single_current[chosen]
        found[int(k)] = (layout.sessions[k].single_phase or layout.sessions[k].phases[0], series)
    return found


def assemble(layout: Layout, numbers: Numbers, plan: Plan) -> Assembled:
    """Schedules, grid flows, SoC, the schedule's own cost and session outcomes."""
    problem, topology = layout.problem, layout.topology
    currents = row_currents(layout, numbers, plan)
    root_voltage = topology.voltage(topology.root_id)
    phases = topology.phases(topology.root_id)
    phase_current = {p: currents[topology.row(topology.root_id, p)] for p in phases}
    phase_power = {p: c * root_voltage for p, c in phase_current.items()}
    net = np.sum(list(phase_power.values()), axis=0)
    grid = GridSchedule(
        net_power_W=net,
        import_power_W=np.maximum(net, 0.0),
        export_power_W=np.maximum(-net, 0.0),
        phase_current_A=phase_current,
        phase_import_power_W={p: np.maximum(w, 0.0) for p, w in phase_power.items()},
        phase_export_power_W={p: np.maximum(-w, 0.0) for p, w in phase_power.items()},
    )
    hours = problem.step_hours
    import_price = np.asarray(problem.import_price, dtype=float)
    export_price = np.asarray(problem.export_price, dtype=float)
    energy_cost = float(np.sum(grid.import_power_W * import_price - grid.export_power_W * export_price) * hours / 1000)
    peak_import = float(max(grid.import_power_W.max(initial=0.0), 0.0))
    config = problem.config
    peak_cost = 0.0
    if config.peak_minimization:
        peak_cost = config.peak_price_per_kW * max(peak_import, config.peak_already_reached_W) / 1000
    delivered, stored = session_energy(layout, plan)
    if plan.single_current.size:
        switch = switching(layout)
        delivered += np.bincount(
            switch.session, weights=plan.single_current * switch.kwh_per_ampere * 1000, minlength=len(layout.sessions)
        )
    sessions = {
        s.device_id: SessionOutcome(
            device_id=s.device_id,
            target_Wh=float(s.session.energy_needed_Wh),
            delivered_Wh=float(delivered[k]),
            unmet_Wh=float(max(s.session.energy_needed_Wh - delivered[k], 0.0)),
            untakeable_Wh=float(max(s.session.energy_needed_Wh - numbers.takeable_Wh[k], 0.0)),
            car_energy_Wh=stored.get(k),
        )
        for k, s in enumerate(layout.sessions)
    }
    batteries = {
        b.id: BatteryState(b.id, plan.battery_soc_Wh[i].copy(), plan.battery_soc_Wh[i] / b.capacity_Wh * 100)
        for i, b in enumerate(problem.batteries)
    }
    return Assembled(
        devices=_device_schedules(layout, plan),
        grid=grid,
        batteries=batteries,
        cost=CostBreakdown(energy=energy_cost, peak=peak_cost, peak_import_W=peak_import),
        sessions=sessions,
        collector_current_A=currents,
    )
