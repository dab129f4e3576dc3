"""Property: any valid site survives `to_document()` and parsing again, nested or flat."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from app.domain import parse_site_configuration

from .documents import Document

PHASES = ["L1", "L2", "L3"]
PINS = ["pin1", "pin2", "pin3"]
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
ZONES = ["Europe/Brussels", "America/New_York", "Asia/Kolkata", "UTC", "Australia/Lord_Howe"]

names = st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,11}", fullmatch=True)
amperes = st.floats(min_value=0.5, max_value=4000, allow_nan=False)


def _voltages(draw: st.DrawFn, three_phase: bool) -> dict[str, float]:
    phase = draw(st.floats(min_value=100, max_value=20000))
    given_as = draw(st.sampled_from(["phase", "line", "both"]))
    line = phase * math.sqrt(3) if three_phase else draw(st.floats(min_value=100, max_value=20000))
    return {"phase": {"phase_voltage": phase}, "line": {"line_voltage": line}}.get(
        given_as, {"phase_voltage": phase, "line_voltage": line}
    )


def _collector(draw: st.DrawFn, name: str, parent: dict[str, Any] | None) -> dict[str, Any]:
    single = (parent is not None and parent["1P_3P"] == "1P") or draw(st.booleans())
    collector: dict[str, Any] = {
        "name": name,
        "children": [],
        "line_current": draw(amperes),
        "1P_3P": "1P" if single else "3P",
        **_voltages(draw, not single),
    }
    if draw(st.booleans()):
        collector["nb_of_phases"] = 1 if single else 3
    if single and parent is not None:
        collector["phase"] = parent.get("phase", "L1") if parent["1P_3P"] == "1P" else draw(st.sampled_from(PHASES))
    elif single and draw(st.booleans()):
        collector["phase"] = draw(st.sampled_from(PHASES))
    if not single and parent is not None and draw(st.booleans()):
        collector["phase_permutations"] = dict(zip(PHASES, draw(st.permutations(PHASES)), strict=True))
    return collector


def _policy(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.booleans()):
        offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
        instants = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=offsets)
        schedule: dict[str, Any] = {
            "frequency": "once",
            "date_times": [instant.isoformat() for instant in draw(st.lists(instants, min_size=1, max_size=3))],
        }
    else:
        schedule = {
            "frequency": "weekly",
            "day_of_week": draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, unique=True)),
            "time": f"{draw(st.integers(0, 23)):02d}:{draw(st.integers(0, 59)):02d}",
            "timezone": draw(st.sampled_from(ZONES)),
        }
    low, high = sorted(draw(st.lists(st.floats(min_value=0, max_value=100), min_size=2, max_size=2)))
    return {"schedule": schedule, "minimum_state_of_charge": low, "maximum_state_of_charge": high}


def _device(draw: st.DrawFn, name: str, collector: dict[str, Any]) -> dict[str, Any]:
    kind = draw(st.sampled_from(["pole", "forecast", "battery"]))
    device: dict[str, Any] = {"name": name, "collector": collector["name"]}
    if kind == "pole":
        if collector["1P_3P"] == "1P":
            pins, phases = [draw(st.sampled_from(PINS))], [collector.get("phase", "L1")]
        else:
            count = draw(st.integers(1, 3))
            pins = draw(st.permutations(PINS))[:count]
            phases = draw(st.permutations(PHASES))[:count]
        mapping = {"pin_list": pins, "phase_list": phases}
        return {
            **device,
            "type": "charging_pole_3phase",
            "line_current": draw(amperes),
            "pin_to_phase_mapping": mapping,
        }
    if kind == "forecast":
        device |= {"type": "forecasted_series_3phase", "line_current": draw(amperes)}
        device["forecast_type"] = draw(st.sampled_from(["pv", "load", "ucl"]))
        if draw(st.booleans()):
            device["should_be_aggregated"] = draw(st.booleans())
        return device
    return device | {
        "type": "battery_energy_storage_system",
        "charging_efficiency": draw(st.floats(min_value=0.01, max_value=1)),
        "discharging_efficiency": draw(st.floats(min_value=0.01, max_value=1)),
        "maximum_charging_power": draw(st.floats(min_value=1, max_value=1e6)),
        "maximum_discharging_power": draw(st.floats(min_value=1, max_value=1e6)),
        "operational_battery_capacity": draw(st.floats(min_value=1, max_value=1e7)),
        "charging_priority": draw(st.integers(1, 10)),
        "discharging_priority": draw(st.integers(1, 10)),
        "policies": [_policy(draw) for _ in range(draw(st.integers(0, 2)))],
    }


@st.composite
def valid_sites(draw: st.DrawFn) -> Document:
    """A random valid site, its collectors in pre-order (each parent before its children)."""
    collector_names = draw(st.lists(names, min_size=1, max_size=8, unique=True))
    collectors: list[dict[str, Any]] = []
    for index, name in enumerate(collector_names):
        parent = collectors[draw(st.integers(0, index - 1))] if index else None
        collector = _collector(draw, name, parent)
        if parent is not None:
            parent["children"].append(name)
        collectors.append(collector)
    by_name = {collector["name"]: collector for collector in collectors}
    ordered: list[dict[str, Any]] = []

    def pre_order(collector: dict[str, Any]) -> None:
        ordered.append(collector)
        for child in collector["children"]:
            pre_order(by_name[child])

    pre_order(collectors[0])
    device_names = draw(st.lists(names, max_size=6, unique=True))
    devices = [_device(draw, name, draw(st.sampled_from(collectors))) for name in device_names]
    return {"collector_list": ordered, "device_list": devices}


def _nested(document: Document) -> Document:
    """The same site with every child written inline in its parent's `children`."""
    by_name = {collector["name"]: collector for collector in document["collector_list"]}

    def inline(collector: dict[str, Any]) -> dict[str, Any]:
        return {**collector, "children": [inline(by_name[child]) for child in collector["children"]]}

    return {**document, "collector_list": [inline(document["collector_list"][0])]}


@given(valid_sites())
def test_valid_site_round_trips_through_its_document(document: Document) -> None:
    config = parse_site_configuration(document)
    written = config.to_document()
    again = parse_site_configuration(written)
    assert again == config
    assert again.to_document() == written
    assert [collector.parent for collector in again.collector_list] == [c.parent for c in config.collector_list]


@given(valid_sites())
def test_nested_children_parse_as_the_flat_document(document: Document) -> None:
    assert parse_site_configuration(_nested(document)) == parse_site_configuration(document)
