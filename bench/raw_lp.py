"""The issue's yardstick: a raw HiGHS solve of the bare charging LP of a site, without cvxpy.

The issue quotes 0.03 s, 0.17 s and 1.1 s for "a raw HiGHS solve of such an LP" at N = 200, 1000
and 5000. This builds that bare LP for the bench's own site, so the two sites can be compared:
one current per car-step within its bounds, one row per collector phase and step with every car's
current on it within the fuse (after pin mappings, permutations and voltage ratios), each car's
energy with a penalised shortfall, and the grid's import and export priced per step. No batteries,
fairness, price limits, autonomy or peak; HiGHS with its default options.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import highspy
import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from solver import Problem  # noqa: E402
from solver.layout import build_layout  # noqa: E402
from solver.numbers import compute_numbers  # noqa: E402

SHORTFALL_PER_KWH = 100.0


def raw_solve(problem: Problem) -> tuple[float, int]:
    """Seconds and simplex iterations of HiGHS on the bare LP (building it is not timed)."""
    layout = build_layout(problem)
    numbers = compute_numbers(layout)
    steps, car_steps, sessions = layout.steps, layout.car_steps, len(layout.sessions)
    car, step = layout.car_of_step, layout.step_of_car_step
    columns = np.arange(car_steps)

    per_car = layout.car_injection[:, car].tocoo()
    fuse = sp.csr_array(
        (per_car.data, (per_car.row * steps + step[per_car.col], per_car.col)),
        shape=(layout.topology.size * steps, car_steps),
    )
    used = np.flatnonzero(np.diff(fuse.indptr) > 0)
    fixed = numbers.fixed_rows.ravel()[used]
    kwh = layout.energy_per_ampere() / 1000
    kw = np.array([s.watts_per_ampere for s in layout.sessions])[car] / 1000
    target = numbers.energy_target_Wh / 1000

    # Columns: currents | import per step | export per step | shortfall per session.
    def block(rows: int, cols: int) -> sp.csr_array:
        return sp.csr_array((rows, cols))

    matrix = sp.vstack(
        [
            sp.hstack([fuse[used], block(used.size, 2 * steps + sessions)]),
            sp.hstack(
                [
                    sp.csr_array((kwh, (car, columns)), shape=(sessions, car_steps)),
                    block(sessions, 2 * steps),
                    sp.eye_array(sessions),
                ]
            ),
            sp.hstack(
                [
                    sp.csr_array((kw, (step, columns)), shape=(steps, car_steps)),
                    -sp.eye_array(steps),
                    sp.eye_array(steps),
                    block(steps, sessions),
                ]
            ),
        ],
        format="csc",
    )
    hours = problem.step_hours
    price = np.asarray(problem.import_price, dtype=float) * hours
    export = np.asarray(problem.export_price, dtype=float) * hours
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = matrix.shape[1], matrix.shape[0]
    lp.col_cost_ = np.concatenate([np.zeros(car_steps), price, -export, np.full(sessions, SHORTFALL_PER_KWH)])
    lp.col_lower_ = np.concatenate([numbers.car_lower, np.zeros(2 * steps + sessions)])
    lp.col_upper_ = np.concatenate([numbers.car_upper, np.full(2 * steps + sessions, inf)])
    grid = -numbers.fixed_total / 1000
    lp.row_lower_ = np.concatenate([-numbers.row_limit_export.ravel()[used] - fixed, target, grid])
    lp.row_upper_ = np.concatenate([numbers.row_limit_import.ravel()[used] - fixed, target, grid])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = matrix.indptr, matrix.indices, matrix.data
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.passModel(lp)
    started = time.perf_counter()
    highs.run()
    elapsed = time.perf_counter() - started
    assert highs.getModelStatus() == highspy.HighsModelStatus.kOptimal, highs.getModelStatus()
    return elapsed, int(highs.getInfo().simplex_iteration_count)
