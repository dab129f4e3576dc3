"""The speed work leaves the optimum alone: small random sites keep their reference objectives.

The references (`data/random_objectives.json`) were computed by `bench/reference_objectives.py` on main before
the speed work (issue 17); an LP's optimal value is unique, so a faster path must find the same one.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.append(str(BENCH))  # after the project root: bench/solver.py is not the solver package

from random_sites import new_measurements, random_site  # noqa: E402

from solver import CompiledModel  # noqa: E402

REFERENCES = json.loads((Path(__file__).parent / "data" / "random_objectives.json").read_text())


def _close(found: float | None, expected: float | None) -> bool:
    if found is None or expected is None:
        return found is expected
    return abs(found - expected) <= 1e-6 * max(1.0, abs(expected))


@pytest.mark.parametrize("reference", REFERENCES, ids=lambda r: f"seed{r['seed']}-cars{r['cars']}")
def test_objectives_match_the_reference(reference: dict[str, float]) -> None:
    seed, cars = int(reference["seed"]), int(reference["cars"])
    problem = random_site(seed, cars)
    model = CompiledModel(problem)
    first = model.solve(problem)
    again = model.solve(new_measurements(problem, seed))
    assert _close(first.objective, reference["first"]), (first.objective, reference["first"])
    assert _close(again.objective, reference["resolve"]), (again.objective, reference["resolve"])
