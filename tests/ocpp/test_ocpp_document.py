"""Pleevi's site document may carry each charging pole's OCPP station (`ocpp_station`): applied over GraphQL
in the document's one transaction, refused whole with a code and the document's path, and the station then
logs in over OCPP as the document named it."""

import random
from typing import Any

from tests.api.helpers import APPLY, create_site, create_system, demo_document, ean
from tests.ocpp.conftest import PASSWORD, SET_STATION, pole_state
from tests.ocpp.sim import connected

DEVICES = "query($id: ID!) { node(id: $id) { ... on Site { devices { nodes { id name } } } } }"
STATIONS = """query($id: ID!) { node(id: $id) { ... on Site { devices { nodes { name
  ... on ChargingPole { ocppStation { stationId evseId connectorId online protocol } } } } } } }"""


async def new_site(http: Any, tenant: Any) -> str:
    system_id = await create_system(http, tenant.operator, tenant.account_id)
    site = await create_site(http, tenant.operator, system_id, identifier=ean(f"5414{random.randrange(10**13):013d}"))
    return site["id"]


def with_stations(**stations: dict[str, Any]) -> dict[str, Any]:
    document = demo_document()
    for device in document["device_list"]:
        if device["name"] in stations:
            device["ocpp_station"] = stations[device["name"]]
    return document


async def apply(http: Any, tenant: Any, site_id: str, document: dict[str, Any]) -> dict[str, Any]:
    return (await http.ok(APPLY, {"site": site_id, "doc": document}, tenant.operator))["applySiteConfiguration"]


async def refusal(http: Any, tenant: Any, site_id: str, document: dict[str, Any]) -> set[tuple[str, str]]:
    """(field, code) of every error of a refused document."""
    body = await http.post(APPLY, {"site": site_id, "doc": document}, tenant.operator)
    assert "errors" not in body, body["errors"]
    return {(e["field"], e["code"]) for e in body["data"]["applySiteConfiguration"]["errors"]}


async def stations_of(http: Any, tenant: Any, site_id: str) -> dict[str, Any]:
    nodes = (await http.ok(STATIONS, {"id": site_id}, tenant.viewer))["node"]["devices"]["nodes"]
    return {n["name"]: n.get("ocppStation") for n in nodes}


async def test_the_document_names_the_station_and_the_station_connects(server, http, alpha):
    _, address = server
    site_id = await new_site(http, alpha)
    document = with_stations(
        pole_entrance={"station_id": "DOC-ENTRANCE", "password": PASSWORD},
        pole_garage_1={"station_id": "DOC-GARAGE", "evse_id": 2, "connector_id": 1, "password": PASSWORD},
    )
    payload = await apply(http, alpha, site_id, document)
    assert payload["errors"] == []
    stations = await stations_of(http, alpha, site_id)
    assert stations["pole_entrance"] == {
        "stationId": "DOC-ENTRANCE",
        "evseId": 1,
        "connectorId": 1,
        "online": False,
        "protocol": None,
    }
    assert stations["pole_garage_1"]["evseId"] == 2 and stations["pole_carport"] is None

    # The station logs in with the document's password (stored as the mutation stores it: an argon2 hash).
    async with connected(address, "DOC-GARAGE", PASSWORD) as station:
        boot = await station.boot()
        assert boot.status == "Accepted"
        await station.status("Occupied", evse_id=2, connector_id=1)
        devices = (await http.ok(DEVICES, {"id": site_id}, alpha.viewer))["node"]["devices"]["nodes"]
        garage = next(d["id"] for d in devices if d["name"] == "pole_garage_1")
        state = await pole_state(http, alpha, garage)
        assert state["ocppStation"]["online"] and state["ocppStation"]["protocol"] == "ocpp2.0.1"
        assert state["ocppStation"]["connectorStatus"] == "Occupied"

    # Applying the document again without passwords keeps the stations and their passwords.
    for device in document["device_list"]:
        device.get("ocpp_station", {}).pop("password", None)
    document["device_list"][0]["ocpp_station"]["connector_id"] = 3
    assert (await apply(http, alpha, site_id, document))["errors"] == []
    assert (await stations_of(http, alpha, site_id))["pole_entrance"]["connectorId"] == 3
    async with connected(address, "DOC-ENTRANCE", PASSWORD) as station:
        assert (await station.boot()).status == "Accepted"

    # A document that leaves a pole's station out keeps it as it is (the mutation manages it too).
    assert (await apply(http, alpha, site_id, demo_document()))["errors"] == []
    assert (await stations_of(http, alpha, site_id))["pole_garage_1"]["stationId"] == "DOC-GARAGE"


async def test_bad_mappings_are_refused_whole_with_their_paths(server, http, alpha, bravo):
    site_id = await new_site(http, alpha)
    bad = with_stations(
        pole_entrance={"station_id": "BAD:ID", "password": "short"},
        pole_garage_1={"station_id": "DOC-TWICE", "evse_id": 0, "password": PASSWORD},
        pole_garage_2={"station_id": "DOC-TWICE", "connector_id": "1", "password": PASSWORD},
        pole_carport={"station_id": "DOC-CARPORT", "fallback_current": 17.0, "password": PASSWORD},
    )
    found = await refusal(http, alpha, site_id, bad)
    assert ("device_list[0].ocpp_station.station_id", "INVALID_FORMAT") in found
    assert ("device_list[0].ocpp_station.password", "OUT_OF_RANGE") in found
    assert ("device_list[1].ocpp_station.evse_id", "OUT_OF_RANGE") in found
    assert ("device_list[2].ocpp_station.connector_id", "INVALID_FORMAT") in found
    assert await stations_of(http, alpha, site_id) == {}  # nothing half-written: no devices, no stations

    # Field rules pass, the tree rules then see the same station id twice and the fallback above the pole.
    twice = with_stations(
        pole_garage_1={"station_id": "DOC-TWICE", "password": PASSWORD},
        pole_garage_2={"station_id": "DOC-TWICE", "password": PASSWORD},
        pole_carport={"station_id": "DOC-CARPORT", "fallback_current": 17.0, "password": PASSWORD},
    )
    found = await refusal(http, alpha, site_id, twice)
    assert found == {
        ("device_list[2].ocpp_station.station_id", "DUPLICATE"),
        ("device_list[3].ocpp_station.fallback_current", "OUT_OF_RANGE"),
    }

    # A new station needs its password; a station id another pole (here another account's) already has is
    # taken. Either refuses the whole document: the topology is not written either.
    bravo_site = await new_site(http, bravo)
    assert (await apply(http, bravo, bravo_site, demo_document()))["errors"] == []
    bravo_pole = next(
        d["id"]
        for d in (await http.ok(DEVICES, {"id": bravo_site}, bravo.viewer))["node"]["devices"]["nodes"]
        if d["name"] == "pole_entrance"
    )
    await http.ok(SET_STATION, {"d": bravo_pole, "s": "BRAVO-OWNS-THIS", "p": PASSWORD}, bravo.operator)
    taken = with_stations(
        pole_entrance={"station_id": "BRAVO-OWNS-THIS", "password": PASSWORD},
        pole_garage_1={"station_id": "DOC-NO-PASSWORD"},
    )
    found = await refusal(http, alpha, site_id, taken)
    assert found == {
        ("device_list[0].ocpp_station.station_id", "DUPLICATE"),
        ("device_list[1].ocpp_station.password", "REQUIRED"),
    }
    assert await stations_of(http, alpha, site_id) == {}
