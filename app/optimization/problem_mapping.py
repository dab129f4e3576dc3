"""A site's inputs (plain records) mapped to `solver.Problem`: pure, so every rule of the mapping is tested
without a database.

- Collectors keep their tree, phases and permutations; the phase voltage comes from the line voltage where
  only that is given, else it is the nominal one.
- A session needs its target minus what its pole already delivered (never below zero); without a target,
  what the pole can give on its used pins until it leaves (or the horizon ends).
- Live constraints become flexibility bounds (the same rule as `Device.flexibility`).
- A pole whose OCPP station is not under control is planned at the station's fallback current
  (`uncontrolled.station_bounds`).
- A series without a forecast holds its fresh measurement (persistence), else zero; a battery without a
  measured state of charge starts at 50 %. Each such gap is a warning of the run.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Literal
from uuid import UUID

import solver
from app.domain.flexibility import flexibility_bounds
from app.optimization.series import sample
from app.optimization.site_inputs import (
    CollectorRecord,
    ConstraintRecord,
    DeviceRecord,
    ForecastRecord,
    MeasurementRecord,
    PlanningWindow,
    SessionRecord,
    SiteInputs,
)
from app.optimization.uncontrolled import station_bounds
from app.phases import PHASES, measured_currents, nominal_voltage_of, phases_of
from app.vocabulary import CHARGING_POLES, DeviceType

DEFAULT_SOC_PERCENT = 50.0
FRESH_MEASUREMENT = timedelta(minutes=15)


@dataclass(frozen=True)
class Snapshot:
    problem: solver.Problem
    currency: str
    warnings: tuple[str, ...]


@dataclass
class _Devices:
    poles: list[solver.ChargingPole] = field(default_factory=list)
    series: list[solver.ForecastedSeries] = field(default_factory=list)
    batteries: list[solver.Battery] = field(default_factory=list)
    bounds: list[solver.FlexibilityBounds] = field(default_factory=list)
    loads: list[solver.LoadMeasurement] = field(default_factory=list)


def snapshot_of(inputs: SiteInputs, valid_for: timedelta = timedelta(seconds=60)) -> Snapshot:
    """The problem for the inputs' window; its enforced limits hold for `valid_for` from when they are issued."""
    window, configuration = inputs.window, inputs.configuration
    warnings: list[str] = []
    devices = _devices(inputs, warnings)
    sessions = _sessions(inputs)
    uncontrolled, station_warnings = station_bounds(inputs, sessions)
    warnings.extend(station_warnings)

    def priced(direction: str) -> list[float]:
        points = [(p.ts, p.value) for p in inputs.prices if p.direction == direction]
        if not points:
            warnings.append(f"no {direction} prices: the plan treats {direction} as free")
        return sample(points, window.start, window.step, window.steps, 0.0)

    def limited(direction: str, column: str) -> list[float] | None:
        points = [(p.ts, getattr(p, column)) for p in inputs.external_limits if p.direction == direction]
        return sample(points, window.start, window.step, window.steps, math.inf) if points else None

    problem = solver.Problem(
        start=window.start,
        collectors=tuple(_collector(c) for c in inputs.collectors),
        import_price=priced("import"),
        export_price=priced("export"),
        poles=tuple(devices.poles),
        forecasts=tuple(devices.series),
        batteries=tuple(devices.batteries),
        sessions=sessions,
        flexibility=(*devices.bounds, *uncontrolled),
        measurements=tuple(devices.loads),
        external_limits=solver.ExternalLimits(
            import_power_W=limited("import", "total_power_w"),
            export_power_W=limited("export", "total_power_w"),
            import_current_A=limited("import", "ac_max_current_a"),
            export_current_A=limited("export", "ac_max_current_a"),
        ),
        config=solver.OptimizationConfig(
            cost_minimization=configuration.cost_minimization,
            peak_minimization=configuration.peak_price_per_kw is not None,
            peak_price_per_kW=configuration.peak_price_per_kw or 0.0,
            step=window.step,
            horizon=window.steps * window.step,
            solver=configuration.solver,  # type: ignore[arg-type]  # the service accepts only solver names
            time_limit_s=configuration.time_limit_s,
            enforced_valid_for=valid_for,
        ),
        issued_at=window.now,
    )
    currency = next((p.currency for p in inputs.prices), "EUR")
    return Snapshot(problem, currency, tuple(warnings))


def _devices(inputs: SiteInputs, warnings: list[str]) -> _Devices:
    """Every device on a collector of the site, by type; constraints on controllable ones as bounds."""
    window = inputs.window
    collector_of = {c.id: c for c in inputs.collectors}
    forecasts: dict[UUID, list[ForecastRecord]] = defaultdict(list)
    for forecast in inputs.forecasts:
        forecasts[forecast.device_id].append(forecast)
    constraints: dict[UUID, list[ConstraintRecord]] = defaultdict(list)
    for constraint in inputs.constraints:
        constraints[constraint.device_id].append(constraint)
    found = _Devices()
    ocpp_driven = {row.device_id for row in inputs.stations}
    for device in inputs.devices:
        collector = collector_of.get(device.collector_id) if device.collector_id else None
        if collector is None:
            continue
        point = inputs.latest.get(device.id)
        fresh = point if point is not None and window.now - point.ts <= FRESH_MEASUREMENT else None
        if device.type in CHARGING_POLES:
            pole = _pole(device, collector)
            if pole.bidirectional and device.id in ocpp_driven:
                # OCPP 1.6 and 2.0.1 profiles only cap what a car draws: a station cannot be told to discharge.
                warnings.append(f"pole {device.id}: its OCPP station cannot discharge a car; planned as one-way")
                pole = replace(pole, bidirectional=False)
            found.poles.append(pole)
        elif device.type == DeviceType.FORECASTED_SERIES.value:
            found.series.append(_forecast(device, collector, forecasts[device.id], fresh, window, warnings))
            if fresh is not None and (fresh.power_w is not None or fresh.pin_current):
                per_phase = measured_currents(fresh, collector) if fresh.pin_current else None
                found.loads.append(
                    solver.LoadMeasurement(str(device.id), current_per_phase_A=per_phase, power_W=fresh.power_w)
                )
        else:
            found.batteries.append(_battery(device, collector, point, window, warnings))
        if device.type != DeviceType.FORECASTED_SERIES.value and constraints[device.id]:
            found.bounds.append(_bounds(device, collector, constraints[device.id], window))
    return found


def _sessions(inputs: SiteInputs) -> tuple[solver.ChargingSession, ...]:
    """Open sessions on poles of the site's tree."""
    collector_of = {c.id: c for c in inputs.collectors}
    device_of = {d.id: d for d in inputs.devices}
    sessions = []
    for row in inputs.sessions:
        pole = device_of.get(row.device_id)
        collector = collector_of.get(pole.collector_id) if pole and pole.collector_id else None
        if pole is not None and collector is not None:
            sessions.append(_session(row, pole, collector, inputs.window))
    return tuple(sessions)


def _collector(row: CollectorRecord) -> solver.Collector:
    return solver.Collector(
        id=str(row.id),
        line_current=row.line_current,
        phase_voltage=nominal_voltage_of(row),
        parent_id=str(row.parent_id) if row.parent_id else None,
        kind=row.phase_type,  # type: ignore[arg-type]  # validated as 1P or 3P when stored
        phase=row.phase,
        phase_permutations=row.phase_permutations,
    )


def _pole(device: DeviceRecord, collector: CollectorRecord) -> solver.ChargingPole:
    """An AC pole as configured; a DC pole on every phase of its collector, its maximum AC current the line current
    if given (else what its maximum power needs)."""
    dc = device.type == DeviceType.DC_CHARGING_POLE.value
    pins, phases = tuple(device.pin_list or ()), tuple(device.phase_list or ())
    if dc:
        phases = phases_of(collector)
        pins = tuple(f"pin{k + 1}" for k in range(len(phases)))
    return solver.ChargingPole(
        id=str(device.id),
        collector_id=str(collector.id),
        line_current=device.line_current or 0.0,
        pin_to_phase_mapping=solver.PinToPhaseMapping(pins, phases),
        supports_phase_switching=bool(device.supports_phase_switching),
        dc_max_power_W=device.maximum_power if dc else None,
        conversion_efficiency=(device.conversion_efficiency or 1.0) if dc else 1.0,
        dc_min_power_W=(device.minimum_power or 0.0) if dc else 0.0,
        bidirectional=bool(device.bidirectional),
    )


def _battery(
    device: DeviceRecord,
    collector: CollectorRecord,
    point: MeasurementRecord | None,
    window: PlanningWindow,
    warnings: list[str],
) -> solver.Battery:
    """The latest measured state of charge, however old (a battery at rest reports rarely), else 50 %."""
    soc = point.soc if point is not None else None
    if soc is None:
        warnings.append(f"battery {device.name}: no state of charge measured, {DEFAULT_SOC_PERCENT:g} % assumed")
    return solver.Battery(
        id=str(device.id),
        collector_id=str(collector.id),
        maximum_charging_power_W=device.maximum_charging_power or 0.0,
        maximum_discharging_power_W=device.maximum_discharging_power or 0.0,
        capacity_Wh=device.operational_battery_capacity or 0.0,
        initial_soc_percent=DEFAULT_SOC_PERCENT if soc is None else soc,
        charging_efficiency=device.charging_efficiency or 0.95,
        discharging_efficiency=device.discharging_efficiency or 0.95,
        charging_priority=device.charging_priority or 10,
        discharging_priority=device.discharging_priority or 10,
        policies=solver.expand_pleevi_policies(device.policies or [], window.start, window.end),
    )


def _forecast(
    device: DeviceRecord,
    collector: CollectorRecord,
    points: list[ForecastRecord],
    fresh: MeasurementRecord | None,
    window: PlanningWindow,
    warnings: list[str],
) -> solver.ForecastedSeries:
    """The forecast where there is one; otherwise the latest measurement held (persistence), else zero."""
    default = fresh.power_w if fresh is not None and fresh.power_w is not None else 0.0
    if not points:
        warnings.append(
            f"{device.name}: no forecast, {'the latest measurement' if fresh else 'zero'} held over the horizon"
        )
    kind: Literal["pv", "load"] = "pv" if device.forecast_type == "pv" else "load"
    line_current = device.line_current or 0.0
    start, step, steps = window.start, window.step, window.steps
    if points and all(p.phase_power_w for p in points) and collector.phase_type == "3P":
        per_phase: dict[str, solver.problem.Series] = {
            phase: sample([(p.ts, (p.phase_power_w or [])[i]) for p in points], start, step, steps, 0.0)
            for i, phase in enumerate(PHASES)
        }
        return solver.ForecastedSeries(str(device.id), str(collector.id), kind, line_current, per_phase_W=per_phase)
    total = sample([(p.ts, p.power_w) for p in points], start, step, steps, default)
    return solver.ForecastedSeries(str(device.id), str(collector.id), kind, line_current, total_W=total)


def _bounds(
    device: DeviceRecord, collector: CollectorRecord, rows: list[ConstraintRecord], window: PlanningWindow
) -> solver.FlexibilityBounds:
    resolved = flexibility_bounds(device, collector, [c.view() for c in rows], window.now)
    return solver.FlexibilityBounds(
        device_id=str(device.id),
        min_power_W=resolved.minimum.value,
        max_power_W=resolved.maximum.value,
        set_point_W=resolved.set_point.value if resolved.set_point else None,
        valid_until=resolved.invalid_at,
    )


def _session(
    row: SessionRecord, pole: DeviceRecord, collector: CollectorRecord, window: PlanningWindow
) -> solver.ChargingSession:
    """A session without an energy target wants what the pole can give until it leaves (or the horizon ends)."""
    if row.energy_amount_needed_wh is not None:
        needed = max(row.energy_amount_needed_wh - row.delivered_wh, 0.0)
    else:
        until = min(row.leave_time or window.end, window.end)
        hours = max((until - window.now).total_seconds(), 0) / 3600
        needed = (pole.line_current or 0.0) * nominal_voltage_of(collector) * len(row.used_pins) * hours
    if pole.type == DeviceType.DC_CHARGING_POLE.value:
        pins = tuple(f"pin{k + 1}" for k in range(len(phases_of(collector))))
    else:
        pins = tuple(p for p in pole.pin_list or () if p in row.used_pins)
    return solver.ChargingSession(
        device_id=str(pole.id),
        used_pins=pins,
        energy_needed_Wh=needed,
        energy_delivered_Wh=row.delivered_wh,
        leave_time=row.leave_time,
        car_battery_soc_percent=row.car_battery_soc,
        charge_to_max_percent=row.charge_to_max_percent,
        price_limit=row.price_limit,
        full_autonomy=row.full_autonomy,
        ac_min_current_A=row.ac_min_current_a,
        max_phase_count=row.max_phase_count,
        min_phase_count=row.min_phase_count,
        active_phase_count=row.active_phase_count,
        last_phase_switch=row.phase_switched_at,
        allow_discharge=row.allow_discharge,
        car_battery_capacity_Wh=row.car_battery_capacity_wh,
        min_soc_percent=row.min_soc_percent or 0.0,
        max_discharge_power_W=row.max_discharge_power_w,
    )
