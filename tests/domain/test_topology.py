"""Whole-site rules: one root, no cycle, known references, unique names, phases that exist."""

from __future__ import annotations

from typing import Any

from app.domain import parse_site_configuration
from app.errors import ErrorCode, Issue

from .documents import charging_pole, codes_at, issues_of, main_collector, pv_forecast, sub_board


def _tree(*collectors: dict[str, Any], devices: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"collector_list": list(collectors), "device_list": devices or []}


def _root(*children: str) -> dict[str, Any]:
    return {**main_collector(), "children": list(children)}


def _single_phase(name: str, phase: str | None = None, **fields: Any) -> dict[str, Any]:
    collector = {"name": name, "line_current": 16, "phase_voltage": 230, "1P_3P": "1P", **fields}
    return collector if phase is None else {**collector, "phase": phase}


def test_a_deep_valid_tree_parses() -> None:
    config = parse_site_configuration(
        _tree(
            _root("board", "house"),
            sub_board("board", children=["rotated"]),
            sub_board("rotated", phase_permutations={"L1": "L3", "L2": "L1", "L3": "L2"}),
            _single_phase("house", "L3", children=["room"]),
            _single_phase("room", "L3"),
        )
    )
    assert [collector.parent for collector in config.collector_list] == [
        None,
        "main_collector",
        "board",
        "main_collector",
        "house",
    ]


def test_two_roots() -> None:
    assert issues_of(_tree(_root(), sub_board())) == [
        Issue(
            ErrorCode.MULTIPLE_ROOTS,
            "collector_list",
            "2 collectors have no parent: 'main_collector' (collector_list[0]), "
            "'sub_board' (collector_list[1]); exactly one may be the root, "
            "list the others as its descendants",
        )
    ]


def test_no_root_is_also_a_cycle() -> None:
    assert codes_at(_tree(sub_board("a", children=["b"]), sub_board("b", children=["a"]))) == {
        (ErrorCode.NO_ROOT, "collector_list"),
        (ErrorCode.CYCLE, "collector_list[0].children[0]"),
    }


def test_cycle_below_the_root_is_reported_once_with_its_loop() -> None:
    issues = issues_of(
        _tree(
            _root("a"),
            sub_board("a"),
            sub_board("b", children=["c"]),
            sub_board("c", children=["d"]),
            sub_board("d", children=["b"]),
        )
    )
    assert issues == [
        Issue(ErrorCode.CYCLE, "collector_list[2].children[0]", "collectors form a cycle: b -> c -> d -> b")
    ]


def test_collector_listing_itself() -> None:
    assert issues_of(_tree(_root(), sub_board("loop", children=["loop"]))) == [
        Issue(ErrorCode.CYCLE, "collector_list[1].children[0]", "collectors form a cycle: loop -> loop")
    ]


def test_unknown_child() -> None:
    assert issues_of(_tree(_root("board", "ghost"), sub_board("board"))) == [
        Issue(ErrorCode.UNKNOWN_REFERENCE, "collector_list[0].children[1]", "no collector is named 'ghost'")
    ]


def test_child_of_two_parents() -> None:
    assert issues_of(_tree(_root("a", "b"), sub_board("a", children=["b"]), sub_board("b"))) == [
        Issue(
            ErrorCode.DUPLICATE,
            "collector_list[1].children[0]",
            "'b' is already a child of 'main_collector' (collector_list[0]): a collector has one parent",
        )
    ]


def test_child_listed_twice_by_one_parent() -> None:
    assert codes_at(_tree(_root("a", "a"), sub_board("a"))) == {(ErrorCode.DUPLICATE, "collector_list[0].children[1]")}


def test_duplicate_collector_names() -> None:
    assert issues_of(_tree(_root("a"), sub_board("a"), sub_board("a"))) == [
        Issue(ErrorCode.DUPLICATE, "collector_list[2].name", "'a' is already used by collector_list[1]")
    ]


def test_duplicate_device_names() -> None:
    second_pole = {**charging_pole(), "line_current": 16}
    assert issues_of(_tree(_root(), devices=[charging_pole(), pv_forecast(), second_pole])) == [
        Issue(ErrorCode.DUPLICATE, "device_list[2].name", "'LR34_001' is already used by device_list[0]")
    ]


def test_unknown_device_collector() -> None:
    assert issues_of(_tree(_root(), devices=[{**pv_forecast(), "collector": "garage"}])) == [
        Issue(ErrorCode.UNKNOWN_REFERENCE, "device_list[0].collector", "no collector is named 'garage'")
    ]


def test_single_phase_child_without_phase() -> None:
    assert issues_of(_tree(_root("house"), _single_phase("house"))) == [
        Issue(
            ErrorCode.REQUIRED,
            "collector_list[1].phase",
            "a 1P child must name the phase of 'main_collector' it hangs on (L1, L2, L3)",
        )
    ]


def test_single_phase_child_on_a_phase_its_single_phase_parent_lacks() -> None:
    assert issues_of(
        _tree(_root("house"), _single_phase("house", "L2", children=["room"]), _single_phase("room", "L1"))
    ) == [
        Issue(
            ErrorCode.UNKNOWN_REFERENCE,
            "collector_list[2].phase",
            "collector 'house' is 1P on L2: it has no L1",
        )
    ]


def test_single_phase_root_may_omit_or_name_its_phase() -> None:
    assert parse_site_configuration(_tree(_single_phase("house", children=["room"]), _single_phase("room", "L1")))
    assert parse_site_configuration(_tree(_single_phase("house", "L3", children=["room"]), _single_phase("room", "L3")))


def test_three_phase_child_of_a_single_phase_collector() -> None:
    assert issues_of(_tree(_root("house"), _single_phase("house", "L1", children=["board"]), sub_board("board"))) == [
        Issue(
            ErrorCode.INVALID,
            "collector_list[2].1P_3P",
            "is 3P but its parent 'house' is 1P: a 1P collector has only 1P children",
        )
    ]


def test_root_cannot_have_phase_permutations() -> None:
    root = {**_root(), "phase_permutations": {"L1": "L2", "L2": "L3", "L3": "L1"}}
    assert codes_at(_tree(root)) == {(ErrorCode.INVALID, "collector_list[0].phase_permutations")}


def _pole(collector: str, pins: list[str], phases: list[str]) -> dict[str, Any]:
    return {
        **charging_pole(),
        "collector": collector,
        "pin_to_phase_mapping": {"pin_list": pins, "phase_list": phases},
    }


def test_pole_on_a_single_phase_collector_maps_one_pin_to_its_phase() -> None:
    site = _tree(_root("house"), _single_phase("house", "L2"), devices=[_pole("house", ["pin3"], ["L2"])])
    assert parse_site_configuration(site)


def test_pole_phase_not_on_its_collector() -> None:
    site = _tree(_root("house"), _single_phase("house", "L2"), devices=[_pole("house", ["pin1"], ["L1"])])
    assert issues_of(site) == [
        Issue(
            ErrorCode.UNKNOWN_REFERENCE,
            "device_list[0].pin_to_phase_mapping.phase_list[0]",
            "collector 'house' is 1P on L2: it has no L1",
        )
    ]


def test_three_pin_pole_on_a_single_phase_collector() -> None:
    site = _tree(_single_phase("house"), devices=[_pole("house", ["pin1", "pin2", "pin3"], ["L1", "L2", "L3"])])
    assert codes_at(site) == {
        (ErrorCode.INVALID, "device_list[0].pin_to_phase_mapping.pin_list"),
        (ErrorCode.UNKNOWN_REFERENCE, "device_list[0].pin_to_phase_mapping.phase_list[1]"),
        (ErrorCode.UNKNOWN_REFERENCE, "device_list[0].pin_to_phase_mapping.phase_list[2]"),
    }


def test_three_phase_devices_without_pins_may_hang_on_a_single_phase_collector() -> None:
    assert parse_site_configuration(_tree(_single_phase("house"), devices=[{**pv_forecast(), "collector": "house"}]))


def test_all_tree_issues_are_reported_together() -> None:
    site = _tree(
        _root("ghost"),
        sub_board("orphan"),
        _single_phase("orphan"),
        devices=[{**pv_forecast(), "collector": "nowhere"}],
    )
    assert codes_at(site) == {
        (ErrorCode.DUPLICATE, "collector_list[2].name"),
        (ErrorCode.UNKNOWN_REFERENCE, "collector_list[0].children[0]"),
        (ErrorCode.MULTIPLE_ROOTS, "collector_list"),
        (ErrorCode.UNKNOWN_REFERENCE, "device_list[0].collector"),
    }
