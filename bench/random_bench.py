"""`bench/solver.py --random`: the random family (random_sites.py) against HiGHS alone on the same LP.

Per site: build (layout, matrices and the LP's arrays), compile (cvxpy's, for ECOS and Clarabel only: 0 with
HiGHS), LP, enforced step (the instant decision), assembly (binding limits, schedules, enforced limits,
violations), the whole first solve (wall), a re-solve after new measurements (wall), and
HiGHS alone (default options: presolve on, its own choice of simplex) on the very LP our model hands HiGHS,
exported from the model's arrays (same rows and columns). ratio = whole first solve / HiGHS alone. H red: the same
HiGHS on the LP after our own presolve (solver/reduction.py), for comparison.
"""

from __future__ import annotations

import os
import time

import numpy as np
from random_sites import new_measurements, random_site

from solver import CompiledModel, Problem

FAMILY_SEEDS = tuple(range(10))
FAMILY_CARS = (100, 200, 300)


def highs_alone(problem: Problem, repeat: int, reduced: bool = False) -> tuple[float, int]:
    """Best-of-`repeat` seconds of a plain HiGHS run on the exported LP (`reduced`: after our presolve), and its
    simplex iterations."""
    model = CompiledModel(problem)
    times, iterations = [], 0
    for _ in range(repeat):
        highs = model.exported_highs(problem, reduced)
        started = time.perf_counter()
        highs.run()
        times.append(time.perf_counter() - started)
        iterations = int(highs.getInfo().simplex_iteration_count)
    return min(times), iterations


def run_site(seed: int, cars: int, repeat: int) -> dict[str, float | str]:
    problem = random_site(seed, cars)
    walls, results = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        model = CompiledModel(problem)
        result = model.solve(problem)
        walls.append(time.perf_counter() - started)
        results.append(result)
    best = int(np.argmin(walls))
    t = results[best].timings
    later = new_measurements(problem, seed)
    started = time.perf_counter()
    model.solve(later)
    resolve = time.perf_counter() - started
    alone, alone_iterations = highs_alone(problem, repeat)
    alone_reduced, _ = highs_alone(problem, repeat, reduced=True)
    return {
        "seed": seed,
        "cars": cars,
        "sessions": len(problem.sessions),
        "collectors": len(problem.collectors),
        "build": t.build_s,
        "compile": t.compile_s,
        "lp": t.solve_s,
        "instant": t.instant_s,
        "assemble": t.enforce_s - t.instant_s,
        "wall": walls[best],
        "resolve": resolve,
        "pivots": t.lp_iterations,
        "alone": alone,
        "alone_pivots": alone_iterations,
        "alone_reduced": alone_reduced,
        "ratio": walls[best] / alone,
        "status": results[best].status,
    }


def main(seeds: tuple[int, ...], sizes: tuple[int, ...], repeat: int) -> None:
    """One row per site (best of `repeat` for the first solve and for HiGHS alone), then the ratio's summary."""
    print(f"random family: seeds {seeds[0]}..{seeds[-1]}, cars {sizes}; load average {_load()}")
    header = (
        f"{'seed':>4} {'cars':>5} {'sess':>5} {'coll':>5} {'build s':>8} {'compile s':>9} {'LP s':>7} "
        f"{'instant s':>9} {'assemble s':>10} {'first s':>8} {'re-solve s':>10} {'pivots':>7} "
        f"{'HiGHS s':>8} {'H pivots':>8} {'ratio':>6} {'H red s':>8}  status"
    )
    print(header)
    ratios = []
    for cars in sizes:
        for seed in seeds:
            row = run_site(seed, cars, repeat)
            ratios.append(float(row["ratio"]))
            print(
                f"{row['seed']:>4} {row['cars']:>5} {row['sessions']:>5} {row['collectors']:>5} {row['build']:>8.3f} "
                f"{row['compile']:>9.3f} {row['lp']:>7.3f} {row['instant']:>9.3f} {row['assemble']:>10.3f} "
                f"{row['wall']:>8.3f} {row['resolve']:>10.3f} {row['pivots']:>7} {row['alone']:>8.3f} "
                f"{row['alone_pivots']:>8} {row['ratio']:>6.2f} {row['alone_reduced']:>8.3f}  {row['status']}",
                flush=True,
            )
    print(
        f"ratio = first / HiGHS alone: median {np.median(ratios):.2f}, max {max(ratios):.2f} over {len(ratios)} sites "
        f"(issue 17: median <= 1.1, max <= 1.5 at 100-300 cars); load average {_load()}; best of {repeat}"
    )
    print(
        "first = build + compile + LP + instant + assemble and the rest of the first solve (wall); LP includes "
        "the full-autonomy re-solves and the true bill; assemble = binding limits, schedules, enforced limits, "
        "violations; re-solve = wall of a solve after new measurements; pivots = simplex iterations of the last LP "
        "of the first solve (after its autonomy rounds); HiGHS = plain highspy, default options, on the LP "
        "exported from our model (same rows and columns), H pivots its iterations; H red s = the same HiGHS on the LP "
        "after our own presolve (solver/reduction.py), as our solve hands it to HiGHS"
    )


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())
