"""The page's phase physics (phases.js, run in Chromium) sums the tree exactly as the solver's topology does:
random trees with 1P children, phase permutations and voltage changes."""

from __future__ import annotations

import itertools
import random
from typing import Any

import numpy as np
from playwright.async_api import Browser
from starlette.applications import Starlette

from solver.problem import PHASES, Collector
from solver.topology import build_topology
from tests.browser.conftest import Recorded, only_server, open_page

ROLL_UP = """async (cases) => {
  const { rollUp } = await import("/dashboard/js/phases.js");
  return cases.map((c) => Object.fromEntries(rollUp(c.collectors, new Map(Object.entries(c.local)))));
}"""
PERMUTATIONS = list(itertools.permutations(PHASES))


def random_tree(rng: random.Random, size: int) -> list[Collector]:
    tree = [Collector(id="c0", line_current=63, phase_voltage=230.0)]
    for n in range(1, size):
        parent = rng.choice(tree)
        voltage = rng.choice([230.0, 230.0, 400.0, 110.0])
        if parent.kind == "1P" or rng.random() < 0.35:
            phase = parent.phase if parent.kind == "1P" else rng.choice(PHASES)
            tree.append(
                Collector(
                    id=f"c{n}", line_current=16, phase_voltage=voltage, parent_id=parent.id, kind="1P", phase=phase
                )
            )
        else:
            permutation = dict(zip(PHASES, rng.choice(PERMUTATIONS), strict=True)) if rng.random() < 0.6 else None
            tree.append(
                Collector(
                    id=f"c{n}",
                    line_current=32,
                    phase_voltage=voltage,
                    parent_id=parent.id,
                    phase_permutations=permutation,
                )
            )
    return tree


def as_api(c: Collector) -> dict[str, Any]:
    """The collector as the page reads it from GraphQL."""
    return {
        "id": c.id,
        "phaseType": "THREE_PHASE" if c.kind == "3P" else "SINGLE_PHASE",
        "phase": c.phase if c.kind == "1P" else None,
        "phaseVoltage": c.phase_voltage,
        "lineVoltage": None,
        "phasePermutations": [{"childPhase": k, "parentPhase": v} for k, v in (c.phase_permutations or {}).items()]
        or None,
        "parent": {"id": c.parent_id} if c.parent_id else None,
    }


async def test_the_pages_sums_match_the_solvers_topology(
    browser: Browser, server: tuple[Starlette, str], recorded: Recorded
) -> None:
    rng = random.Random(1616)
    cases, expected = [], []
    for _ in range(40):
        tree = random_tree(rng, rng.randint(1, 9))
        topology = build_topology(tree)
        local_vector = np.array([round(rng.uniform(-20, 40), 2) for _ in topology.rows])
        local: dict[str, dict[str, float]] = {}
        for (cid, phase), amps in zip(topology.rows, local_vector, strict=True):
            local.setdefault(cid, {})[phase] = float(amps)
        cases.append({"collectors": [as_api(c) for c in tree], "local": local})
        totals = topology.aggregation @ local_vector
        expected.append({row: float(v) for row, v in zip(topology.rows, totals, strict=True)})
    page = await open_page(browser, recorded)
    await page.goto(f"http://{server[1]}/")
    answers = await page.evaluate(ROLL_UP, cases)
    for answer, want in zip(answers, expected, strict=True):
        got = {(cid, phase): amps for cid, phases in answer.items() for phase, amps in phases.items()}
        assert set(got) == set(want)
        for row, amps in want.items():
            assert abs(got[row] - amps) < 1e-9, row
    assert only_server(recorded.urls, f"http://{server[1]}") == []
