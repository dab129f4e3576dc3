"""The numbers of one solve: everything that may change without changing the model's shape.

Computed with numpy from the problem and its layout; the compiled model writes them into its LP's bounds,
right-hand sides and costs, the fallback and the enforced-limits step read them directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from solver.layout import Layout
from solver.problem import FlexibilityBounds, Series

NO_LIMIT = 1e9
"""Stands in for an absent limit (A or W): finite, so parameter algebra never meets inf."""


@dataclass(frozen=True)
class Numbers:
    """Per-solve values. Rows are topology rows; `(R, T)` arrays are per row and step.

    The objective prices are the problem's prices, or zeros with cost minimization off.
    """

    fixed_rows: np.ndarray
    fixed_total: np.ndarray
    measured_rows: np.ndarray
    measured_total: float
    row_limit_import: np.ndarray
    row_limit_export: np.ndarray
    import_power_limit: np.ndarray
    export_power_limit: np.ndarray
    car_lower: np.ndarray
    car_upper: np.ndarray
    battery_lower: np.ndarray
    battery_upper: np.ndarray
    initial_soc_Wh: np.ndarray
    energy_target_Wh: np.ndarray
    energy_cap_Wh: np.ndarray
    objective_import_price: np.ndarray
    objective_export_price: np.ndarray
    price_scale: float
    below_price_limit: np.ndarray
    end_floor_Wh: np.ndarray
    end_value_per_kWh: np.ndarray
    takeable_Wh: np.ndarray

    @property
    def local_surplus(self) -> np.ndarray:
        """W of local production the forecasts leave over at each step (what full autonomy may use)."""
        return np.asarray(np.maximum(-self.fixed_total, 0.0))


def _values(values: Series, steps: int, what: str) -> np.ndarray:
    array: np.ndarray = np.asarray(values, dtype=float)
    if array.shape != (steps,) or not np.isfinite(array).all():
        raise ValueError(f"{what} needs {steps} finite values, got shape {array.shape}")
    return array


def _limit(values: Series | None, steps: int) -> np.ndarray:
    """A limit series with inf (or None) meaning no limit."""
    if values is None:
        return np.full(steps, NO_LIMIT)
    array = np.asarray(values, dtype=float)
    if array.shape != (steps,) or np.isnan(array).any() or (array < 0).any():
        raise ValueError(f"an external limit needs {steps} values >= 0 (inf: no limit), got {array!r}")
    return np.asarray(np.minimum(array, NO_LIMIT))


def _forecast_rows(layout: Layout) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Row currents and site total (W) of the forecasts per step, and of the latest measurements now.

    A device without a measurement counts now with its forecast for the current step.
    """
    problem, topology = layout.problem, layout.topology
    steps = problem.steps
    rows = np.zeros((topology.size, steps))
    total = np.zeros(steps)
    measured = {m.device_id: m for m in problem.measurements}
    now_rows = np.zeros(topology.size)
    now_total = 0.0
    for forecast in problem.forecasts:
        voltage = topology.voltage(forecast.collector_id)
        device_rows = np.zeros((topology.size, steps))
        if forecast.total_W is not None:
            series = _values(forecast.total_W, steps, f"forecast {forecast.id!r}")
            device_rows += np.outer(topology.balanced_per_watt(forecast.collector_id), series)
            device_total = series
        else:
            assert forecast.per_phase_W is not None
            device_total = np.zeros(steps)
            for phase, values in forecast.per_phase_W.items():
                series = _values(values, steps, f"forecast {forecast.id!r} phase {phase}")
                device_rows += np.outer(topology.injection(forecast.collector_id, [phase]) / voltage, series)
                device_total = device_total + series
        rows += device_rows
        total += device_total
        measurement = measured.get(forecast.id)
        if measurement is not None and measurement.current_per_phase_A is not None:
            for phase, amps in measurement.current_per_phase_A.items():
                now_rows += topology.injection(forecast.collector_id, [phase]) * amps
                now_total += amps * voltage
        elif measurement is not None and measurement.power_W is not None:
            now_rows += topology.balanced_per_watt(forecast.collector_id) * measurement.power_W
            now_total += measurement.power_W
        else:
            now_rows += device_rows[:, 0]
            now_total += float(device_total[0])
    return rows, total, now_rows, now_total


def _applies(bound: FlexibilityBounds, layout: Layout) -> np.ndarray:
    """Which steps a live bound covers: those starting before its expiry."""
    steps = layout.steps
    if bound.valid_until is None:
        return np.ones(steps, dtype=bool)
    return np.arange(steps) < layout.problem.steps_before(bound.valid_until)


def _car_bounds(layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    max_current = np.array([s.max_current_A for s in layout.sessions])
    upper = max_current[layout.car_of_step].astype(float)
    lower = np.zeros(layout.car_steps)
    index = {s.device_id: k for k, s in enumerate(layout.sessions)}
    for bound in layout.problem.flexibility:
        k = index.get(bound.device_id)
        if k is None:
            continue
        session = layout.sessions[k]
        start, stop = layout.offsets[k], layout.offsets[k + 1]
        covered = _applies(bound, layout)[: stop - start]
        wpa = session.watts_per_ampere or 1.0
        if bound.max_power_W is not None:
            upper[start:stop][covered] = np.minimum(upper[start:stop][covered], max(bound.max_power_W, 0) / wpa)
        if bound.min_power_W is not None:
            lower[start:stop][covered] = max(bound.min_power_W, 0) / wpa
        if bound.set_point_W is not None and stop > start:
            lower[start] = upper[start] = min(max(bound.set_point_W, 0) / wpa, session.max_current_A)
    return np.minimum(lower, upper), upper


def _battery_bounds(layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    batteries = layout.batteries
    steps = layout.steps
    lower = np.array([[-b.maximum_discharging_power_W] * steps for b in batteries]).reshape(len(batteries), steps)
    upper = np.array([[b.maximum_charging_power_W] * steps for b in batteries]).reshape(len(batteries), steps)
    index = {b.id: i for i, b in enumerate(batteries)}
    for bound in layout.problem.flexibility:
        b = index.get(bound.device_id)
        if b is None:
            continue
        covered = _applies(bound, layout)
        if bound.max_power_W is not None:
            upper[b, covered] = np.minimum(upper[b, covered], bound.max_power_W)
        if bound.min_power_W is not None:
            lower[b, covered] = np.maximum(lower[b, covered], bound.min_power_W)
        if bound.set_point_W is not None:
            lower[b, 0] = upper[b, 0] = float(np.clip(bound.set_point_W, lower[b, 0], upper[b, 0]))
    return np.minimum(lower, upper), upper


def _end_of_horizon(layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    """Per battery: the state of charge (Wh) it should end the horizon at or above, and the value per kWh stored then.

    A battery with a value per kWh has no floor; one with an end target aims at it; any other ends no lower than it
    started, so the plan does not sell the battery empty at the horizon's end.
    """
    floors, values = [], []
    for battery in layout.batteries:
        if battery.end_value_per_kWh is not None:
            floors.append(0.0)
            values.append(battery.end_value_per_kWh)
            continue
        percent = battery.initial_soc_percent if battery.end_soc_percent is None else battery.end_soc_percent
        floors.append(percent / 100 * battery.capacity_Wh)
        values.append(0.0)
    return np.array(floors, dtype=float), np.array(values, dtype=float)


def _session_energy(layout: Layout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Energy each car should get (target), may get at most (cap), and could physically take (Wh)."""
    energy = layout.energy_per_ampere()
    upper = np.array([s.max_current_A for s in layout.sessions])[layout.car_of_step] * energy
    deliverable = np.bincount(layout.car_of_step, weights=upper, minlength=len(layout.sessions))
    caps, targets, takeable = [], [], []
    for k, s in enumerate(layout.sessions):
        car = s.session
        cap = deliverable[k] + 1.0
        room = deliverable[k]
        if car.charge_to_max_percent is not None and car.car_battery_soc_percent is not None:
            room = car.charge_to_max_percent - car.car_battery_soc_percent
            if room <= 0:
                cap = 0.0
            elif car.car_battery_capacity_Wh is not None:
                cap = min(cap, car.car_battery_capacity_Wh * room / 100.0)
        caps.append(cap)
        targets.append(min(car.energy_needed_Wh, cap))
        takeable.append(min(cap, deliverable[k]))
    return np.array(targets, dtype=float), np.array(caps, dtype=float), np.array(takeable, dtype=float)


def compute_numbers(layout: Layout) -> Numbers:
    """All parameter values of one solve, normalised prices included."""
    problem, topology = layout.problem, layout.topology
    steps = problem.steps
    config = problem.config
    fixed_rows, fixed_total, measured_rows, measured_total = _forecast_rows(layout)
    limits = problem.external_limits
    row_import = np.repeat(topology.line_current[:, None], steps, axis=1)
    row_export = row_import.copy()
    root = topology.root_rows
    row_import[root] = np.minimum(row_import[root], _limit(limits.import_current_A, steps))
    row_export[root] = np.minimum(row_export[root], _limit(limits.export_current_A, steps))

    import_price = np.asarray(problem.import_price, dtype=float)
    export_price = np.asarray(problem.export_price, dtype=float)
    limits_of_cars = [s.session.price_limit for s in layout.sessions if s.session.price_limit is not None]
    scale = float(
        max(
            np.abs(import_price).max(initial=0),
            np.abs(export_price).max(initial=0),
            max((abs(x) for x in limits_of_cars), default=0.0),
        )
    )
    scale = scale if scale > 1e-12 else 1.0

    price_limit = np.array(
        [s.session.price_limit if s.session.price_limit is not None else -np.inf for s in layout.sessions]
    )[layout.car_of_step]

    car_lower, car_upper = _car_bounds(layout)
    battery_lower, battery_upper = _battery_bounds(layout)
    targets, caps, takeable = _session_energy(layout)
    end_floor, end_value = _end_of_horizon(layout)
    return Numbers(
        fixed_rows=fixed_rows,
        fixed_total=fixed_total,
        measured_rows=measured_rows,
        measured_total=measured_total,
        row_limit_import=row_import,
        row_limit_export=row_export,
        import_power_limit=_limit(limits.import_power_W, steps),
        export_power_limit=_limit(limits.export_power_W, steps),
        car_lower=car_lower,
        car_upper=car_upper,
        battery_lower=battery_lower,
        battery_upper=battery_upper,
        initial_soc_Wh=np.array([b.initial_soc_percent / 100 * b.capacity_Wh for b in layout.batteries]),
        energy_target_Wh=targets,
        energy_cap_Wh=caps,
        objective_import_price=import_price if config.cost_minimization else np.zeros(steps),
        objective_export_price=export_price if config.cost_minimization else np.zeros(steps),
        price_scale=scale,
        below_price_limit=import_price[layout.step_of_car_step] < price_limit,
        end_floor_Wh=end_floor,
        end_value_per_kWh=end_value if config.cost_minimization else np.zeros(len(layout.batteries)),
        takeable_Wh=takeable,
    )
