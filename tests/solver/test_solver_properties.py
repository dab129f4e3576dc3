"""Property test: random sites always yield safe, consistent plans (checked independently of the solver)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from solver_helpers import (
    START,
    assert_currents_within,
    assert_enforced_min_rule,
    assert_within_limits,
    enforced_currents,
)

from solver import (
    PHASES,
    Battery,
    BatteryPolicy,
    ChargingPole,
    ChargingSession,
    Collector,
    ForecastedSeries,
    OptimizationConfig,
    PinToPhaseMapping,
    Problem,
    solve,
)


@st.composite
def sites(draw: st.DrawFn) -> Problem:
    steps = draw(st.integers(4, 12))
    step = draw(st.sampled_from([timedelta(minutes=15), timedelta(hours=1)]))
    root_fuse = draw(st.sampled_from([25.0, 40.0, 63.0, 100.0]))
    collectors = [Collector("c0", root_fuse, 230.0)]
    for i in range(1, draw(st.integers(1, 5))):
        parent = draw(st.sampled_from(collectors))
        fuse = draw(st.sampled_from([10.0, 16.0, 25.0, 40.0]))
        if parent.kind == "1P":
            collectors.append(Collector(f"c{i}", fuse, parent.phase_voltage, parent.id, "1P", parent.phase or "L1"))
        elif draw(st.booleans()):
            collectors.append(
                Collector(f"c{i}", fuse, parent.phase_voltage, parent.id, "1P", draw(st.sampled_from(PHASES)))
            )
        else:
            rotation = draw(st.permutations(PHASES))
            voltage = draw(st.sampled_from([230.0, 230.0, 400.0, 115.0]))
            collectors.append(
                Collector(
                    f"c{i}", fuse, voltage, parent.id, "3P", phase_permutations=dict(zip(PHASES, rotation, strict=True))
                )
            )

    def phases_of(collector: Collector) -> tuple[str, ...]:
        return PHASES if collector.kind == "3P" else (collector.phase or "L1",)

    poles, sessions = [], []
    for i in range(draw(st.integers(0, 5))):
        board = draw(st.sampled_from(collectors))
        available = phases_of(board)
        count = draw(st.integers(1, len(available)))
        phases = tuple(draw(st.permutations(available)))[:count]
        pins = tuple(f"pin{k + 1}" for k in range(count))
        kind = draw(st.sampled_from(["ac", "ac", "switchable", "dc"]))
        if kind == "dc":
            pins = tuple(f"pin{k + 1}" for k in range(len(available)))
            phases = tuple(available)
        poles.append(
            ChargingPole(
                f"pole{i}",
                board.id,
                draw(st.sampled_from([16.0, 32.0])) if kind != "dc" else draw(st.sampled_from([0.0, 40.0, 80.0])),
                PinToPhaseMapping(pins, phases),
                supports_phase_switching=kind == "switchable",
                dc_max_power_W=draw(st.floats(5_000, 60_000)) if kind == "dc" else None,
                conversion_efficiency=draw(st.floats(0.85, 1.0)) if kind == "dc" else 1.0,
                dc_min_power_W=draw(st.sampled_from([0.0, 0.0, 2_000.0])) if kind == "dc" else 0.0,
                bidirectional=draw(st.booleans()),
            )
        )
        if draw(st.booleans()):
            used = tuple(p for p in pins if draw(st.booleans())) or pins[:1]
            if kind == "dc":
                used = pins
            discharging = draw(st.booleans())
            soc = draw(st.floats(0, 100))
            switched = START - timedelta(minutes=draw(st.integers(0, 30)))
            leave = START + step * draw(st.integers(0, steps + 2)) + timedelta(minutes=draw(st.integers(0, 14)))
            sessions.append(
                ChargingSession(
                    f"pole{i}",
                    used,
                    energy_needed_Wh=draw(st.floats(0, 30_000)),
                    leave_time=leave,
                    price_limit=draw(st.one_of(st.none(), st.floats(0.0, 0.5))),
                    full_autonomy=draw(st.booleans()),
                    ac_min_current_A=draw(st.sampled_from([6.0, 6.0, 8.0])),
                    max_current_per_phase_A=draw(st.one_of(st.none(), st.floats(6.0, 32.0))),
                    active_phase_count=draw(st.sampled_from([None, 1, 3])),
                    last_phase_switch=switched,
                    allow_discharge=discharging,
                    car_battery_capacity_Wh=draw(st.floats(20_000, 80_000)) if discharging else None,
                    car_battery_soc_percent=soc if discharging else None,
                    min_soc_percent=draw(st.floats(0, soc)) if discharging else 0.0,
                    max_discharge_power_W=draw(st.one_of(st.none(), st.floats(1_000, 11_000))),
                )
            )
    per_phase_room = 0.4 * root_fuse * 230.0
    pv = [-draw(st.floats(0, 3 * per_phase_room)) for _ in range(steps)]
    load = {p: [draw(st.floats(0, per_phase_room)) for _ in range(steps)] for p in PHASES}
    forecasts = [
        ForecastedSeries("pv", "c0", "pv", root_fuse, total_W=pv),
        ForecastedSeries("load", "c0", "load", root_fuse, per_phase_W=load),
    ]
    batteries = []
    for i in range(draw(st.integers(0, 2))):
        soc = draw(st.floats(0, 100))
        policy = BatteryPolicy((draw(st.integers(1, steps)),), max(soc - 10, 0), min(soc + 10, 100))
        batteries.append(
            Battery(
                f"bat{i}",
                draw(st.sampled_from(collectors)).id,
                draw(st.floats(500, 10_000)),
                draw(st.floats(500, 10_000)),
                draw(st.floats(1_000, 20_000)),
                soc,
                draw(st.floats(0.8, 1.0)),
                draw(st.floats(0.8, 1.0)),
                draw(st.integers(1, 10)),
                draw(st.integers(1, 10)),
                (policy,),
            )
        )
    import_price = [draw(st.floats(0.0, 0.5)) for _ in range(steps)]
    export_price = [p * draw(st.floats(0.0, 1.0)) for p in import_price]
    config = OptimizationConfig(
        step=step,
        horizon=step * steps,
        peak_minimization=draw(st.booleans()),
        peak_price_per_kW=draw(st.floats(0, 10)),
        cost_minimization=draw(st.booleans()),
    )
    return Problem(
        start=START,
        collectors=tuple(collectors),
        poles=tuple(poles),
        forecasts=tuple(forecasts),
        batteries=tuple(batteries),
        sessions=tuple(sessions),
        import_price=import_price,
        export_price=export_price,
        config=config,
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sites())
def test_random_sites_are_safe_and_consistent(problem: Problem) -> None:
    result = solve(problem)
    assert not result.used_fallback, result.status
    assert_within_limits(problem, result, tolerance=1e-6)
    assert_enforced_min_rule(problem, result)
    assert_currents_within(problem, enforced_currents(problem, result), tolerance=-0.01)

    for car in problem.sessions:
        stored = result.sessions[car.device_id].car_energy_Wh
        if stored is not None:
            assert car.car_battery_capacity_Wh is not None and car.car_battery_soc_percent is not None
            initial = car.car_battery_capacity_Wh * car.car_battery_soc_percent / 100
            floor = min(car.car_battery_capacity_Wh * car.min_soc_percent / 100, initial)
            assert stored.min() >= floor - 1e-3 and stored.max() <= max(car.car_battery_capacity_Wh, initial) + 1e-3
        else:
            assert result.devices[car.device_id].power_W.min() >= -1e-6, "only a car that may discharge discharges"

    for battery in problem.batteries:
        soc = result.batteries[battery.id].soc_Wh
        assert soc.min() >= -1e-6 and soc.max() <= battery.capacity_Wh + 1e-6
        for policy in battery.policies:
            for instant in policy.instants:
                percent = soc[instant] / battery.capacity_Wh * 100
                assert policy.minimum_soc_percent - 1e-6 <= percent <= policy.maximum_soc_percent + 1e-6

    net = np.sum([d.power_W for d in result.devices.values()], axis=0) if result.devices else np.zeros(problem.steps)
    hours = problem.step_hours
    energy_cost = float(
        np.sum(
            np.maximum(net, 0) * np.asarray(problem.import_price)
            - np.maximum(-net, 0) * np.asarray(problem.export_price)
        )
        * hours
        / 1000
    )
    assert result.cost.energy == np.float64(energy_cost) or abs(result.cost.energy - energy_cost) <= 1e-6 * max(
        1.0, abs(energy_cost)
    )
    np.testing.assert_allclose(result.grid.net_power_W, net, atol=1e-6)
