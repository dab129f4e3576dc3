"""applySiteConfiguration: the seeds' documents are accepted; every invalid case is refused whole."""

from collections.abc import Callable
from typing import Any

import pytest

from tests.api.helpers import APPLY, SITE_STATE, demo_document, site_with_topology

SEED_DOCUMENT = {
    "collector_list": [
        {
            "name": "main_collector",
            "children": [],
            "line_current": 63,
            "phase_voltage": 230,
            "commodity": "electricity",
            "1P_3P": "3P",
            "nb_of_phases": 3,
        }
    ],
    "device_list": [
        {
            "name": "LR34_001",
            "collector": "main_collector",
            "type": "charging_pole_3phase",
            "line_current": 32,
            "pin_to_phase_mapping": {"pin_list": ["pin1", "pin2", "pin3"], "phase_list": ["L1", "L2", "L3"]},
        },
        {
            "name": "pv_inverter",
            "collector": "main_collector",
            "type": "forecasted_series_3phase",
            "line_current": 100,
            "forecast_type": "pv",
            "should_be_aggregated": False,
        },
        {
            "name": "bess",
            "collector": "main_collector",
            "type": "battery_energy_storage_system",
            "charging_efficiency": 0.95,
            "discharging_efficiency": 0.95,
            "maximum_charging_power": 5000,
            "maximum_discharging_power": 5000,
            "operational_battery_capacity": 10000,
            "charging_priority": 10,
            "discharging_priority": 10,
            "policies": [
                {
                    "type": "schedule",
                    "schedule": {
                        "frequency": "weekly",
                        "day_of_week": ["monday", "friday"],
                        "time": "09:00",
                        "timezone": "America/New_York",
                    },
                    "minimum_state_of_charge": 85.49,
                    "maximum_state_of_charge": 85.49,
                }
            ],
        },
    ],
}


def collector(doc: dict, name: str) -> dict:
    return next(c for c in doc["collector_list"] if c["name"] == name)


def device(doc: dict, name: str) -> dict:
    return next(d for d in doc["device_list"] if d["name"] == name)


def policy(doc: dict) -> dict:
    return device(doc, "battery_basement")["policies"][0]


Edit = Callable[[dict], Any]
INVALID: dict[str, tuple[Edit, str]] = {
    "two roots": (
        lambda d: collector(d, "main_collector")["children"].remove("carport_board"),
        "collector_list",
    ),
    "cycle": (lambda d: collector(d, "garage_board")["children"].append("main_collector"), "collector_list"),
    "unknown child": (
        lambda d: collector(d, "main_collector")["children"].append("ghost_board"),
        "collector_list[0].children[2]",
    ),
    "unknown device collector": (
        lambda d: device(d, "pv_roof").update(collector="ghost_board"),
        "device_list[4].collector",
    ),
    "1P child without phase": (
        lambda d: collector(d, "carport_board").pop("phase"),
        "collector_list[2].phase",
    ),
    "permutation not one-to-one": (
        lambda d: collector(d, "garage_board").update(phase_permutations={"L1": "L2", "L2": "L2", "L3": "L1"}),
        "collector_list[1].phase_permutations.L2",
    ),
    "no voltage": (
        lambda d: collector(d, "garage_board").pop("phase_voltage"),
        "collector_list[1].phase_voltage",
    ),
    "negative voltage": (
        lambda d: collector(d, "garage_board").update(phase_voltage=-230),
        "collector_list[1].phase_voltage",
    ),
    "zero line current": (
        lambda d: collector(d, "main_collector").update(line_current=0),
        "collector_list[0].line_current",
    ),
    "pole current out of range": (
        lambda d: device(d, "pole_entrance").update(line_current=-1),
        "device_list[0].line_current",
    ),
    "efficiency above one": (
        lambda d: device(d, "battery_basement").update(charging_efficiency=1.5),
        "device_list[6].charging_efficiency",
    ),
    "priority above ten": (
        lambda d: device(d, "battery_basement").update(discharging_priority=11),
        "device_list[6].discharging_priority",
    ),
    "unknown forecast type": (
        lambda d: device(d, "pv_roof").update(forecast_type="wind"),
        "device_list[4].forecast_type",
    ),
    "unknown device type": (lambda d: device(d, "pv_roof").update(type="heat_pump"), "device_list[4].type"),
    "unknown pin": (
        lambda d: device(d, "pole_entrance")["pin_to_phase_mapping"].update(pin_list=["pin1", "pin2", "pin4"]),
        "device_list[0].pin_to_phase_mapping.pin_list[2]",
    ),
    "unknown phase": (
        lambda d: device(d, "pole_entrance")["pin_to_phase_mapping"].update(phase_list=["L1", "L2", "L4"]),
        "device_list[0].pin_to_phase_mapping.phase_list[2]",
    ),
    "pins and phases differ in length": (
        lambda d: device(d, "pole_entrance")["pin_to_phase_mapping"].update(phase_list=["L1", "L2"]),
        "device_list[0].pin_to_phase_mapping.phase_list",
    ),
    "repeated pin": (
        lambda d: device(d, "pole_entrance")["pin_to_phase_mapping"].update(pin_list=["pin1", "pin1", "pin3"]),
        "device_list[0].pin_to_phase_mapping.pin_list[1]",
    ),
    "repeated phase": (
        lambda d: device(d, "pole_entrance")["pin_to_phase_mapping"].update(phase_list=["L1", "L1", "L3"]),
        "device_list[0].pin_to_phase_mapping.phase_list[1]",
    ),
    "phase not on the collector": (
        lambda d: device(d, "pole_carport")["pin_to_phase_mapping"].update(phase_list=["L1"]),
        "device_list[3].pin_to_phase_mapping.phase_list[0]",
    ),
    "duplicate device name": (
        lambda d: device(d, "pv_roof").update(name="building_load"),
        "device_list[5].name",
    ),
    "duplicate collector name": (
        lambda d: d["collector_list"].append({**collector(d, "carport_board"), "children": []}),
        "collector_list[3].name",
    ),
    "bad policy time": (
        lambda d: policy(d)["schedule"].update(time="7h00"),
        "device_list[6].policies[0].schedule.time",
    ),
    "unknown timezone": (
        lambda d: policy(d)["schedule"].update(timezone="Europe/Gent"),
        "device_list[6].policies[0].schedule.timezone",
    ),
    "bad weekday": (
        lambda d: policy(d)["schedule"].update(day_of_week=["funday"]),
        "device_list[6].policies[0].schedule.day_of_week[0]",
    ),
    "min above max state of charge": (
        lambda d: policy(d).update(minimum_state_of_charge=90, maximum_state_of_charge=20),
        "device_list[6].policies[0].maximum_state_of_charge",
    ),
}


async def test_the_seed_documents_are_accepted(api, tenant_a):
    _, site_id = await site_with_topology(api, tenant_a.operator, tenant_a.account_id)
    data = await api.ok(APPLY, {"site": site_id, "doc": SEED_DOCUMENT}, tenant_a.operator)
    assert data["applySiteConfiguration"]["site"]["validation"]["validForOptimization"] is True
    state = (await api.ok(SITE_STATE, {"id": site_id}, tenant_a.viewer))["node"]
    assert [c["name"] for c in state["collectors"]["nodes"]] == ["main_collector"]
    assert [d["name"] for d in state["devices"]["nodes"]] == ["LR34_001", "pv_inverter", "bess"]


async def test_devices_that_keep_their_name_keep_their_id(api, tenant_a):
    _, site_id = await site_with_topology(api, tenant_a.operator, tenant_a.account_id)
    query = "query($id: ID!) { node(id: $id) { ... on Site { devices { nodes { id name lineCurrent } } } } }"
    before = {d["name"]: d for d in (await api.ok(query, {"id": site_id}, tenant_a.viewer))["node"]["devices"]["nodes"]}
    document = demo_document()
    device(document, "pole_entrance")["line_current"] = 20
    await api.ok(APPLY, {"site": site_id, "doc": document}, tenant_a.operator)
    after = {d["name"]: d for d in (await api.ok(query, {"id": site_id}, tenant_a.viewer))["node"]["devices"]["nodes"]}
    assert {n: d["id"] for n, d in after.items()} == {n: d["id"] for n, d in before.items()}
    assert after["pole_entrance"]["lineCurrent"] == 20


@pytest.mark.parametrize("case", sorted(INVALID))
async def test_each_invalid_document_is_refused_with_nothing_changed(api, tenant_a, case):
    _, site_id = await site_with_topology(api, tenant_a.operator, tenant_a.account_id)
    before = await api.ok(SITE_STATE, {"id": site_id}, tenant_a.viewer)
    edit, field = INVALID[case]
    document = demo_document()
    edit(document)
    body = await api.post(APPLY, {"site": site_id, "doc": document}, tenant_a.operator)
    payload = body["data"]["applySiteConfiguration"]
    assert payload["site"] is None
    assert payload["errors"], case
    assert field in [e["field"] for e in payload["errors"]], payload["errors"]
    assert all(e["code"] and e["message"] for e in payload["errors"])
    assert await api.ok(SITE_STATE, {"id": site_id}, tenant_a.viewer) == before


async def test_a_document_that_is_not_an_object_is_refused(api, tenant_a):
    _, site_id = await site_with_topology(api, tenant_a.operator, tenant_a.account_id)
    body = await api.post(APPLY, {"site": site_id, "doc": [1, 2]}, tenant_a.operator)
    assert body["data"]["applySiteConfiguration"]["errors"][0]["code"]
