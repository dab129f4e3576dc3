"""The full-autonomy rounds resume in the LP's held HiGHS without cvxpy's pipeline, and change nothing by it.

Each round moves only the `full_autonomy` rows' bounds in that HiGHS and lets cvxpy's solving chain read the
answer back (solver.pipeline). Through cvxpy's whole solve (the fallback when that HiGHS is not at hand) the
same rounds must give the same plan, objective, duals (binding limits) and plan source.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.append(str(BENCH))  # after the project root: bench/solver.py is not the solver package

from random_sites import new_measurements, random_site  # noqa: E402

from solver import CompiledModel, Result  # noqa: E402
from solver.highs_basis import StartingBasisHighs  # noqa: E402

SITES = ((0, 40), (2, 20), (3, 20), (7, 40))
"""Small family members whose LP has an autonomous car charging while the site imports (1-4 rounds)."""


def _solve_twice(seed: int, cars: int) -> tuple[Result, Result]:
    problem = random_site(seed, cars)
    model = CompiledModel(problem)
    return model.solve(problem), model.solve(new_measurements(problem, seed))


def _same(held: Result, whole: Result) -> None:
    assert held.status == whole.status == "optimal"
    assert held.plan_source == whole.plan_source == "optimized"
    assert held.objective == pytest.approx(whole.objective, rel=1e-9, abs=1e-9)
    assert held.devices.keys() == whole.devices.keys()
    for key, device in held.devices.items():
        np.testing.assert_allclose(device.power_W, whole.devices[key].power_W, atol=1e-6)
    assert [(b.kind, b.collector_id, b.phase, b.direction, b.steps) for b in held.binding_limits] == [
        (b.kind, b.collector_id, b.phase, b.direction, b.steps) for b in whole.binding_limits
    ]
    np.testing.assert_allclose(
        [b.shadow_price for b in held.binding_limits], [b.shadow_price for b in whole.binding_limits], rtol=1e-6
    )


@pytest.mark.parametrize(("seed", "cars"), SITES, ids=lambda v: str(v))
def test_rounds_in_the_held_highs_match_cvxpy_whole_solve(seed: int, cars: int, monkeypatch: Any) -> None:
    resolved: list[bool] = []
    real = StartingBasisHighs.resolve_rows

    def counting(self: StartingBasisHighs, *args: Any) -> dict[str, Any] | None:
        results = real(self, *args)
        resolved.append(results is not None)
        return results

    monkeypatch.setattr(StartingBasisHighs, "resolve_rows", counting)
    held = _solve_twice(seed, cars)
    assert resolved and all(resolved), "every round should resume in the held HiGHS"

    monkeypatch.setattr(StartingBasisHighs, "resolve_rows", lambda self, *args: None)
    whole = _solve_twice(seed, cars)
    for mine, theirs in zip(held, whole, strict=True):
        _same(mine, theirs)
