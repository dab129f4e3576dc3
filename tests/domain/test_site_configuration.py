"""The seeds' examples parse; the parsed model is easy to use and writes its canonical document back."""

from __future__ import annotations

import math

import pytest

from app.domain import (
    Battery,
    ChargingPole,
    Collector,
    ForecastedSeries,
    SiteConfiguration,
    parse_site_configuration,
    phases_of,
    validate_topology,
)
from app.domain.battery_policies import WeeklySchedule
from app.errors import ErrorCode, Issue, ValidationFailed

from .documents import Document, battery, codes_at, issues_of, main_collector, seed_battery, sub_board


def test_seed_examples_parse(document: Document) -> None:
    config = parse_site_configuration(document)

    main = config.collector("main_collector")
    assert (main.line_current, main.phase_voltage, main.phase_type, main.nb_of_phases) == (63, 230, "3P", 3)
    assert main.parent is None and config.root is main
    assert phases_of(main) == ("L1", "L2", "L3")

    pole, pv, bess = config.device_list
    assert isinstance(pole, ChargingPole)
    assert pole.pin_to_phase_mapping.phase_of("pin2") == "L2"
    assert isinstance(pv, ForecastedSeries)
    assert (pv.forecast_type, pv.should_be_aggregated) == ("pv", False)
    assert isinstance(bess, Battery)
    schedule = bess.policies[0].schedule
    assert isinstance(schedule, WeeklySchedule)
    assert schedule.day_of_week == ["monday", "friday"]
    assert (schedule.local_time.hour, schedule.zone.key) == (9, "America/New_York")
    assert config.devices_on("main_collector") == [pole, pv, bess]


def test_seed_battery_is_refused_for_its_zero_ratings(document: Document) -> None:
    """seeds/003's example has 0 W and 0 Wh, which its own ranges (> 0) refuse."""
    document["device_list"][2] = seed_battery()
    assert issues_of(document) == [
        Issue(ErrorCode.OUT_OF_RANGE, f"device_list[2].{field}", "must be greater than 0")
        for field in ("maximum_charging_power", "maximum_discharging_power", "operational_battery_capacity")
    ]


def test_seed_battery_with_positive_ratings_is_accepted(document: Document) -> None:
    bess = parse_site_configuration(document).device_list[2]
    assert isinstance(bess, Battery)
    assert (bess.maximum_charging_power, bess.operational_battery_capacity) == (5000, 10000)


def test_defaults_are_filled_in() -> None:
    minimal_battery = {
        key: value
        for key, value in battery().items()
        if key
        not in {
            "charging_efficiency",
            "discharging_efficiency",
            "charging_priority",
            "discharging_priority",
            "policies",
        }
    }
    config = parse_site_configuration(
        {
            "collector_list": [{"name": "main", "line_current": 40, "phase_voltage": 230}],
            "device_list": [{**minimal_battery, "collector": "main"}],
        }
    )
    main = config.collector_list[0]
    assert (main.phase_type, main.nb_of_phases, main.commodity, main.children) == ("3P", 3, "electricity", [])
    bess = config.device_list[0]
    assert isinstance(bess, Battery)
    assert (bess.charging_efficiency, bess.discharging_efficiency) == (0.95, 0.95)
    assert (bess.charging_priority, bess.discharging_priority, bess.policies) == (10, 10, [])


def test_ucl_is_read_and_written_as_load(document: Document) -> None:
    document["device_list"][1]["forecast_type"] = "ucl"
    config = parse_site_configuration(document)
    assert config.device_list[1].forecast_type == "load"  # type: ignore[union-attr]
    assert config.to_document()["device_list"][1]["forecast_type"] == "load"  # type: ignore[index]


def test_parent_and_phase_voltage_are_derived() -> None:
    config = parse_site_configuration(
        {
            "collector_list": [
                {**main_collector(), "children": ["board", "kitchen"]},
                sub_board("board"),
                {"name": "kitchen", "line_current": 16, "line_voltage": 230, "1P_3P": "1P", "phase": "L2"},
            ]
        }
    )
    board, kitchen = config.children_of("main_collector")
    assert (board.parent, kitchen.parent) == ("main_collector", "main_collector")
    assert board.nominal_phase_voltage == pytest.approx(400 / math.sqrt(3))
    assert kitchen.nominal_phase_voltage == 230  # a 1P collector with only a line voltage: that voltage
    assert config.collector("main_collector").nominal_phase_voltage == 230
    assert (kitchen.nb_of_phases, phases_of(kitchen), kitchen.parent_phase("L2")) == (1, ("L2",), "L2")


def test_phase_permutations_map_child_phases_to_parent_phases() -> None:
    rotated = sub_board("rotated", phase_permutations={"L1": "L2", "L2": "L3", "L3": "L1"})
    config = parse_site_configuration({"collector_list": [{**main_collector(), "children": ["rotated"]}, rotated]})
    child = config.collector("rotated")
    assert [child.parent_phase(phase) for phase in child.phases] == ["L2", "L3", "L1"]
    assert config.collector("main_collector").parent_phase("L3") == "L3"


def test_children_may_be_nested_collector_objects() -> None:
    nested = {
        "collector_list": [
            {
                **main_collector(),
                "children": [
                    sub_board("board", children=[{"name": "socket", "line_current": 16, "phase_voltage": 230}]),
                    "garage",
                ],
            },
            sub_board("garage"),
        ]
    }
    config = parse_site_configuration(nested)
    assert [collector.name for collector in config.collector_list] == [
        "main_collector",
        "board",
        "socket",
        "garage",
    ]
    assert config.collector("main_collector").children == ["board", "garage"]
    assert config.collector("socket").parent == "board"
    assert parse_site_configuration(config.to_document()) == config


def test_issues_in_nested_collectors_point_into_the_document_as_written() -> None:
    nested = {
        "collector_list": [
            {
                **main_collector(),
                "children": [
                    sub_board("board", children=[{"line_current": 0, "phase_voltage": 230}]),
                    {**sub_board("garage"), "1P_3P": "1P"},
                ],
            }
        ]
    }
    assert codes_at(nested) == {
        (ErrorCode.REQUIRED, "collector_list[0].children[0].children[0].name"),
        (ErrorCode.OUT_OF_RANGE, "collector_list[0].children[0].children[0].line_current"),
    }
    nested["collector_list"][0]["children"][0]["children"][0].update(name="socket", line_current=16)
    assert codes_at(nested) == {(ErrorCode.REQUIRED, "collector_list[0].children[1].phase")}


def test_to_document_is_canonical(document: Document) -> None:
    document["collector_list"][0] = {"name": " main_collector ", "line_current": 63, "line_voltage": 400}
    written = parse_site_configuration(document).to_document()
    assert written["collector_list"] == [
        {
            "name": "main_collector",
            "children": [],
            "line_current": 63.0,
            "commodity": "electricity",
            "1P_3P": "3P",
            "nb_of_phases": 3,
            "line_voltage": 400.0,
        }
    ]
    assert written["device_list"][0] == {
        **document["device_list"][0],  # type: ignore[dict-item]
        "line_current": 32.0,
        "supports_phase_switching": False,
        "bidirectional": False,
    }


def test_round_trip_of_the_seed_site(document: Document) -> None:
    config = parse_site_configuration(document)
    assert parse_site_configuration(config.to_document()) == config


def test_a_configuration_built_in_code_links_parents_and_can_be_checked() -> None:
    main = Collector(name="main", line_current=40, phase_voltage=230, children=["board"])
    board = Collector(name="board", line_current=16, phase_voltage=230, phase_type="1P")
    config = SiteConfiguration(collector_list=[main, board])
    assert config.collector("board").parent == "main"
    assert board.parent is None  # the configuration owns copies; the originals stay as they were
    assert validate_topology(config) == [
        Issue(
            ErrorCode.REQUIRED,
            "collector_list[1].phase",
            "a 1P child must name the phase of 'main' it hangs on (L1, L2, L3)",
        )
    ]
    with pytest.raises(ValueError):
        _ = SiteConfiguration(collector_list=[]).root


def test_every_field_issue_is_reported_at_once(document: Document) -> None:
    document["collector_list"][0]["line_current"] = -1
    document["device_list"][0]["line_current"] = 0
    document["device_list"][1]["forecast_type"] = "wind"
    document["device_list"][2]["charging_priority"] = 11
    assert codes_at(document) == {
        (ErrorCode.OUT_OF_RANGE, "collector_list[0].line_current"),
        (ErrorCode.OUT_OF_RANGE, "device_list[0].line_current"),
        (ErrorCode.INVALID, "device_list[1].forecast_type"),
        (ErrorCode.OUT_OF_RANGE, "device_list[2].charging_priority"),
    }


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (None, (ErrorCode.INVALID_FORMAT, None, "must be an object")),
        ({}, (ErrorCode.REQUIRED, "collector_list", "is required")),
        ({"collector_list": {}}, (ErrorCode.INVALID_FORMAT, "collector_list", "must be a list")),
        (
            {"collector_list": [], "site": "x"},
            (ErrorCode.INVALID, "site", "is not a known field"),
        ),
    ],
)
def test_malformed_documents_are_refused(document: object, expected: tuple[ErrorCode, str | None, str]) -> None:
    with pytest.raises(ValidationFailed) as failure:
        parse_site_configuration(document)
    assert [(issue.code, issue.field, issue.message) for issue in failure.value.issues] == [expected]


def test_a_document_with_no_collectors_has_no_root() -> None:
    assert issues_of({"collector_list": []}) == [
        Issue(ErrorCode.NO_ROOT, "collector_list", "a site needs a root collector (its grid connection)")
    ]
