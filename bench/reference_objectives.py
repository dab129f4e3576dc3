"""Write the objectives of small random sites, first solve and re-solve, to the test data file.

Run once on the code whose objectives are the reference (issue 17: main before the speed work):
    .venv/bin/python bench/reference_objectives.py [--family]
`tests/solver/test_solver_speed_objectives.py` then checks that the solver still finds these objectives.
`--family` writes the family's own smallest size instead (ten seeds at 100 cars), to its own file: it was
written on 80d64f9, the last code that had cvxpy compile the LP, before the LP was built directly.
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
FAMILY_SITES = tuple((seed, 100) for seed in range(10))
DATA = Path(__file__).resolve().parent.parent / "tests" / "solver" / "data"
OUTPUT = DATA / "random_objectives.json"
FAMILY_OUTPUT = DATA / "random_objectives_100.json"


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


def main(family: bool) -> None:
    output = FAMILY_OUTPUT if family else OUTPUT
    rows = [objectives(seed, cars) for seed, cars in (FAMILY_SITES if family else SITES)]
    output.write_text(json.dumps(rows, indent=1) + "\n")
    print(f"{len(rows)} sites written to {output}")


if __name__ == "__main__":
    main("--family" in sys.argv[1:])
