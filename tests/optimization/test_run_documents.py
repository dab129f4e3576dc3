"""The stored run documents: written once from a solver result, parsed back whole, and a renamed or missing
key is an error naming the run (never an empty schedule)."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import solver
from app.optimization.documents import enforced_document, result_document, timings_document
from app.optimization.stored_run import RunDocumentError, StoredRun, parse_run

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
ROOT, SUB, POLE, BATTERY = (str(uuid.uuid4()) for _ in range(4))


def solved() -> solver.Result:
    """A small real solve: a pole with a session and a battery behind a fuse, two price levels."""
    problem = solver.Problem(
        start=START,
        collectors=(
            solver.Collector(ROOT, line_current=40.0, phase_voltage=230.0),
            solver.Collector(SUB, line_current=25.0, phase_voltage=230.0, parent_id=ROOT),
        ),
        import_price=[0.30, 0.30, 0.10, 0.10],
        export_price=[0.05] * 4,
        poles=(solver.ChargingPole(POLE, SUB, 16.0, solver.PinToPhaseMapping(("pin1", "pin2"), ("L1", "L2"))),),
        batteries=(
            solver.Battery(
                BATTERY,
                ROOT,
                maximum_charging_power_W=3000.0,
                maximum_discharging_power_W=3000.0,
                capacity_Wh=10_000.0,
                initial_soc_percent=40.0,
            ),
        ),
        sessions=(solver.ChargingSession(POLE, ("pin1", "pin2"), energy_needed_Wh=8000.0),),
        config=solver.OptimizationConfig(step=timedelta(hours=1), horizon=timedelta(hours=4)),
    )
    return solver.solve(problem)


@pytest.fixture(scope="module")
def row() -> dict[str, Any]:
    """The stored row as the database hands it back: the documents as JSON objects."""
    result = solved()
    return {
        "id": uuid.uuid4(),
        "account_id": uuid.uuid4(),
        "site_id": uuid.uuid4(),
        "created_at": START,
        "finished_at": START + timedelta(seconds=1),
        "trigger": "manual",
        "status": result.status,
        "used_fallback": result.used_fallback,
        "solver": "HIGHS",
        "horizon_start": START,
        "valid_until": START + timedelta(seconds=60),
        "step_s": 3600,
        "energy_cost": result.cost.energy,
        "peak_cost": result.cost.peak,
        "currency": "EUR",
        "timings": timings_document(result.timings).stored(),
        "result": result_document(result, ("a warning of the snapshot",)).stored(),
        "enforced_limits": [e.stored() for e in enforced_document(result.enforced_limits)],
    }


class Row:
    """Attribute access, as SQLAlchemy rows and ORM objects give it."""

    def __init__(self, columns: dict[str, Any]) -> None:
        self.__dict__.update(columns)


def test_a_stored_run_parses_back_to_what_the_solver_decided(row: dict[str, Any]) -> None:
    run = parse_run(Row(row))
    assert isinstance(run, StoredRun)
    assert run.result.timestamps == [START + timedelta(hours=k) for k in range(4)]
    pole = run.result.devices[uuid.UUID(POLE)]
    assert (
        pole.kind == "charging_pole"
        and set(pole.current_A) == {"L1", "L2", "L3"}
        and not any(pole.current_A["L3"])
        and len(pole.power_W) == 4
    )
    assert sum(p or 0.0 for p in pole.power_W) == pytest.approx(8000.0, rel=1e-3)
    assert run.result.sessions[uuid.UUID(POLE)].unmet_Wh == pytest.approx(0.0, abs=1e-3)
    assert len(run.result.batteries[uuid.UUID(BATTERY)].soc_percent) == 5
    assert run.result.warnings[0] == "a warning of the snapshot"
    assert {e.uuid for e in run.enforced_limits} == {uuid.UUID(POLE), uuid.UUID(BATTERY)}
    assert run.enforced_for(uuid.UUID(POLE)) is not None
    assert run.timings.total_s >= run.timings.solve_s
    # Writing the parsed documents again gives the same JSON: nothing is lost or renamed on the way.
    assert run.result.stored() == row["result"]
    assert [e.stored() for e in run.enforced_limits] == row["enforced_limits"]


def renamed(document: dict[str, Any], path: tuple[str | int, ...], new_name: str) -> dict[str, Any]:
    """A deep copy with the key at `path` renamed (its value kept)."""
    document = copy.deepcopy(document)
    parent: Any = document
    for step in path[:-1]:
        parent = parent[step]
    parent[new_name] = parent.pop(path[-1])
    return document


@pytest.mark.parametrize(
    ("column", "path"),
    [
        ("result", ("devices",)),
        ("result", ("timestamps",)),
        ("result", ("grid", "phases")),
        ("result", ("devices", POLE, "power_W")),
        ("result", ("sessions", POLE, "unmet_Wh")),
        ("result", ("binding_limits",)),
        ("enforced_limits", (0, "limits_root_side", "ac_max_current_A")),
        ("enforced_limits", (1, "schedule_current_A")),
        ("timings", ("lp_iterations",)),  # has a default for old runs: the renamed key itself is refused
    ],
)
def test_a_renamed_key_is_a_parse_error_naming_the_run(
    row: dict[str, Any], column: str, path: tuple[str | int, ...]
) -> None:
    broken = {**row, column: renamed(row[column], path, "renamed_key")}
    with pytest.raises(RunDocumentError) as caught:
        parse_run(Row(broken))
    assert caught.value.run_id == row["id"]
    assert str(row["id"]) in str(caught.value)
    assert "renamed_key" in str(caught.value) or str(path[-1]) in str(caught.value)


def test_a_run_without_its_documents_is_a_parse_error(row: dict[str, Any]) -> None:
    with pytest.raises(RunDocumentError, match=str(row["id"])):
        parse_run(Row({**row, "result": None}))
    with pytest.raises(RunDocumentError, match=str(row["id"])):
        parse_run(Row({**row, "enforced_limits": [{}]}))
