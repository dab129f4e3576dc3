"""Write the objectives of small random sites, first solve and re-solve, to the test data file.

Run once on the code whose objectives are the reference (issue 17: main before the speed work):
    .venv/bin/python bench/reference_objectives.py
`tests/solver/test_solver_speed_objectives.py` then checks that the solver still finds these objectives.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from random_sites import new_measurements, random_site  # noqa: E402

from solver import CompiledModel, Problem  # noqa: E402

SITES = tuple((seed, cars) for seed in range(8) for cars in (20, 40))
"""Small members of the family: fast enough for the test suite, every shape present."""
OUTPUT = Path(__file__).resolve().parent.parent / "tests" / "solver" / "data" / "random_objectives.json"


def lp_optimum(model: CompiledModel, problem: Problem) -> float:
    """The optimum of the LP the model hands HiGHS for `problem` (before any autonomy round or MILP)."""
    highs = model.exported_highs(problem)
    highs.run()
    return float(highs.getInfo().objective_function_value)


def objectives(seed: int, cars: int) -> dict[str, float | None]:
    """The whole solve's objectives (first, re-solve after new measurements) and the LP optima of both."""
    problem, later = random_site(seed, cars), new_measurements(random_site(seed, cars), seed)
    model = CompiledModel(problem)
    first = model.solve(problem)
    again = model.solve(later)
    return {
        "seed": seed,
        "cars": cars,
        "first": first.objective,
        "resolve": again.objective,
        "lp_first": lp_optimum(CompiledModel(problem), problem),
        "lp_resolve": lp_optimum(CompiledModel(problem), later),
    }


def main() -> None:
    rows = [objectives(seed, cars) for seed, cars in SITES]
    OUTPUT.write_text(json.dumps(rows, indent=1) + "\n")
    print(f"{len(rows)} sites written to {OUTPUT}")


if __name__ == "__main__":
    main()
