"""Scenarios of issue 15: 1 <-> 3 phase switching, DC poles and bidirectional charging, under the phase physics."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest
from solver_helpers import (
    START,
    assert_currents_within,
    assert_enforced_min_rule,
    assert_within_limits,
    collector_currents,
    enforced_currents,
    hourly,
    session,
)

from solver import (
    ChargingPole,
    Collector,
    CompiledModel,
    ExternalLimits,
    ForecastedSeries,
    OptimizationConfig,
    PinToPhaseMapping,
    Problem,
    solve,
)

ROTATED = {"L1": "L2", "L2": "L3", "L3": "L1"}
"""The sub-board's L1 is the main board's L2, and so on."""


def _sub_board_site() -> tuple[Collector, ...]:
    return (
        Collector("main", 63.0, 230.0),
        Collector("board", 40.0, 230.0, "main", phase_permutations=ROTATED),
    )


def _surplus_problem(surplus_W: float, **car: object) -> Problem:
    """A switchable three-phase pole (pins rotated: pin1 on the board's L3) and a PV surplus, full autonomy."""
    steps = 4
    pole = ChargingPole(
        "p",
        "board",
        32.0,
        PinToPhaseMapping(("pin1", "pin2", "pin3"), ("L3", "L1", "L2")),
        supports_phase_switching=True,
    )
    return Problem(
        start=START,
        collectors=_sub_board_site(),
        poles=(pole,),
        forecasts=(ForecastedSeries("pv", "main", "pv", 63.0, total_W=[-surplus_W] * steps),),
        sessions=(session("p", energy_Wh=40_000.0, leave_hours=steps, full_autonomy=True, **car),),
        import_price=[0.3] * steps,
        export_price=[0.0] * steps,
        config=hourly(steps),
    )


def _limit(result: object, uuid: str) -> object:
    return next(limit for limit in result.enforced_limits if limit.uuid == uuid)  # type: ignore[attr-defined]


def test_three_kw_surplus_charges_on_one_phase_at_13_a_on_the_phase_its_mapping_names() -> None:
    problem = _surplus_problem(3000.0)
    result = solve(problem)
    limit = _limit(result, "p").limits_root_side  # type: ignore[attr-defined]
    assert limit.ac_max_phase_count == 1
    assert limit.ac_max_current_A == pytest.approx(13.0, abs=0.1)
    assert limit.total_power_W == pytest.approx(3000.0, abs=10.0)
    now = enforced_currents(problem, result)
    # pin1 is on the board's L3, which is the main board's L1: both carry the 13 A, no other phase does.
    assert now[("board", "L3")][0] == pytest.approx(13.0, abs=0.1)
    assert now[("main", "L1")][0] == pytest.approx(13.0 - 3000.0 / 690.0, abs=0.1)
    for row in (("board", "L1"), ("board", "L2")):
        assert now.get(row, np.zeros(1))[0] == pytest.approx(0.0, abs=1e-9)
    assert_enforced_min_rule(problem, result)
    assert_within_limits(problem, result)


def test_without_switching_the_same_surplus_leaves_a_three_phase_car_at_0_a() -> None:
    problem = _surplus_problem(3000.0)
    fixed = replace(problem, poles=(replace(problem.poles[0], supports_phase_switching=False),))
    limit = _limit(solve(fixed), "p").limits_root_side  # type: ignore[attr-defined]
    assert limit.ac_max_current_A == 0.0
    assert limit.ac_max_phase_count == 3


def test_a_rising_surplus_switches_to_three_phases_not_before_the_minimum_time() -> None:
    switched = START - timedelta(minutes=5)
    early = solve(_surplus_problem(6000.0, active_phase_count=1, last_phase_switch=switched))
    held = _limit(early, "p").limits_root_side  # type: ignore[attr-defined]
    assert held.ac_max_phase_count == 1, "five minutes after the last switch the car stays on one phase"
    assert held.ac_max_current_A == pytest.approx(26.0, abs=0.1)
    later = solve(_surplus_problem(6000.0, active_phase_count=1, last_phase_switch=START - timedelta(minutes=11)))
    switched_limit = _limit(later, "p").limits_root_side  # type: ignore[attr-defined]
    assert switched_limit.ac_max_phase_count == 3
    assert switched_limit.ac_max_current_A == pytest.approx(6000.0 / 690.0, abs=0.05)


def test_hysteresis_keeps_three_phases_just_under_the_threshold() -> None:
    # 4000 W is under the 4140 W threshold but within its 200 W hysteresis: a car on three phases stays there.
    result = solve(_surplus_problem(4000.0, active_phase_count=3, last_phase_switch=START - timedelta(hours=1)))
    assert _limit(result, "p").limits_root_side.ac_max_phase_count == 3  # type: ignore[attr-defined]
    below = solve(_surplus_problem(3900.0, active_phase_count=3, last_phase_switch=START - timedelta(hours=1)))
    assert _limit(below, "p").limits_root_side.ac_max_phase_count == 1  # type: ignore[attr-defined]


def test_the_plan_uses_one_phase_where_only_that_phase_has_room() -> None:
    """The board's L1 and L2 have 2 A of room left (below the 6 A minimum); its L3 (pin1's) has all of it: the plan
    takes the most on one phase, and the enforced step charges on that phase only."""
    steps = 3
    pole = ChargingPole(
        "p",
        "board",
        32.0,
        PinToPhaseMapping(("pin1", "pin2", "pin3"), ("L3", "L1", "L2")),
        supports_phase_switching=True,
    )
    load = ForecastedSeries(
        "load", "board", "load", 40.0, per_phase_W={"L1": [38 * 230.0] * steps, "L2": [38 * 230.0] * steps}
    )
    problem = Problem(
        start=START,
        collectors=_sub_board_site(),
        poles=(pole,),
        forecasts=(load,),
        sessions=(session("p", energy_Wh=30_000.0, leave_hours=steps),),
        import_price=[0.1] * steps,
        export_price=[0.0] * steps,
        config=hourly(steps),
    )
    result = solve(problem)
    schedule = result.devices["p"].current_A
    np.testing.assert_allclose(schedule["L3"], [32.0] * steps, atol=1e-4)
    assert (schedule["L1"] <= 2.0 + 1e-6).all()
    limit = _limit(result, "p").limits_root_side  # type: ignore[attr-defined]
    assert limit.ac_max_phase_count == 1
    assert limit.ac_max_current_A == pytest.approx(32.0 - 0.0101, abs=0.02)
    assert_within_limits(problem, result)
    assert_currents_within(problem, enforced_currents(problem, result), tolerance=-0.01)


def _dc_problem(board_fuse: float = 125.0) -> Problem:
    steps = 4
    dc = ChargingPole(
        "dc",
        "board",
        0.0,
        PinToPhaseMapping(("pin1", "pin2", "pin3"), ("L1", "L2", "L3")),
        dc_max_power_W=50_000.0,
        conversion_efficiency=0.95,
    )
    return Problem(
        start=START,
        collectors=(
            Collector("main", 250.0, 230.0),
            Collector("board", board_fuse, 230.0, "main", phase_permutations=ROTATED),
        ),
        poles=(dc,),
        sessions=(session("dc", energy_Wh=200_000.0, leave_hours=steps),),
        import_price=[0.2] * steps,
        export_price=[0.0] * steps,
        config=hourly(steps),
    )


def test_a_dc_pole_at_50_kw_loads_each_phase_of_its_collector_with_the_ac_side_current() -> None:
    problem = _dc_problem()
    result = solve(problem)
    expected = 50_000 / 0.95 / (3 * 230)
    currents = collector_currents(problem, result)
    for phase in ("L1", "L2", "L3"):
        np.testing.assert_allclose(currents[("board", phase)], [expected] * 4, rtol=1e-6)
        np.testing.assert_allclose(currents[("main", phase)], [expected] * 4, rtol=1e-6)
    limit = _limit(result, "dc").limits_root_side  # type: ignore[attr-defined]
    assert limit.ac_max_current_A == pytest.approx(expected, rel=1e-6)
    assert limit.total_power_W == pytest.approx(50_000 / 0.95, rel=1e-6)
    assert limit.ac_max_phase_count == 3
    # The car gets the DC energy: 50 kW for the 4 hours (200 kWh), of 52.6 kW drawn.
    assert result.sessions["dc"].delivered_Wh == pytest.approx(200_000.0, rel=1e-6)
    assert result.devices["dc"].power_W[0] == pytest.approx(50_000 / 0.95, rel=1e-6)


def test_a_dc_pole_under_a_small_fuse_charges_below_any_ac_minimum() -> None:
    problem = _dc_problem(board_fuse=4.0)
    result = solve(problem)
    limit = _limit(result, "dc").limits_root_side  # type: ignore[attr-defined]
    assert 3.9 < limit.ac_max_current_A < 4.0
    assert_currents_within(problem, enforced_currents(problem, result), tolerance=-0.01)


def _v2g_problem(allow: bool = True) -> Problem:
    """Evening peak at steps 0-1 (0.60), night at 0.10; the car is at 50 % of 60 kWh, floor 20 %, needs 5 kWh by
    step 8; a 1 kW load; the grid connection may export at most 4 kW."""
    steps = 8
    prices = [0.6, 0.6] + [0.1] * (steps - 2)
    pole = ChargingPole(
        "v", "main", 16.0, PinToPhaseMapping(("pin1", "pin2", "pin3"), ("L1", "L2", "L3")), bidirectional=True
    )
    return Problem(
        start=START,
        collectors=(Collector("main", 40.0, 230.0),),
        poles=(pole,),
        forecasts=(ForecastedSeries("load", "main", "load", 40.0, total_W=[1000.0] * steps),),
        sessions=(
            session(
                "v",
                energy_Wh=5_000.0,
                leave_hours=steps,
                allow_discharge=allow,
                car_battery_capacity_Wh=60_000.0,
                car_battery_soc_percent=50.0,
                min_soc_percent=20.0,
            ),
        ),
        import_price=prices,
        export_price=prices,
        external_limits=ExternalLimits(export_power_W=[4000.0] * steps),
        config=hourly(steps),
    )


def test_a_bidirectional_car_discharges_in_the_evening_within_its_floor_and_the_export_limit() -> None:
    problem = _v2g_problem()
    result = solve(problem)
    power = result.devices["v"].power_W
    assert power[0] < -4000 and power[1] < -4000, power
    assert (result.grid.export_power_W <= 4000.0 + 1e-3).all()
    outcome = result.sessions["v"]
    assert outcome.car_energy_Wh is not None
    assert outcome.car_energy_Wh.min() >= 0.2 * 60_000 - 1e-3
    assert outcome.car_energy_Wh.max() <= 60_000 + 1e-3
    assert outcome.delivered_Wh >= 5_000.0 - 1.0, "back at its target at leave time"
    assert outcome.car_energy_Wh[-1] >= 30_000 + 5_000 - 1.0
    limit = _limit(result, "v").limits_root_side  # type: ignore[attr-defined]
    assert limit.ac_max_current_A < -6.0, "the enforced limit is negative: export direction"
    assert limit.total_power_W < 0
    assert -limit.total_power_W <= 4000.0 + 1000.0
    assert_enforced_min_rule(problem, result)
    assert_within_limits(problem, result)
    assert not result.violations
    export = next(b for b in result.binding_limits if b.kind == "external_export_power")
    assert export.held_back == ("v",) and 0 in export.steps
    assert "held back v" in export.explanation


def test_discharging_is_off_by_default() -> None:
    result = solve(_v2g_problem(allow=False))
    assert result.devices["v"].power_W.min() >= -1e-9
    assert _limit(result, "v").limits_root_side.ac_max_current_A >= 0.0  # type: ignore[attr-defined]


def test_a_bidirectional_car_at_its_floor_does_not_discharge() -> None:
    problem = _v2g_problem()
    at_floor = replace(problem, sessions=(replace(problem.sessions[0], car_battery_soc_percent=20.0),))
    result = solve(at_floor)
    assert result.devices["v"].power_W.min() >= -1e-6
    assert result.sessions["v"].car_energy_Wh.min() >= 12_000 - 1e-3  # type: ignore[union-attr]


def test_phase_switch_settings_are_validated_configuration() -> None:
    config = OptimizationConfig(phase_switch_min_interval=timedelta(minutes=5), phase_switch_hysteresis_W=300.0)
    assert config.phase_switch_min_interval == timedelta(minutes=5)


def test_a_re_solve_of_the_compiled_model_reads_the_new_state_of_charge() -> None:
    problem = _v2g_problem()
    model = CompiledModel(problem)
    assert model.solve(problem).devices["v"].power_W[0] < -4000
    at_floor = replace(problem, sessions=(replace(problem.sessions[0], car_battery_soc_percent=20.0),))
    again = model.solve(at_floor)
    assert not again.timings.recompiled
    assert again.devices["v"].power_W.min() >= -1e-6
    assert again.sessions["v"].car_energy_Wh.min() >= 12_000 - 1e-3  # type: ignore[union-attr]


def test_in_closed_loop_a_rising_surplus_switches_once_after_the_minimum_time() -> None:
    """Every 5 minutes a new plan; the surplus goes from 3 kW to 6 kW after 5 minutes. The phase count in force and
    the time of the last switch are fed back as the app does: one phase first, three phases 10 minutes after that."""
    counts, count, switched = [], None, None
    for minute in range(0, 30, 5):
        surplus = 3000.0 if minute < 5 else 6000.0
        problem = _surplus_problem(surplus, active_phase_count=count, last_phase_switch=switched)
        problem = replace(problem, issued_at=START + timedelta(minutes=minute))
        limit = _limit(solve(problem), "p").limits_root_side  # type: ignore[attr-defined]
        if limit.ac_max_phase_count != count:
            count, switched = limit.ac_max_phase_count, START + timedelta(minutes=minute)
        counts.append(count)
    assert counts == [1, 1, 3, 3, 3, 3]


def test_the_informative_schedule_names_the_phase_count_of_each_step() -> None:
    problem = _surplus_problem(3000.0)
    rising = replace(problem, forecasts=(replace(problem.forecasts[0], total_W=[-3000.0, -3000.0, -8000.0, -8000.0]),))
    limit = _limit(solve(rising), "p")
    entries = limit.schedule  # type: ignore[attr-defined]
    assert [e.limits_root_side.ac_max_phase_count for e in entries] == [1, 1, 3, 3]
    assert entries[1].limits_root_side.ac_max_current_A == pytest.approx(3000.0 / 230.0, abs=0.01)
    assert entries[2].limits_root_side.ac_max_current_A == pytest.approx(8000.0 / 690.0, abs=0.01)
