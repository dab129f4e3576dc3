"""The full-autonomy rounds resume in the LP's held HiGHS, and lose nothing by it.

Each round moves only the `full_autonomy` rows' bounds in that HiGHS (solver.highs_basis), which goes on from its
optimal basis. Every LP so resumed must reach the optimum a fresh HiGHS (default options, presolve on) finds for
the very same arrays.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.append(str(BENCH))  # after the project root: bench/solver.py is not the solver package

from random_sites import new_measurements, random_site  # noqa: E402
from solver_helpers import fresh_optimum  # noqa: E402

from solver import CompiledModel  # noqa: E402
from solver.highs_basis import StartingBasisHighs  # noqa: E402
from solver.linear import LinearProgram, Solution  # noqa: E402

SITES = ((0, 40), (2, 20), (3, 20), (7, 40))
"""Small family members whose LP has an autonomous car charging while the site imports (1-4 rounds)."""


@pytest.mark.parametrize(("seed", "cars"), SITES, ids=lambda v: str(v))
def test_every_lp_resumed_in_the_held_highs_reaches_a_fresh_highs_optimum(
    seed: int, cars: int, monkeypatch: Any
) -> None:
    real = StartingBasisHighs.solve
    solves: list[tuple[bool, float, float]] = []

    def checked(
        self: StartingBasisHighs, lp: LinearProgram, time_limit_s: float, **options: bool
    ) -> tuple[str, Solution | None]:
        before = self.optimal
        status, solution = real(self, lp, time_limit_s, **options)
        assert status == "optimal" and solution is not None
        solves.append((before is not None and self.optimal is before, solution.objective, fresh_optimum(lp)))
        return status, solution

    monkeypatch.setattr(StartingBasisHighs, "solve", checked)
    problem = random_site(seed, cars)
    model = CompiledModel(problem)
    model.solve(problem)
    model.solve(new_measurements(problem, seed))
    resumed = [(mine, theirs) for was_resumed, mine, theirs in solves if was_resumed]
    assert len(resumed) >= 2, "the rounds and the re-solve should resume in the held HiGHS"
    for mine, theirs in resumed:
        assert mine == pytest.approx(theirs, rel=1e-7, abs=1e-7)  # HiGHS optimality tolerance
