"""The snapshot's pure part: a site's records mapped to `solver.Problem`, without PostgreSQL."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.optimization.problem_mapping import DEFAULT_SOC_PERCENT, snapshot_of
from app.optimization.site_inputs import (
    CollectorRecord,
    ConfigurationRecord,
    ConstraintRecord,
    DeviceRecord,
    ExternalLimitRecord,
    ForecastRecord,
    MeasurementRecord,
    PriceRecord,
    SessionRecord,
    SiteInputs,
    StationRecord,
    planning_window,
)

NOW = datetime(2026, 3, 2, 8, 7, 30, tzinfo=UTC)
HOURLY = ConfigurationRecord(step_s=3600, horizon_s=4 * 3600)
MAIN, BOARD, KITCHEN = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def collectors() -> list[CollectorRecord]:
    return [
        CollectorRecord(id=MAIN, line_current=63.0, phase_voltage=230.0),
        CollectorRecord(
            id=BOARD,
            parent_id=MAIN,
            line_current=32.0,
            line_voltage=400.0,
            phase_permutations={"L1": "L2", "L2": "L3", "L3": "L1"},
        ),
        CollectorRecord(id=KITCHEN, parent_id=MAIN, line_current=16.0, phase_type="1P", nb_of_phases=1, phase="L3"),
    ]


def pole(collector: uuid.UUID = BOARD, **fields: Any) -> DeviceRecord:
    return DeviceRecord(
        id=fields.pop("id", uuid.uuid4()),
        name=fields.pop("name", "pole"),
        type="charging_pole_3phase",
        collector_id=collector,
        line_current=fields.pop("line_current", 32.0),
        pin_list=fields.pop("pin_list", ["pin1", "pin2", "pin3"]),
        phase_list=fields.pop("phase_list", ["L2", "L3", "L1"]),
        **fields,
    )


def series(kind: str = "load", collector: uuid.UUID = MAIN, name: str = "house") -> DeviceRecord:
    return DeviceRecord(
        id=uuid.uuid4(),
        name=name,
        type="forecasted_series_3phase",
        collector_id=collector,
        line_current=40.0,
        forecast_type=kind,
    )


def battery(name: str = "basement") -> DeviceRecord:
    return DeviceRecord(
        id=uuid.uuid4(),
        name=name,
        type="battery_energy_storage_system",
        collector_id=MAIN,
        charging_efficiency=0.9,
        discharging_efficiency=0.92,
        maximum_charging_power=5000.0,
        maximum_discharging_power=4000.0,
        operational_battery_capacity=10_000.0,
        charging_priority=3,
        discharging_priority=7,
        policies=[],
    )


def session(device: DeviceRecord, **fields: Any) -> SessionRecord:
    return SessionRecord(
        id=uuid.uuid4(), device_id=device.id, used_pins=fields.pop("used_pins", ["pin1", "pin2", "pin3"]), **fields
    )


def inputs(configuration: ConfigurationRecord = HOURLY, now: datetime = NOW, **parts: Any) -> SiteInputs:
    return SiteInputs(
        window=planning_window(configuration, now, timedelta(seconds=20)),
        configuration=configuration,
        collectors=parts.pop("collectors", collectors()),
        devices=parts.pop("devices", []),
        latest={m.device_id: m for m in parts.pop("latest", [])},
        prices=parts.pop("prices", []),
        external_limits=parts.pop("external_limits", []),
        forecasts=parts.pop("forecasts", []),
        constraints=parts.pop("constraints", []),
        sessions=parts.pop("sessions", []),
        stations=parts.pop("stations", []),
    )


def hour(k: float) -> datetime:
    return datetime(2026, 3, 2, 8, tzinfo=UTC) + timedelta(hours=k)


def test_the_grid_starts_at_the_step_in_force_or_the_next_one_within_the_lead() -> None:
    window = planning_window(HOURLY, NOW, timedelta(seconds=20))
    assert (window.start, window.steps, window.end) == (hour(0), 4, hour(4))
    late = planning_window(HOURLY, hour(1) - timedelta(seconds=10), timedelta(seconds=20))
    assert late.start == hour(1)  # the last 20 s of a step plan the next one
    quarter = ConfigurationRecord(step_s=900, horizon_s=3600)
    assert planning_window(quarter, hour(0) - timedelta(minutes=6), timedelta(minutes=10)).start == hour(0) - timedelta(
        minutes=15
    )


def test_collectors_keep_their_tree_permutations_phase_and_voltage() -> None:
    main, board, kitchen = snapshot_of(inputs()).problem.collectors
    assert (main.id, main.parent_id, main.phase_voltage, main.kind) == (str(MAIN), None, 230.0, "3P")
    assert board.parent_id == str(MAIN) and board.phase_permutations == {"L1": "L2", "L2": "L3", "L3": "L1"}
    assert board.phase_voltage == pytest.approx(400 / math.sqrt(3))  # only a line voltage: / sqrt(3) on 3P
    assert (kitchen.kind, kitchen.phase, kitchen.phase_voltage) == ("1P", "L3", 230.0)  # no voltage: nominal


def test_poles_keep_their_pins_and_sessions_use_their_pins_in_pole_order() -> None:
    three, single = pole(name="garage"), pole(collector=KITCHEN, name="kitchen", pin_list=["pin1"], phase_list=["L3"])
    problem = snapshot_of(
        inputs(
            devices=[three, single],
            sessions=[session(three, used_pins=["pin3", "pin1"], energy_amount_needed_wh=5000.0)],
        )
    ).problem
    by_id = {p.id: p for p in problem.poles}
    assert by_id[str(three.id)].pin_to_phase_mapping.pin_list == ("pin1", "pin2", "pin3")
    assert by_id[str(three.id)].pin_to_phase_mapping.phase_list == ("L2", "L3", "L1")
    assert by_id[str(single.id)].collector_id == str(KITCHEN)
    (planned,) = problem.sessions
    assert planned.device_id == str(three.id) and planned.used_pins == ("pin1", "pin3")


@given(
    needed=st.floats(min_value=0, max_value=100_000, allow_nan=False),
    delivered=st.floats(min_value=0, max_value=100_000, allow_nan=False),
)
def test_a_session_needs_its_target_minus_what_it_already_took_never_less_than_zero(
    needed: float, delivered: float
) -> None:
    car = pole()
    (planned,) = snapshot_of(
        inputs(devices=[car], sessions=[session(car, energy_amount_needed_wh=needed, delivered_wh=delivered)])
    ).problem.sessions
    assert planned.energy_needed_Wh == pytest.approx(max(needed - delivered, 0.0))


def test_a_session_without_a_target_wants_what_its_pins_can_take_until_it_leaves_or_the_horizon_ends() -> None:
    car, other = pole(), pole(name="other")
    leaves = session(car, used_pins=["pin1", "pin2"], leave_time=NOW + timedelta(hours=1), delivered_wh=1000.0)
    stays = session(
        other, leave_time=None, price_limit=0.2, full_autonomy=True, ac_min_current_a=8.0, max_phase_count=1
    )
    planned = {
        s.device_id: s for s in snapshot_of(inputs(devices=[car, other], sessions=[leaves, stays])).problem.sessions
    }
    volts = 400 / math.sqrt(3)
    assert planned[str(car.id)].energy_needed_Wh == pytest.approx(32.0 * volts * 2 * 1.0)
    until_end = (hour(4) - NOW).total_seconds() / 3600
    assert planned[str(other.id)].energy_needed_Wh == pytest.approx(32.0 * volts * 3 * until_end)
    kept = planned[str(other.id)]
    assert (kept.price_limit, kept.full_autonomy, kept.ac_min_current_A, kept.max_phase_count) == (0.2, True, 8.0, 1)


def test_a_session_on_a_device_outside_the_tree_is_left_out() -> None:
    detached = pole(collector=uuid.uuid4())
    problem = snapshot_of(inputs(devices=[detached], sessions=[session(detached, energy_amount_needed_wh=1.0)])).problem
    assert problem.poles == () and problem.sessions == ()


def constraint(device: DeviceRecord, **fields: Any) -> ConstraintRecord:
    return ConstraintRecord(
        id=uuid.uuid4(),
        device_id=device.id,
        priority=fields.pop("priority", 10),
        invalid_at=fields.pop("invalid_at", NOW + timedelta(hours=2)),
        created_at=NOW - timedelta(minutes=1),
        **fields,
    )


def test_live_constraints_become_bounds_held_to_the_physical_limits() -> None:
    car, store, house = pole(), battery(), series()
    problem = snapshot_of(
        inputs(
            devices=[car, store, house],
            constraints=[
                constraint(car, max_active_power=5000.0),
                constraint(car, max_active_power=1000.0, priority=1),  # lower priority: gives way
                constraint(store, min_active_power=-9000.0, active_power=2000.0),
                constraint(house, max_active_power=0.0),  # not controllable: no bounds
            ],
        )
    ).problem
    bounds = {b.device_id: b for b in problem.flexibility}
    assert set(bounds) == {str(car.id), str(store.id)}
    assert (bounds[str(car.id)].min_power_W, bounds[str(car.id)].max_power_W) == (0.0, 5000.0)
    assert bounds[str(car.id)].valid_until == NOW + timedelta(hours=2)
    held = bounds[str(store.id)]
    assert (held.min_power_W, held.max_power_W, held.set_point_W) == (-4000.0, 5000.0, 2000.0)  # -9 kW held to -4 kW


def test_an_expired_constraint_does_not_count() -> None:
    car = pole()
    (bounds,) = snapshot_of(
        inputs(
            devices=[car], constraints=[constraint(car, max_active_power=0.0, invalid_at=NOW - timedelta(seconds=1))]
        )
    ).problem.flexibility
    assert bounds.max_power_W == pytest.approx(32.0 * 400 / math.sqrt(3) * 3)


def test_a_series_without_forecast_holds_its_fresh_measurement_else_zero() -> None:
    measured, stale, silent = series(name="measured"), series(name="stale"), series("pv", name="silent")
    latest = [
        MeasurementRecord(device_id=measured.id, ts=NOW - timedelta(minutes=2), power_w=1200.0),
        MeasurementRecord(device_id=stale.id, ts=NOW - timedelta(hours=1), power_w=900.0),
    ]
    snapshot = snapshot_of(inputs(devices=[measured, stale, silent], latest=latest))
    by_id = {f.id: f for f in snapshot.problem.forecasts}
    assert list(by_id[str(measured.id)].total_W) == [1200.0] * 4
    assert list(by_id[str(stale.id)].total_W) == [0.0] * 4
    assert by_id[str(silent.id)].kind == "pv"
    assert "measured: no forecast, the latest measurement held over the horizon" in snapshot.warnings
    assert "stale: no forecast, zero held over the horizon" in snapshot.warnings
    (load,) = snapshot.problem.measurements  # only the fresh point speaks for the load now
    assert (load.device_id, load.power_W, load.current_per_phase_A) == (str(measured.id), 1200.0, None)


def test_a_forecast_is_sampled_as_a_step_series_and_per_phase_where_every_point_has_phases() -> None:
    house, board = series(), series(collector=BOARD, name="board")
    forecasts = [
        ForecastRecord(device_id=house.id, ts=hour(-1), power_w=500.0),  # in force at the start
        ForecastRecord(device_id=house.id, ts=hour(2), power_w=-300.0),
        ForecastRecord(device_id=board.id, ts=hour(0), power_w=600.0, phase_power_w=[100.0, 200.0, 300.0]),
    ]
    latest = [MeasurementRecord(device_id=board.id, ts=NOW, pin_current=[1.0, None, 3.0])]
    problem = snapshot_of(inputs(devices=[house, board], forecasts=forecasts, latest=latest)).problem
    by_id = {f.id: f for f in problem.forecasts}
    assert list(by_id[str(house.id)].total_W) == [500.0, 500.0, -300.0, -300.0]
    assert {p: list(v) for p, v in (by_id[str(board.id)].per_phase_W or {}).items()} == {
        "L1": [100.0] * 4,
        "L2": [200.0] * 4,
        "L3": [300.0] * 4,
    }
    (load,) = problem.measurements
    assert load.current_per_phase_A == {"L1": 1.0, "L3": 3.0}


def test_a_battery_starts_at_its_latest_state_of_charge_else_at_the_default_with_a_warning() -> None:
    known, unknown = battery("known"), battery("unknown")
    latest = [MeasurementRecord(device_id=known.id, ts=NOW - timedelta(days=2), soc=72.0)]  # old, still its charge
    snapshot = snapshot_of(inputs(devices=[known, unknown], latest=latest))
    by_id = {b.id: b for b in snapshot.problem.batteries}
    assert by_id[str(known.id)].initial_soc_percent == 72.0
    assert by_id[str(unknown.id)].initial_soc_percent == DEFAULT_SOC_PERCENT
    assert f"battery unknown: no state of charge measured, {DEFAULT_SOC_PERCENT:g} % assumed" in snapshot.warnings
    kept = by_id[str(known.id)]
    assert (kept.maximum_charging_power_W, kept.maximum_discharging_power_W, kept.capacity_Wh) == (
        5000.0,
        4000.0,
        10_000.0,
    )
    assert (
        kept.charging_efficiency,
        kept.discharging_efficiency,
        kept.charging_priority,
        kept.discharging_priority,
    ) == (
        0.9,
        0.92,
        3,
        7,
    )


def test_prices_limits_configuration_and_currency() -> None:
    prices = [
        PriceRecord(direction="import", ts=hour(-2), value=0.30, currency="CHF"),
        PriceRecord(direction="import", ts=hour(1), value=0.10, currency="CHF"),
    ]
    limits = [
        ExternalLimitRecord(direction="import", ts=hour(1), total_power_w=9000.0),
        ExternalLimitRecord(direction="import", ts=hour(3), total_power_w=None, ac_max_current_a=20.0),
    ]
    configuration = ConfigurationRecord(
        step_s=3600, horizon_s=4 * 3600, peak_price_per_kw=5.0, solver="CLARABEL", time_limit_s=3.0
    )
    snapshot = snapshot_of(inputs(configuration, prices=prices, external_limits=limits))
    problem = snapshot.problem
    assert list(problem.import_price) == [0.30, 0.10, 0.10, 0.10] and list(problem.export_price) == [0.0] * 4
    assert snapshot.currency == "CHF" and snapshot.warnings == ("no export prices: the plan treats export as free",)
    external = problem.external_limits
    assert list(external.import_power_W or []) == [math.inf, 9000.0, 9000.0, math.inf]
    assert list(external.import_current_A or []) == [math.inf] * 3 + [20.0]
    assert external.export_power_W is None and external.export_current_A is None
    config = problem.config
    assert (config.peak_minimization, config.peak_price_per_kW, config.solver, config.time_limit_s) == (
        True,
        5.0,
        "CLARABEL",
        3.0,
    )
    assert (config.step, config.horizon, problem.start) == (timedelta(hours=1), timedelta(hours=4), hour(0))
    assert snapshot_of(inputs()).currency == "EUR"


def test_a_dc_pole_loads_every_phase_of_its_collector_and_keeps_its_power_and_efficiency() -> None:
    dc = DeviceRecord(
        id=uuid.uuid4(),
        name="dc",
        type="dc_charging_pole",
        collector_id=KITCHEN,
        maximum_power=7000.0,
        conversion_efficiency=0.9,
        minimum_power=1000.0,
        pin_list=["pin1"],
        phase_list=["L3"],
    )
    problem = snapshot_of(inputs(devices=[dc], sessions=[session(dc, used_pins=["pin1"])])).problem
    (pole_,) = problem.poles
    assert pole_.dc_max_power_W == 7000.0 and pole_.conversion_efficiency == 0.9 and pole_.dc_min_power_W == 1000.0
    assert pole_.pin_to_phase_mapping.phase_list == ("L3",)  # the 1P kitchen's one phase
    assert problem.sessions[0].used_pins == ("pin1",)


def test_switching_and_discharging_reach_the_solver_with_the_phase_count_in_force() -> None:
    switchable = pole(name="garage", supports_phase_switching=True, bidirectional=True)
    switched = hour(0) - timedelta(minutes=3)
    row = session(
        switchable,
        min_phase_count=1,
        active_phase_count=1,
        phase_switched_at=switched,
        allow_discharge=True,
        car_battery_soc=60.0,
        car_battery_capacity_wh=50_000.0,
        min_soc_percent=25.0,
        max_discharge_power_w=7000.0,
    )
    problem = snapshot_of(inputs(devices=[switchable], sessions=[row])).problem
    (pole_,) = problem.poles
    assert pole_.supports_phase_switching and pole_.bidirectional and pole_.dc_max_power_W is None
    (car,) = problem.sessions
    assert (car.min_phase_count, car.active_phase_count, car.last_phase_switch) == (1, 1, switched)
    assert (car.allow_discharge, car.car_battery_capacity_Wh, car.min_soc_percent) == (True, 50_000.0, 25.0)
    assert car.max_discharge_power_W == 7000.0 and car.car_battery_soc_percent == 60.0


def test_a_pole_driven_by_an_ocpp_station_is_planned_one_way_with_a_warning() -> None:
    both_ways = pole(name="garage", bidirectional=True)
    station = StationRecord(device_id=both_ways.id, station_id="CP-7", online=True)
    row = session(both_ways, allow_discharge=True, car_battery_soc=60.0, car_battery_capacity_wh=50_000.0)
    snapshot = snapshot_of(inputs(devices=[both_ways], sessions=[row], stations=[station]))
    (pole_,) = snapshot.problem.poles
    assert not pole_.bidirectional
    assert any("cannot discharge" in warning for warning in snapshot.warnings)
