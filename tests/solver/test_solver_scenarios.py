"""Scenario tests: prices, sharing a fuse, enforced minimum current, autonomy, peak, solvers, re-solve."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest
from solver_helpers import (
    START,
    assert_enforced_min_rule,
    assert_within_limits,
    hourly,
    pole,
    recomputed_energy_cost,
    session,
    single_collector,
)

from solver import (
    Battery,
    CompiledModel,
    FlexibilityBounds,
    ForecastedSeries,
    LoadMeasurement,
    OptimizationConfig,
    Problem,
    solve,
)

FULL_HOUR_WH = 3 * 230.0 * 32.0


def _one_car(prices: list[float], energy_Wh: float = FULL_HOUR_WH, **config: object) -> Problem:
    return Problem(
        start=START,
        collectors=single_collector(63.0),
        poles=(pole("p", "main"),),
        sessions=(session("p", energy_Wh=energy_Wh, leave_hours=len(prices)),),
        import_price=prices,
        export_price=[0.0] * len(prices),
        config=hourly(len(prices), **config),
    )


def test_one_hour_need_charges_in_the_hour_priced_10() -> None:
    result = solve(_one_car([20, 60, 10, 80, 40, 90]))
    np.testing.assert_allclose(result.devices["p"].current_A["L1"], [0, 0, 32, 0, 0, 0], atol=1e-6)
    assert result.sessions["p"].unmet_Wh == pytest.approx(0.0, abs=1e-6)
    assert result.cost.energy == pytest.approx(FULL_HOUR_WH / 1000 * 10)


def _two_cars(fuse: float, **flex: float) -> Problem:
    return Problem(
        start=START,
        collectors=single_collector(fuse),
        poles=(pole("a", "main"), pole("b", "main")),
        sessions=(session("a", energy_Wh=80_000.0), session("b", energy_Wh=80_000.0)),
        flexibility=tuple(FlexibilityBounds(k, max_power_W=v) for k, v in flex.items()),
        import_price=[0.3] * 4,
        export_price=[0.0] * 4,
        config=hourly(4),
    )


def test_capped_car_leaves_the_rest_of_the_fuse_to_the_other() -> None:
    result = solve(_two_cars(32.0, a=8 * 3 * 230.0))
    np.testing.assert_allclose(result.devices["a"].current_A["L1"], 8.0, atol=1e-6)
    np.testing.assert_allclose(result.devices["b"].current_A["L1"], 24.0, atol=1e-6)
    enforced = {e.uuid: e.limits_root_side.ac_max_current_A for e in result.enforced_limits}
    assert enforced == pytest.approx({"a": 8.0, "b": 24.0}, abs=0.03)
    assert sum(enforced.values()) <= 32.0 - 0.01


def test_comparable_sessions_share_a_scarce_fuse_equally() -> None:
    result = solve(_two_cars(20.0))
    enforced = {e.uuid: e.limits_root_side.ac_max_current_A for e in result.enforced_limits}
    assert enforced == pytest.approx({"a": 10.0, "b": 10.0}, abs=0.02)
    assert enforced["a"] == pytest.approx(enforced["b"]) and sum(enforced.values()) <= 20.0 - 0.01
    assert result.devices["a"].current_A["L2"][0] == pytest.approx(10.0, abs=1e-6)


def test_binding_fuse_is_explained_with_the_cars_it_held_back() -> None:
    result = solve(_two_cars(20.0))
    [limit] = [b for b in result.binding_limits if b.kind == "collector_phase"][:1]
    assert limit.collector_id == "main" and limit.direction == "import"
    assert set(limit.held_back) == {"a", "b"}
    assert 0 in limit.steps and "main" in limit.explanation and limit.shadow_price > 0


def test_five_amps_of_headroom_gives_the_car_zero_not_five() -> None:
    problem = Problem(
        start=START,
        collectors=single_collector(32.0),
        poles=(pole("p", "main"),),
        forecasts=(ForecastedSeries("house", "main", "load", 63.0, total_W=[3 * 230.0 * 20.0] * 2),),
        sessions=(session("p", energy_Wh=40_000.0),),
        measurements=(LoadMeasurement("house", current_per_phase_A={"L1": 27.0, "L2": 27.0, "L3": 27.0}),),
        import_price=[0.3] * 2,
        export_price=[0.0] * 2,
        config=hourly(2),
    )
    result = solve(problem)
    assert result.devices["p"].current_A["L1"][0] == pytest.approx(12.0, abs=1e-6)
    [limit] = result.enforced_limits
    assert limit.limits_root_side.ac_max_current_A == 0.0
    assert limit.valid_until == START + timedelta(seconds=60) and limit.valid_for_s == 60.0
    assert_enforced_min_rule(problem, result)


def test_battery_meets_its_weekly_policy() -> None:
    from solver import expand_pleevi_policies

    pleevi = [
        {
            "type": "schedule",
            "schedule": {
                "frequency": "weekly",
                "day_of_week": ["monday"],
                "time": "09:00",
                "timezone": "Europe/Brussels",
            },
            "minimum_state_of_charge": 80,
            "maximum_state_of_charge": 90,
        }
    ]
    policies = expand_pleevi_policies(pleevi, START, START + timedelta(hours=12))
    assert policies[0].instants == (START + timedelta(hours=8),)
    battery = Battery("bat", "main", 5_000.0, 5_000.0, 10_000.0, initial_soc_percent=20.0, policies=policies)
    prices = [0.3] * 6 + [0.1] * 6
    problem = Problem(
        start=START,
        collectors=single_collector(63.0),
        batteries=(battery,),
        import_price=prices,
        export_price=[0.0] * 12,
        config=hourly(12),
    )
    result = solve(problem)
    soc = result.batteries["bat"].soc_percent
    assert 80 - 1e-6 <= soc[8] <= 90 + 1e-6
    assert soc.min() >= -1e-9 and soc.max() <= 100 + 1e-9
    assert result.cost.energy == pytest.approx(recomputed_energy_cost(problem, result))


def test_full_autonomy_follows_the_pv_surplus() -> None:
    pv = [0.0, -2_000.0, -5_000.0, -9_000.0, -4_000.0, 0.0]
    problem = Problem(
        start=START,
        collectors=single_collector(63.0),
        poles=(pole("p", "main"),),
        forecasts=(
            ForecastedSeries("pv", "main", "pv", 63.0, total_W=pv),
            ForecastedSeries("house", "main", "load", 63.0, total_W=[500.0] * 6),
        ),
        sessions=(session("p", energy_Wh=100_000.0, full_autonomy=True),),
        import_price=[0.1] * 6,
        export_price=[0.05] * 6,
        config=hourly(6),
    )
    result = solve(problem)
    surplus = np.maximum(-(np.array(pv) + 500.0), 0.0)
    np.testing.assert_allclose(result.devices["p"].power_W, surplus, atol=1e-3)
    assert result.grid.import_power_W.max() <= 500.0 + 1e-3


def test_peak_price_flattens_grid_import() -> None:
    base = _one_car([0.3] * 6, energy_Wh=3 * FULL_HOUR_WH)
    flat = replace(base, config=hourly(6, peak_minimization=True, peak_price_per_kW=5.0))
    peaky, flattened = solve(base), solve(flat)
    assert peaky.cost.peak_import_W == pytest.approx(FULL_HOUR_WH, rel=1e-6)
    np.testing.assert_allclose(flattened.grid.import_power_W, FULL_HOUR_WH / 2, rtol=1e-6)
    assert flattened.cost.peak == pytest.approx(5.0 * FULL_HOUR_WH / 2 / 1000, rel=1e-6)


def test_ecos_and_highs_reach_the_same_objective() -> None:
    problem = replace(_two_cars(20.0), import_price=[0.3, 0.1, 0.2, 0.4])
    objectives = {}
    for name in ("HIGHS", "ECOS", "CLARABEL"):
        result = solve(replace(problem, config=hourly(4, solver=name)))
        assert result.status == "optimal" and not result.used_fallback
        objectives[name] = result.objective
    assert objectives["ECOS"] == pytest.approx(objectives["HIGHS"], rel=1e-4)
    assert objectives["CLARABEL"] == pytest.approx(objectives["HIGHS"], rel=1e-4)


def test_resolve_with_new_prices_reuses_the_compiled_problem() -> None:
    first = _one_car([20, 60, 10, 80, 40, 90])
    model = CompiledModel(first)
    before = model.solve(first)
    assert before.timings.recompiled
    second = replace(first, import_price=[20, 60, 30, 80, 5, 90])
    after = model.solve(second)
    assert not after.timings.recompiled and after.timings.compile_s == 0.0
    np.testing.assert_allclose(after.devices["p"].current_A["L1"], [0, 0, 0, 0, 32, 0], atol=1e-6)
    with pytest.raises(ValueError, match="structure"):
        model.solve(replace(first, sessions=()))


def test_forced_fallback_is_safe_and_flagged() -> None:
    problem = _two_cars(20.0)
    result = CompiledModel(problem).solve(problem, force_fallback=True)
    assert result.used_fallback and result.objective is None
    assert_within_limits(problem, result)
    assert_enforced_min_rule(problem, result)
    enforced = {e.uuid: e.limits_root_side.ac_max_current_A for e in result.enforced_limits}
    assert enforced == pytest.approx({"a": 10.0, "b": 10.0}, abs=0.02)


def test_fallback_gives_zero_to_cars_that_cannot_get_their_minimum() -> None:
    problem = replace(
        _two_cars(10.0),
        config=OptimizationConfig(step=timedelta(hours=1), horizon=timedelta(hours=4), time_limit_s=1e-9),
    )
    result = solve(problem)
    assert result.used_fallback
    assert_within_limits(problem, result)
    enforced = sorted(e.limits_root_side.ac_max_current_A for e in result.enforced_limits)
    assert enforced == pytest.approx([0.0, 10.0], abs=0.02)


def test_battery_priorities_use_the_lower_number_first() -> None:
    batteries = (
        Battery("first", "main", 3_000.0, 3_000.0, 10_000.0, 50.0, discharging_priority=1),
        Battery("last", "main", 3_000.0, 3_000.0, 10_000.0, 50.0, discharging_priority=10),
    )
    problem = Problem(
        start=START,
        collectors=single_collector(63.0),
        batteries=batteries,
        forecasts=(ForecastedSeries("house", "main", "load", 63.0, total_W=[2_000.0] * 2),),
        external_limits=replace(
            Problem.__dataclass_fields__["external_limits"].default_factory(), import_power_W=[0.0, 0.0]
        ),
        import_price=[0.3] * 2,
        export_price=[0.0] * 2,
        config=hourly(2, cost_minimization=False),
    )
    result = solve(problem)
    np.testing.assert_allclose(result.devices["first"].power_W, -2_000.0, atol=1e-3)
    np.testing.assert_allclose(result.devices["last"].power_W, 0.0, atol=1e-3)


def test_price_limit_charges_at_full_power_while_cheaper() -> None:
    problem = replace(
        _one_car([0.1, 0.4, 0.05, 0.5], energy_Wh=1_000.0),
        sessions=(session("p", energy_Wh=1_000.0, leave_hours=4, price_limit=0.2),),
    )
    result = solve(problem)
    np.testing.assert_allclose(result.devices["p"].current_A["L1"], [32, 0, 32, 0], atol=1e-6)
