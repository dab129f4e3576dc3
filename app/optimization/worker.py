"""Runs in the solver processes: keeps each site's compiled model, so a re-solve with new numbers (prices,
forecasts, measurements) reuses its LP's matrix and resumes in its HiGHS; a changed structure builds a new one."""

from __future__ import annotations

from collections import OrderedDict

import solver
from app.lifeline import die_with_parent

MAX_MODELS = 64
_models: OrderedDict[str, solver.CompiledModel] = OrderedDict()


def solve_site(site_key: str, problem: solver.Problem, fallback: bool = False) -> solver.Result:
    """`fallback`: the equal-share fallback's fuse-safe limits only (a paused site), no optimization."""
    model = previous = _models.pop(site_key, None)
    if model is None or not model.compatible(problem):
        model = solver.CompiledModel(problem)
        if previous is not None:  # a solve that runs out of time falls back on the last optimized plan
            model.previous_plan = previous.previous_plan
    _models[site_key] = model
    while len(_models) > MAX_MODELS:
        _models.popitem(last=False)
    return model.solve(problem, force_fallback=fallback)


def warm_up(parent: int) -> None:
    """Run once per solver process: it ends with the server process (even one killed outright). The solver
    package is imported with this module, so the first real solve pays no import (cvxpy is imported only by a
    site configured for ECOS or Clarabel)."""
    die_with_parent(parent)
