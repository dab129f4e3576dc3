"""A collector's own rules: ratings, voltages, phase count, and its phase fields."""

from __future__ import annotations

from typing import Any

import pytest

from app.domain import parse_site_configuration
from app.errors import ErrorCode, Issue

from .documents import issues_of, main_collector, sub_board


def _site(*collectors: dict[str, Any]) -> dict[str, Any]:
    return {"collector_list": list(collectors)}


def _issues_for_root(**changes: Any) -> list[Issue]:
    collector = {**main_collector(), **changes}
    return issues_of(_site({key: value for key, value in collector.items() if value is not None}))


def test_missing_name_and_empty_name() -> None:
    assert _issues_for_root(name=None) == [Issue(ErrorCode.REQUIRED, "collector_list[0].name", "is required")]
    assert _issues_for_root(name="  ") == [Issue(ErrorCode.REQUIRED, "collector_list[0].name", "must not be empty")]


@pytest.mark.parametrize("field", ["line_current", "phase_voltage", "line_voltage"])
@pytest.mark.parametrize("value", [0, -230])
def test_zero_or_negative_rating_is_out_of_range(field: str, value: float) -> None:
    assert _issues_for_root(**{field: value}) == [
        Issue(ErrorCode.OUT_OF_RANGE, f"collector_list[0].{field}", "must be greater than 0")
    ]


@pytest.mark.parametrize("value", ["63", True, None])
def test_line_current_must_be_a_number(value: object) -> None:
    [issue] = _issues_for_root(line_current=value)
    assert issue.field == "collector_list[0].line_current"
    assert (issue.code, issue.message) in {
        (ErrorCode.INVALID_FORMAT, "must be a number"),
        (ErrorCode.REQUIRED, "is required"),
    }


def test_missing_voltage_is_required() -> None:
    assert _issues_for_root(phase_voltage=None) == [
        Issue(
            ErrorCode.REQUIRED,
            "collector_list[0].phase_voltage",
            "give phase_voltage or line_voltage (or both)",
        )
    ]


def test_either_voltage_alone_is_enough() -> None:
    assert parse_site_configuration(_site({**main_collector(), "phase_voltage": 230}))
    line_only = {key: value for key, value in main_collector().items() if key != "phase_voltage"}
    assert parse_site_configuration(_site({**line_only, "line_voltage": 400}))


@pytest.mark.parametrize(("phase", "line"), [(230, 400), (230, 398.4), (133, 230), (230, 395)])
def test_consistent_three_phase_voltages_are_accepted(phase: float, line: float) -> None:
    assert parse_site_configuration(_site({**main_collector(), "phase_voltage": phase, "line_voltage": line}))


@pytest.mark.parametrize(("phase", "line"), [(230, 230), (230, 410), (230, 390)])
def test_inconsistent_three_phase_voltages_are_refused(phase: float, line: float) -> None:
    [issue] = _issues_for_root(phase_voltage=phase, line_voltage=line)
    assert (issue.code, issue.field) == (ErrorCode.INVALID, "collector_list[0].phase_voltage")
    assert "line = phase x sqrt(3) = 398.4 V, within 1 %" in issue.message


def test_single_phase_keeps_both_voltages_as_given() -> None:
    config = parse_site_configuration(
        _site({"name": "house", "line_current": 40, "1P_3P": "1P", "phase_voltage": 230, "line_voltage": 400})
    )
    assert config.collector_list[0].nominal_phase_voltage == 230


@pytest.mark.parametrize(("phase_type", "count"), [("3P", 1), ("1P", 3)])
def test_nb_of_phases_must_agree_with_1p_3p(phase_type: str, count: int) -> None:
    assert _issues_for_root(**{"1P_3P": phase_type, "nb_of_phases": count}) == [
        Issue(
            ErrorCode.INVALID,
            "collector_list[0].nb_of_phases",
            f"is {count} but 1P_3P is {phase_type}: they must agree",
        )
    ]


def test_nb_of_phases_and_1p_3p_take_only_their_values() -> None:
    assert _issues_for_root(**{"1P_3P": "2P", "nb_of_phases": 2}) == [
        Issue(ErrorCode.INVALID, "collector_list[0].1P_3P", "must be one of 1P, 3P"),
        Issue(ErrorCode.INVALID, "collector_list[0].nb_of_phases", "must be one of 1, 3"),
    ]


def test_nb_of_phases_defaults_from_1p_3p() -> None:
    config = parse_site_configuration(_site({"name": "house", "line_current": 40, "1P_3P": "1P", "phase_voltage": 230}))
    assert config.collector_list[0].nb_of_phases == 1


def test_only_electricity() -> None:
    assert _issues_for_root(commodity="gas") == [
        Issue(ErrorCode.INVALID, "collector_list[0].commodity", "must be electricity")
    ]


def test_unknown_field_is_refused_by_name() -> None:
    assert _issues_for_root(type="collector") == [
        Issue(ErrorCode.INVALID, "collector_list[0].type", "is not a known field")
    ]


def test_three_phase_collector_cannot_name_a_phase() -> None:
    [issue] = _issues_for_root(phase="L1")
    assert (issue.code, issue.field) == (ErrorCode.INVALID, "collector_list[0].phase")


def test_phase_must_be_a_known_phase() -> None:
    assert _issues_for_root(**{"1P_3P": "1P", "nb_of_phases": 1, "phase": "L4"}) == [
        Issue(ErrorCode.INVALID, "collector_list[0].phase", "must be one of L1, L2, L3")
    ]


def _with_permutations(permutations: object) -> list[Issue]:
    return issues_of(
        _site({**main_collector(), "children": ["board"]}, sub_board("board", phase_permutations=permutations))
    )


def test_permutation_not_one_to_one_is_refused() -> None:
    assert _with_permutations({"L1": "L2", "L2": "L2", "L3": "L1"}) == [
        Issue(
            ErrorCode.INVALID,
            "collector_list[1].phase_permutations.L2",
            "L1 and L2 both map to parent phase L2: the mapping must be one-to-one",
        )
    ]


def test_incomplete_permutation_is_refused() -> None:
    assert _with_permutations({"L1": "L2", "L2": "L1"}) == [
        Issue(
            ErrorCode.INVALID,
            "collector_list[1].phase_permutations",
            "must map each of L1, L2, L3; missing L3",
        )
    ]


def test_permutation_of_unknown_phases_is_refused() -> None:
    assert _with_permutations({"L1": "L2", "L2": "L3", "L3": "L1", "N": "L1"}) == [
        Issue(ErrorCode.INVALID, "collector_list[1].phase_permutations.N", "key must be one of L1, L2, L3")
    ]
    assert _with_permutations({"L1": "L2", "L2": "L4", "L3": "L1"}) == [
        Issue(ErrorCode.INVALID, "collector_list[1].phase_permutations.L2", "must be one of L1, L2, L3")
    ]


def test_single_phase_collector_cannot_have_permutations() -> None:
    issues = issues_of(
        _site(
            {**main_collector(), "children": ["board"]},
            sub_board(
                "board",
                phase="L1",
                phase_permutations={"L1": "L1", "L2": "L2", "L3": "L3"},
                **{"1P_3P": "1P"},
            ),
        )
    )
    assert [(issue.code, issue.field) for issue in issues] == [
        (ErrorCode.INVALID, "collector_list[1].phase_permutations")
    ]
