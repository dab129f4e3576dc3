"""Who may connect as which station, and who may register one: Basic auth per station, refused with 401
on the handshake; the tenancy of the pole's account."""

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.ocpp.conftest import PASSWORD, SET_STATION, pole_state, station_on_pole
from tests.ocpp.sim import basic, connected


async def refused(address: str, station_id: str, headers: dict, protocol: str = "ocpp2.0.1") -> int:
    with pytest.raises(InvalidStatus) as error:
        async with websockets.connect(
            f"ws://{address}/ocpp/{station_id}", subprotocols=[protocol], additional_headers=headers
        ):
            pass
    return error.value.response.status_code


async def test_wrong_password_and_missing_credentials_are_refused(server, http, alpha):
    _, address = server
    _, devices = await station_on_pole(http, alpha, "CP-A")
    assert await refused(address, "CP-A", {"Authorization": basic("CP-A", "not-the-password-at-all")}) == 401
    assert await refused(address, "CP-A", {}) == 401
    assert await refused(address, "CP-UNKNOWN", {"Authorization": basic("CP-UNKNOWN", PASSWORD)}) == 401
    # The user name must be the station id of the URL.
    assert await refused(address, "CP-A", {"Authorization": basic("CP-B", PASSWORD)}) == 401
    assert await refused(address, "CP-A", {"Authorization": basic("CP-A", PASSWORD)}, "ocpp0.9") == 400
    state = await pole_state(http, alpha, devices["pole_entrance"])
    assert state["ocppStation"]["online"] is False and state["ocppStation"]["lastSeenAt"] is None


async def test_a_station_of_another_account_cannot_attach_to_this_accounts_pole(server, http, alpha, bravo):
    _, address = server
    _, alpha_devices = await station_on_pole(http, alpha, "CP-ALPHA")
    _, bravo_devices = await station_on_pole(http, bravo, "CP-BRAVO")
    alpha_pole = alpha_devices["pole_entrance"]

    # Bravo's operator cannot put a station on alpha's pole, nor take alpha's station id for its own.
    data = await http.post(SET_STATION, {"d": alpha_pole, "s": "CP-BRAVO-2", "p": PASSWORD}, bravo.operator)
    assert data["data"]["setChargingPoleStation"]["errors"][0]["code"] == "NOT_FOUND"
    data = await http.post(
        SET_STATION, {"d": bravo_devices["pole_garage_1"], "s": "CP-ALPHA", "p": PASSWORD}, bravo.operator
    )
    assert data["data"]["setChargingPoleStation"]["errors"][0]["code"] == "DUPLICATE"
    # Bravo's station, with its own valid password, cannot connect as alpha's station.
    assert await refused(address, "CP-ALPHA", {"Authorization": basic("CP-ALPHA", PASSWORD + "x")}) == 401
    assert await refused(address, "CP-ALPHA", {"Authorization": basic("CP-BRAVO", PASSWORD)}) == 401
    # Connected as itself, it reaches only bravo's pole: alpha's pole hears nothing.
    async with connected(address, "CP-BRAVO", PASSWORD) as station:
        await station.boot()
        await station.transaction("tx-b", "Started", 0, charging_state="Charging")
    assert (await pole_state(http, alpha, alpha_pole))["activeSession"] is None
    assert (await pole_state(http, alpha, alpha_pole))["ocppStation"]["lastSeenAt"] is None
    assert (await pole_state(http, bravo, bravo_devices["pole_entrance"]))["activeSession"] is not None
    # And alpha's viewer does not see bravo's pole at all.
    body = await http.post(
        "query($id: ID!) { node(id: $id) { id } }", {"id": bravo_devices["pole_entrance"]}, alpha.viewer
    )
    assert body["data"]["node"] is None


async def test_registration_rules(server, http, alpha):
    (
        _,
        _,
    ) = server
    _, devices = await station_on_pole(http, alpha, "CP-RULES")
    pole = devices["pole_garage_1"]
    errors = (await http.post(SET_STATION, {"d": pole, "s": "bad:id"}, alpha.operator))["data"]
    codes = {(e["field"], e["code"]) for e in errors["setChargingPoleStation"]["errors"]}
    assert codes == {("stationId", "INVALID_FORMAT"), ("password", "REQUIRED")}
    errors = (await http.post(SET_STATION, {"d": pole, "s": "CP-2", "p": "short", "f": 99.0}, alpha.operator))["data"]
    codes = {(e["field"], e["code"]) for e in errors["setChargingPoleStation"]["errors"]}
    assert codes == {("password", "OUT_OF_RANGE"), ("fallbackCurrentA", "OUT_OF_RANGE")}
    viewer = await http.post(SET_STATION, {"d": pole, "s": "CP-2", "p": PASSWORD}, alpha.viewer)
    assert viewer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # Changing the EVSE keeps the password when none is given.
    data = await http.ok(SET_STATION, {"d": devices["pole_entrance"], "s": "CP-RULES", "e": 2}, alpha.operator)
    assert data["setChargingPoleStation"]["ocppStation"]["evseId"] == 2
