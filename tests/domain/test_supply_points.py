"""A site's supply points: which direction mixes are allowed, and what else is checked per point."""

from __future__ import annotations

from itertools import combinations_with_replacement, permutations

import pytest

from app.domain.grid_identifiers import DIRECTIONS, make_valid_identifier, validate_supply_points
from app.errors import ErrorCode, Issue

ALLOWED = [("bidirectional",), ("offtake",), ("offtake", "injection"), ("injection", "offtake")]


def _points(directions: tuple[str, ...]) -> list[tuple[str, str]]:
    """Distinct valid Belgian EANs, one per direction."""
    return [(make_valid_identifier("BE", f"541448820044159{index:02d}"), d) for index, d in enumerate(directions)]


@pytest.mark.parametrize("directions", ALLOWED)
def test_allowed_mixes_are_accepted(directions: tuple[str, ...]) -> None:
    assert validate_supply_points("BE", _points(directions)) == []


REFUSED = sorted(
    {
        order
        for size in (1, 2, 3)
        for mix in combinations_with_replacement(DIRECTIONS, size)
        for order in permutations(mix)
    }
    - set(ALLOWED)
)


@pytest.mark.parametrize("directions", REFUSED)
def test_every_other_mix_is_refused(directions: tuple[str, ...]) -> None:
    [issue] = validate_supply_points("BE", _points(directions))
    assert issue.code is ErrorCode.INVALID
    assert issue.field == "supplyPoints"
    assert "one bidirectional, one offtake, or one offtake plus one injection" in issue.message


def test_refused_mix_says_what_it_got() -> None:
    [issue] = validate_supply_points("BE", _points(("offtake", "offtake", "injection")))
    assert issue.message.endswith("got 1 injection, 2 offtake")


def test_no_supply_point_is_refused() -> None:
    assert validate_supply_points("BE", [], field="supply_points") == [
        Issue(ErrorCode.REQUIRED, "supply_points", "a site needs at least one supply point")
    ]


def test_unknown_direction_is_refused_without_a_mix_issue() -> None:
    [issue] = validate_supply_points("BE", [(make_valid_identifier("BE", "5" * 17), "export")])
    assert issue == Issue(
        ErrorCode.INVALID, "supplyPoints[0].direction", "must be one of offtake, injection, bidirectional"
    )


def test_each_identifier_is_checked_for_the_country() -> None:
    points = [("541448820044159229", "offtake"), ("541448820044159220", "injection")]
    [issue] = validate_supply_points("BE", points)
    assert (issue.code, issue.field) == (ErrorCode.INVALID_CHECK_DIGIT, "supplyPoints[1].gridIdentifier")


def test_identifiers_are_distinct_after_normalization() -> None:
    points = [("541448820044159229", "offtake"), ("5414 4882 0044 1592 29", "injection")]
    assert validate_supply_points("BE", points) == [
        Issue(
            ErrorCode.DUPLICATE,
            "supplyPoints[1].gridIdentifier",
            "the same grid identifier as supplyPoints[0]",
        )
    ]


def test_unsupported_country_is_reported_per_point() -> None:
    issues = validate_supply_points("DE", [("DE0001", "bidirectional")])
    assert [(issue.code, issue.field) for issue in issues] == [
        (ErrorCode.UNSUPPORTED, "supplyPoints[0].gridIdentifier")
    ]
