"""Control quality: fair turns below the minimum current, no idle amp, earliness, soft targets, honest outcomes."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest
from solver_helpers import (
    START,
    THREE_PINS,
    assert_currents_within,
    enforced_currents,
    hourly,
    pole,
    session,
    single_collector,
)

from solver import (
    Battery,
    BatteryPolicy,
    ChargingSession,
    Collector,
    ExternalLimits,
    ForecastedSeries,
    OptimizationConfig,
    Problem,
    Result,
    solve,
)

STEP = timedelta(minutes=15)
WATTS_PER_AMPERE = 3 * 230.0
MARGIN_A = 0.01


def _enforced(result: Result) -> dict[str, float]:
    return {e.uuid: e.limits_root_side.ac_max_current_A for e in result.enforced_limits}


def _closed_loop(
    cars: int, fuse: float, hours: int, need_Wh: float, prices: list[float] | None = None
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Identical three-phase cars on one board, re-planned every step with the energy each received."""
    steps = hours * 4
    leave = START + timedelta(hours=hours)
    delivered = np.zeros(cars)
    currents, remaining = [], []
    for t in range(steps):
        left = steps - t
        sessions = tuple(
            ChargingSession(
                f"p{i}",
                THREE_PINS,
                energy_needed_Wh=max(need_Wh - delivered[i], 0.0),
                energy_delivered_Wh=float(delivered[i]),
                leave_time=leave,
            )
            for i in range(cars)
        )
        problem = Problem(
            start=START + t * STEP,
            collectors=(Collector("main", fuse),),
            poles=tuple(pole(f"p{i}", "main") for i in range(cars)),
            sessions=sessions,
            import_price=[0.3] * left if prices is None else prices[t:],
            export_price=[0.0] * left,
            config=OptimizationConfig(step=STEP, horizon=STEP * left),
        )
        result = solve(problem)
        assert not result.used_fallback, result.status
        assert_currents_within(problem, enforced_currents(problem, result), tolerance=-MARGIN_A)
        enforced = _enforced(result)
        now = np.array([enforced[f"p{i}"] for i in range(cars)])
        currents.append(now)
        remaining.append(np.array([s.energy_needed_Wh for s in sessions]))
        delivered += now * WATTS_PER_AMPERE * (STEP / timedelta(hours=1))
    return delivered, np.array(currents), remaining


@pytest.mark.parametrize(
    ("cars", "fuse", "prices"),
    [(2, 10.0, None), (3, 15.0, None), (5, 21.0, None), (4, 14.0, [0.3, 0.1, 0.5, 0.2] * 4)],
)
def test_identical_cars_below_the_minimum_take_fair_turns_and_leave_no_amp_a_waiting_car_could_use(
    cars: int, fuse: float, prices: list[float] | None
) -> None:
    delivered, currents, remaining = _closed_loop(cars, fuse, hours=4, need_Wh=40_000.0, prices=prices)
    one_step_at_minimum = 6.0 * WATTS_PER_AMPERE * 0.25
    assert delivered.max() - delivered.min() <= one_step_at_minimum + 1e-6, delivered
    assert delivered.min() > 0
    for now, need in zip(currents, remaining, strict=True):
        assert ((now == 0.0) | (now >= 6.0)).all()
        waiting = (now == 0.0) & (need > 1.0)
        if waiting.any():
            assert now.sum() + 6.0 > fuse - MARGIN_A, f"a waiting car's 6 A fit: {now} on {fuse} A"


def test_shares_at_or_above_the_minimum_are_equal() -> None:
    for cars, fuse in ((2, 20.0), (3, 25.0), (4, 63.0), (6, 40.0)):
        problem = Problem(
            start=START,
            collectors=single_collector(fuse),
            poles=tuple(pole(f"p{i}", "main") for i in range(cars)),
            sessions=tuple(session(f"p{i}", energy_Wh=60_000.0, leave_hours=4) for i in range(cars)),
            import_price=[0.3] * 16,
            export_price=[0.0] * 16,
            config=OptimizationConfig(step=STEP, horizon=STEP * 16),
        )
        result = solve(problem)
        now = np.array(list(_enforced(result).values()))
        assert now.max() - now.min() <= 0.5, (cars, fuse, now)
        assert now.min() >= 6.0 and now.sum() <= fuse - MARGIN_A
        assert now.sum() >= min(fuse, 32.0 * cars) - 0.1, "the fuse is used"


@pytest.mark.parametrize("prices", [[0.3] * 8, [0.0] * 8])
def test_a_lone_car_on_flat_prices_charges_in_the_first_step(prices: list[float]) -> None:
    problem = Problem(
        start=START,
        collectors=single_collector(63.0),
        poles=(pole("p", "main"),),
        sessions=(session("p", energy_Wh=20_000.0, leave_hours=2),),
        import_price=prices,
        export_price=[0.0] * 8,
        config=OptimizationConfig(step=STEP, horizon=STEP * 8, cost_minimization=any(prices)),
    )
    result = solve(problem)
    np.testing.assert_allclose(result.devices["p"].current_A["L1"][:3], 32.0, atol=1e-6)
    assert _enforced(result)["p"] >= 32.0 - MARGIN_A * 2


def _battery(**extra: object) -> Battery:
    return Battery("bat", "main", 5_000.0, 5_000.0, 10_000.0, 50.0, **extra)  # type: ignore[arg-type]


def _lost_day_site(**changes: object) -> Problem:
    prices = [0.1, 0.1, 0.4, 0.4, 0.1, 0.1, 0.4, 0.4]
    base = Problem(
        start=START,
        collectors=(Collector("main", 63.0), Collector("board", 32.0, parent_id="main")),
        poles=(pole("p", "main"), pole("q", "board")),
        forecasts=(ForecastedSeries("house", "main", "load", 63.0, total_W=[2_000.0] * 8),),
        batteries=(_battery(),),
        sessions=(session("p", energy_Wh=20_000.0, leave_hours=8), session("q", energy_Wh=10_000.0, leave_hours=8)),
        import_price=prices,
        export_price=[0.05] * 8,
        config=hourly(8),
    )
    return replace(base, **changes)


def _assert_optimized(result: Result) -> None:
    assert not result.used_fallback and result.status == "optimal", result.status


def test_an_unreachable_battery_policy_keeps_the_day_optimized_and_is_reported() -> None:
    policy = BatteryPolicy((1,), 100.0, 100.0)
    problem = _lost_day_site(batteries=(_battery(policies=(policy,)),))
    result = solve(problem)
    _assert_optimized(result)
    [missed] = [v for v in result.violations if v.kind == "battery_policy"]
    assert missed.subject == "bat" and missed.steps == (1,) and missed.unit == "Wh"
    assert missed.amount == pytest.approx(10_000.0 * 0.5 - 5_000.0 * 0.95, rel=1e-6)
    assert result.batteries["bat"].soc_percent[1] == pytest.approx(97.5)
    assert result.sessions["p"].unmet_Wh == pytest.approx(0.0, abs=1.0)


def test_an_import_limit_below_the_uncontrollable_load_keeps_the_day_optimized_and_is_reported() -> None:
    limits = ExternalLimits(import_power_W=[1_000.0] * 2 + [50_000.0] * 6)
    with_battery = solve(_lost_day_site(external_limits=limits))
    _assert_optimized(with_battery)
    assert not with_battery.violations, "the battery covers what the limit leaves"
    np.testing.assert_allclose(with_battery.grid.net_power_W[:2], 1_000.0, atol=1e-3)
    problem = _lost_day_site(external_limits=limits, batteries=())
    result = solve(problem)
    _assert_optimized(result)
    [over] = [v for v in result.violations if v.kind == "external_import_power"]
    assert over.steps == (0, 1) and over.amount == pytest.approx(1_000.0, abs=1e-3)
    np.testing.assert_allclose(result.devices["p"].power_W[:2], 0.0, atol=1e-6)
    np.testing.assert_allclose(result.devices["q"].power_W[:2], 0.0, atol=1e-6)
    assert result.sessions["p"].unmet_Wh == pytest.approx(0.0, abs=1.0)
    assert result.devices["p"].power_W[[4, 5]].sum() > 0, "the cheap hours after the limit still charge"


def test_a_load_forecast_above_a_fuse_gives_the_devices_under_it_zero_and_the_rest_a_plan() -> None:
    heavy = ForecastedSeries("workshop", "board", "load", 32.0, total_W=[3 * 230.0 * 40.0] * 3 + [0.0] * 5)
    problem = _lost_day_site(forecasts=(*_lost_day_site().forecasts, heavy))
    result = solve(problem)
    _assert_optimized(result)
    np.testing.assert_allclose(result.devices["q"].current_A["L1"][:3], 0.0, atol=1e-9)
    overloads = [v for v in result.violations if v.kind == "collector_overload"]
    assert {(v.subject, v.phase) for v in overloads} == {("board", "L1"), ("board", "L2"), ("board", "L3")}
    assert all(v.steps == (0, 1, 2) and v.amount == pytest.approx(8.0) for v in overloads)
    assert result.sessions["q"].unmet_Wh == pytest.approx(0.0, abs=1.0)
    assert result.devices["p"].current_A["L1"][[0, 1, 4, 5]].sum() > 0, "the cheap hours still charge p"


def test_unmet_is_against_the_energy_requested_with_the_untakeable_part_apart() -> None:
    problem = Problem(
        start=START,
        collectors=single_collector(63.0),
        poles=(pole("p", "main", ("L1",), line_current=16.0),),
        sessions=(session("p", ("pin1",), energy_Wh=30_000.0, leave_hours=3),),
        import_price=[0.3] * 4,
        export_price=[0.0] * 4,
        config=hourly(4),
    )
    outcome = solve(problem).sessions["p"]
    takeable = 16.0 * 230.0 * 3
    assert outcome.target_Wh == 30_000.0
    assert outcome.delivered_Wh == pytest.approx(takeable)
    assert outcome.unmet_Wh == pytest.approx(30_000.0 - takeable)
    assert outcome.untakeable_Wh == pytest.approx(30_000.0 - takeable)


def test_the_battery_ends_the_horizon_no_lower_than_it_started_unless_valued_otherwise() -> None:
    expensive_now = Problem(
        start=START,
        collectors=single_collector(63.0),
        batteries=(_battery(),),
        forecasts=(ForecastedSeries("house", "main", "load", 63.0, total_W=[1_000.0] * 6),),
        import_price=[0.5] * 6,
        export_price=[0.4] * 6,
        config=hourly(6),
    )
    kept = solve(expensive_now)
    assert kept.batteries["bat"].soc_Wh[-1] >= 5_000.0 - 1e-3
    assert not kept.violations
    cheap_value = replace(expensive_now, batteries=(_battery(end_value_per_kWh=0.0),))
    sold = solve(cheap_value)
    assert sold.batteries["bat"].soc_Wh[-1] == pytest.approx(0.0, abs=1e-3)
    higher = solve(replace(expensive_now, batteries=(_battery(end_soc_percent=80.0),)))
    assert higher.batteries["bat"].soc_Wh[-1] == pytest.approx(8_000.0, rel=1e-6)


def test_full_autonomy_never_causes_grid_import() -> None:
    pv = [0.0, -6_000.0, -12_000.0, -20_000.0, -9_000.0, -3_000.0]
    problem = Problem(
        start=START,
        collectors=single_collector(63.0),
        poles=(pole("sun", "main"), pole("grid", "main")),
        forecasts=(
            ForecastedSeries("pv", "main", "pv", 63.0, total_W=pv),
            ForecastedSeries("house", "main", "load", 63.0, total_W=[1_000.0] * 6),
        ),
        batteries=(_battery(end_value_per_kWh=0.0),),
        sessions=(
            session("sun", energy_Wh=60_000.0, full_autonomy=True),
            session("grid", energy_Wh=60_000.0),
        ),
        import_price=[0.1] * 6,
        export_price=[0.05] * 6,
        config=hourly(6),
    )
    result = solve(problem)
    _assert_optimized(result)
    autonomous = result.devices["sun"].power_W
    assert autonomous.sum() > 1_000.0, "the car takes the surplus where the site would export"
    charging = autonomous > 1e-6
    np.testing.assert_allclose(result.grid.import_power_W[charging], 0.0, atol=1e-3)
    enforced = _enforced(result)
    now = enforced["sun"] * WATTS_PER_AMPERE + enforced["grid"] * WATTS_PER_AMPERE + 1_000.0
    battery = next(e for e in result.enforced_limits if e.uuid == "bat").limits_root_side.total_power_W
    assert enforced["sun"] == 0.0 or now + battery <= 1e-6, "no import now while the autonomous car charges"


def _true_bill_optimum(problem: Problem) -> float:
    """An independent MILP of a battery-only site: one binary per step, importing or exporting, never both."""
    import cvxpy as cp

    [battery] = problem.batteries
    steps, hours = problem.steps, problem.step_hours
    load = np.sum([np.asarray(f.total_W) for f in problem.forecasts], axis=0)
    charge, discharge = cp.Variable(steps, nonneg=True), cp.Variable(steps, nonneg=True)
    imported, exported = cp.Variable(steps, nonneg=True), cp.Variable(steps, nonneg=True)
    importing = cp.Variable(steps, boolean=True)
    soc = cp.Variable(steps + 1)
    big = 1e6
    start = battery.initial_soc_percent / 100 * battery.capacity_Wh
    constraints = [
        soc[0] == start,
        soc[1:]
        == soc[:-1] + hours * (battery.charging_efficiency * charge - discharge / battery.discharging_efficiency),
        soc >= 0,
        soc <= battery.capacity_Wh,
        soc[steps] >= start,
        charge <= battery.maximum_charging_power_W,
        discharge <= battery.maximum_discharging_power_W,
        imported - exported == load + charge - discharge,
        imported <= big * importing,
        exported <= big * (1 - importing),
    ]
    bill = (np.asarray(problem.import_price) @ imported - np.asarray(problem.export_price) @ exported) * hours / 1000
    cp.Problem(cp.Minimize(bill), constraints).solve(solver="HIGHS")
    return float(bill.value)


@pytest.mark.parametrize("seed", range(12))
def test_inverted_prices_give_the_exact_bill_optimum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    steps = 6
    import_price = np.round(rng.uniform(0.05, 0.4, steps), 3)
    export_price = np.round(import_price * rng.uniform(0.3, 1.6, steps), 3)
    export_price[seed % steps] = import_price[seed % steps] * 1.5
    problem = Problem(
        start=START,
        collectors=single_collector(63.0),
        batteries=(Battery("bat", "main", 3_000.0, 3_000.0, 6_000.0, 50.0),),
        forecasts=(
            ForecastedSeries("pv", "main", "pv", 63.0, total_W=-np.round(rng.uniform(0, 5_000, steps))),
            ForecastedSeries("house", "main", "load", 63.0, total_W=np.round(rng.uniform(200, 3_000, steps))),
        ),
        import_price=import_price,
        export_price=export_price,
        config=hourly(steps),
    )
    result = solve(problem)
    _assert_optimized(result)
    assert result.cost.energy == pytest.approx(_true_bill_optimum(problem), abs=2e-3)
