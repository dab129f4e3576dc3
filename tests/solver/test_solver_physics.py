"""Phase physics: pin mappings, permutations, 1P placement and voltage ratios land on the right phases."""

from __future__ import annotations

import numpy as np
import pytest
from solver_helpers import START, assert_within_limits, collector_currents, hourly, pole, session

from solver import Collector, Problem, solve


def _problem(
    collectors: tuple[Collector, ...], pole_phases: tuple[str, ...], board: str, pins: tuple[str, ...]
) -> Problem:
    return Problem(
        start=START,
        collectors=collectors,
        poles=(pole("p", board, pole_phases),),
        sessions=(session("p", pins, energy_Wh=50_000.0),),
        import_price=[0.2] * 2,
        export_price=[0.0] * 2,
        config=hourly(2),
    )


def test_single_phase_car_through_rotated_pole_and_permuted_board_loads_only_main_l3() -> None:
    collectors = (
        Collector("main", 63.0),
        Collector("sub", 40.0, parent_id="main", phase_permutations={"L1": "L2", "L2": "L3", "L3": "L1"}),
    )
    problem = _problem(collectors, ("L2", "L3", "L1"), "sub", ("pin1",))
    result = solve(problem)
    car = result.devices["p"].current_A
    assert car["L2"][0] == pytest.approx(32.0)
    currents = collector_currents(problem, result)
    np.testing.assert_allclose(currents[("main", "L3")], car["L2"])
    np.testing.assert_allclose(currents[("main", "L1")], 0.0, atol=1e-9)
    np.testing.assert_allclose(currents[("main", "L2")], 0.0, atol=1e-9)
    rows = dict(zip(result.collector_rows, result.collector_current_A, strict=True))
    np.testing.assert_allclose(rows[("main", "L3")], car["L2"])
    np.testing.assert_allclose(rows[("main", "L1")], 0.0, atol=1e-9)
    np.testing.assert_allclose(rows[("sub", "L2")], car["L2"])


def test_single_phase_board_on_l3_loads_main_l3() -> None:
    collectors = (Collector("main", 63.0), Collector("one", 20.0, parent_id="main", kind="1P", phase="L3"))
    problem = _problem(collectors, ("L3",), "one", ("pin1",))
    result = solve(problem)
    assert result.devices["p"].current_A["L3"][0] == pytest.approx(20.0)
    rows = dict(zip(result.collector_rows, result.collector_current_A, strict=True))
    np.testing.assert_allclose(rows[("main", "L3")], rows[("one", "L3")])
    np.testing.assert_allclose(rows[("main", "L1")] + rows[("main", "L2")], 0.0, atol=1e-9)
    assert_within_limits(problem, result)


def test_child_at_another_voltage_scales_current_by_the_voltage_ratio() -> None:
    collectors = (Collector("main", 32.0, 230.0), Collector("transformer", 100.0, 400.0, parent_id="main"))
    problem = _problem(collectors, ("L1", "L2", "L3"), "transformer", ("pin1", "pin2", "pin3"))
    result = solve(problem)
    car = result.devices["p"].current_A["L1"][0]
    assert car == pytest.approx(32.0 * 230.0 / 400.0, rel=1e-6)
    rows = dict(zip(result.collector_rows, result.collector_current_A, strict=True))
    assert rows[("main", "L1")][0] == pytest.approx(car * 400.0 / 230.0, rel=1e-9)
    assert result.devices["p"].power_W[0] == pytest.approx(3 * car * 400.0, rel=1e-9)
    assert_within_limits(problem, result)


def test_invalid_trees_are_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="exactly one root"):
        solve(_problem((Collector("a", 10.0), Collector("b", 10.0)), ("L1",), "a", ("pin1",)))
    with pytest.raises(ValueError, match="one-to-one"):
        bad = (Collector("main", 10.0), Collector("s", 10.0, parent_id="main", phase_permutations={"L1": "L1"}))
        solve(_problem(bad, ("L1",), "s", ("pin1",)))
    with pytest.raises(ValueError, match="no phase"):
        one = (Collector("main", 10.0), Collector("s", 10.0, parent_id="main", kind="1P", phase="L2"))
        solve(_problem(one, ("L1",), "s", ("pin1",)))
