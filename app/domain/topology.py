"""The rules that need the whole site: one tree of collectors, references that resolve, phases that exist.

These run after every collector and device passed its own field checks, and on a `SiteConfiguration`
built in code. Issues point into the configuration's canonical document (`to_document()`), e.g.
`collector_list[3].phase`; `parse_site_configuration` re-points them into the document as written.

A name used twice is reported once per extra use, and references resolve to the first collector with
that name, so one typo does not cascade into root and cycle issues.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from app.domain.collectors import Collector
from app.domain.devices import ChargingPole, Device
from app.errors import ErrorCode, Issue
from app.phases import phases_of

if TYPE_CHECKING:
    from app.domain.site_configuration import SiteConfiguration


def validate_topology(config: SiteConfiguration) -> list[Issue]:
    """Every tree, reference and phase rule the configuration breaks; empty when it is usable."""
    collectors, devices = config.collector_list, config.device_list
    first_index = _first_index_by_name(collectors)
    parents, child_issues = _link_children(collectors, first_index)
    return (
        _duplicate_names("collector_list", [collector.name for collector in collectors])
        + _duplicate_names("device_list", [device.name for device in devices])
        + child_issues
        + _root_issues(collectors, parents, first_index)
        + _cycle_issues(collectors, parents)
        + _phase_issues(collectors, parents)
        + _device_issues(devices, collectors, first_index)
        + _station_issues(devices)
    )


def _station_issues(devices: Sequence[Device]) -> list[Issue]:
    """One pole per OCPP station id; a station's fallback current lies within its pole's line current."""
    issues: list[Issue] = []
    first_index: dict[str, int] = {}
    for index, device in enumerate(devices):
        if not isinstance(device, ChargingPole) or device.ocpp_station is None:
            continue
        station = device.ocpp_station
        at = f"device_list[{index}].ocpp_station"
        if station.station_id in first_index:
            issues.append(
                Issue(
                    ErrorCode.DUPLICATE,
                    f"{at}.station_id",
                    f"{station.station_id!r} already drives device_list[{first_index[station.station_id]}]",
                )
            )
        first_index.setdefault(station.station_id, index)
        if station.fallback_current is not None and station.fallback_current > device.line_current:
            issues.append(
                Issue(
                    ErrorCode.OUT_OF_RANGE,
                    f"{at}.fallback_current",
                    f"must lie in [0, {device.line_current:g}] A, the pole's line current",
                )
            )
    return issues


def _first_index_by_name(collectors: Sequence[Collector]) -> dict[str, int]:
    first_index: dict[str, int] = {}
    for index, collector in enumerate(collectors):
        first_index.setdefault(collector.name, index)
    return first_index


def _duplicate_names(list_name: str, names: list[str]) -> list[Issue]:
    """Names are how devices and children refer to things (and a device's name is its asset id)."""
    issues: list[Issue] = []
    first_index: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in first_index:
            issues.append(
                Issue(
                    ErrorCode.DUPLICATE,
                    f"{list_name}[{index}].name",
                    f"{name!r} is already used by {list_name}[{first_index[name]}]",
                )
            )
        first_index.setdefault(name, index)
    return issues


def _link_children(
    collectors: Sequence[Collector], first_index: dict[str, int]
) -> tuple[list[int | None], list[Issue]]:
    """Each collector's parent (by index), from the parents' `children` lists; the first listing wins."""
    parents: list[int | None] = [None] * len(collectors)
    issues: list[Issue] = []
    for index, collector in enumerate(collectors):
        for position, child in enumerate(collector.children):
            at = f"collector_list[{index}].children[{position}]"
            child_index = first_index.get(child)
            if child_index is None:
                issues.append(Issue(ErrorCode.UNKNOWN_REFERENCE, at, f"no collector is named {child!r}"))
            elif child in collector.children[:position]:
                issues.append(Issue(ErrorCode.DUPLICATE, at, f"{child!r} is listed twice"))
            elif (parent := parents[child_index]) is not None:
                issues.append(
                    Issue(
                        ErrorCode.DUPLICATE,
                        at,
                        f"{child!r} is already a child of {collectors[parent].name!r} "
                        f"(collector_list[{parent}]): a collector has one parent",
                    )
                )
            else:
                parents[child_index] = index
    return parents, issues


def _root_issues(
    collectors: Sequence[Collector], parents: list[int | None], first_index: dict[str, int]
) -> list[Issue]:
    """The root is the grid connection: the one collector no other lists as a child."""
    if not collectors:
        return [Issue(ErrorCode.NO_ROOT, "collector_list", "a site needs a root collector (its grid connection)")]
    roots = [index for index in first_index.values() if parents[index] is None]
    if not roots:
        return [
            Issue(
                ErrorCode.NO_ROOT,
                "collector_list",
                "every collector is listed as a child, so none is the root: exactly one must have no parent",
            )
        ]
    if len(roots) > 1:
        names = ", ".join(f"{collectors[index].name!r} (collector_list[{index}])" for index in roots)
        return [
            Issue(
                ErrorCode.MULTIPLE_ROOTS,
                "collector_list",
                f"{len(roots)} collectors have no parent: {names}; exactly one may be the root, "
                "list the others as its descendants",
            )
        ]
    return []


def _cycle_issues(collectors: Sequence[Collector], parents: list[int | None]) -> list[Issue]:
    """Each cycle once, on the `children` entry of its first collector that closes it."""
    issues: list[Issue] = []
    done: set[int] = set()
    for start in range(len(collectors)):
        trail: list[int] = []
        node: int | None = start
        while node is not None and node not in done and node not in trail:
            trail.append(node)
            node = parents[node]
        if node is not None and node in trail:
            upward = trail[trail.index(node) :]
            downward = list(reversed(upward))
            first = downward.index(min(downward))
            downward = downward[first:] + downward[:first]
            top, child = downward[0], downward[1 % len(downward)]
            position = collectors[top].children.index(collectors[child].name)
            loop = " -> ".join(collectors[index].name for index in [*downward, top])
            issues.append(
                Issue(
                    ErrorCode.CYCLE,
                    f"collector_list[{top}].children[{position}]",
                    f"collectors form a cycle: {loop}",
                )
            )
        done.update(trail)
    return issues


def _phase_issues(collectors: Sequence[Collector], parents: list[int | None]) -> list[Issue]:
    """How each collector's phases land on its parent's."""
    issues: list[Issue] = []
    for index, collector in enumerate(collectors):
        at = f"collector_list[{index}]"
        parent_index = parents[index]
        if parent_index is None:
            if collector.phase_permutations is not None:
                issues.append(
                    Issue(
                        ErrorCode.INVALID,
                        f"{at}.phase_permutations",
                        "the root has no parent to map its phases to",
                    )
                )
            continue
        parent = collectors[parent_index]
        if collector.phase_type == "1P":
            if collector.phase is None:
                issues.append(
                    Issue(
                        ErrorCode.REQUIRED,
                        f"{at}.phase",
                        f"a 1P child must name the phase of {parent.name!r} it hangs on "
                        f"({', '.join(phases_of(parent))})",
                    )
                )
            elif collector.phase not in phases_of(parent):
                issues.append(
                    Issue(ErrorCode.UNKNOWN_REFERENCE, f"{at}.phase", _no_such_phase(parent, collector.phase))
                )
        elif parent.phase_type == "1P":
            issues.append(
                Issue(
                    ErrorCode.INVALID,
                    f"{at}.1P_3P",
                    f"is 3P but its parent {parent.name!r} is 1P: a 1P collector has only 1P children",
                )
            )
    return issues


def _device_issues(
    devices: Sequence[Device], collectors: Sequence[Collector], first_index: dict[str, int]
) -> list[Issue]:
    """Each device hangs on a known collector, and a pole draws only from phases that collector has."""
    issues: list[Issue] = []
    for index, device in enumerate(devices):
        at = f"device_list[{index}]"
        collector_index = first_index.get(device.collector)
        if collector_index is None:
            issues.append(
                Issue(
                    ErrorCode.UNKNOWN_REFERENCE,
                    f"{at}.collector",
                    f"no collector is named {device.collector!r}",
                )
            )
            continue
        if not isinstance(device, ChargingPole):
            continue
        collector = collectors[collector_index]
        mapping = device.pin_to_phase_mapping
        if collector.phase_type == "1P" and len(mapping.pin_list) != 1:
            issues.append(
                Issue(
                    ErrorCode.INVALID,
                    f"{at}.pin_to_phase_mapping.pin_list",
                    f"collector {collector.name!r} is 1P: a pole on it maps exactly one pin; "
                    f"got {len(mapping.pin_list)}",
                )
            )
        for position, phase in enumerate(mapping.phase_list):
            if phase not in phases_of(collector):
                issues.append(
                    Issue(
                        ErrorCode.UNKNOWN_REFERENCE,
                        f"{at}.pin_to_phase_mapping.phase_list[{position}]",
                        _no_such_phase(collector, phase),
                    )
                )
    return issues


def _no_such_phase(collector: Collector, phase: str) -> str:
    return f"collector {collector.name!r} is 1P on {phases_of(collector)[0]}: it has no {phase}"
