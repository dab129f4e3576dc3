"""Stations that do not obey: one refuses its profiles, one stops answering. Both are reported (the
station, the pole's flexibility, the run's warnings) and the pole is planned at its fallback current."""

from tests.ocpp.conftest import CALL_TIMEOUT_S, PASSWORD, RUNS, pole_state, station_on_pole, until
from tests.ocpp.sim import HANG, REJECT, connected

FALLBACK_A = 10.0


async def runs(http, tenant, site_id):
    return (await http.ok(RUNS, {"s": site_id}, tenant.viewer))["node"]["optimizationRuns"]["nodes"]


def warned(nodes, text: str) -> bool:
    return bool(nodes) and any(text in w for w in nodes[0]["warnings"])


async def test_a_station_refusing_profiles_is_reported_and_planned_at_its_fallback(server, http, alpha):
    _, address = server
    site_id, devices = await station_on_pole(http, alpha, "CP-NO", f=FALLBACK_A)
    pole = devices["pole_entrance"]
    async with connected(address, "CP-NO", PASSWORD, mode=REJECT) as station:
        await station.boot()
        await station.transaction("tx-no", "Started", 0, charging_state="Charging", phases=3)
        await station.profile()
        state = await until(
            lambda: pole_state(http, alpha, pole), lambda s: s["ocppStation"]["controlStatus"] == "refused"
        )
        assert state["ocppStation"]["online"] is True
        assert state["ocppStation"]["controlWarning"].startswith("station CP-NO refused")
        assert state["flexibility"]["controlWarning"] == state["ocppStation"]["controlWarning"]
        nodes = await until(lambda: runs(http, alpha, site_id), lambda n: warned(n, "fallback current of 10 A"))
        assert warned(nodes, "station CP-NO is refused")
        state = await until(
            lambda: pole_state(http, alpha, pole),
            lambda s: s["enforcedLimits"] and s["enforcedLimits"]["limitsRootSide"]["acMaxCurrentA"] == FALLBACK_A,
        )
        assert state["enforcedLimits"]["limitsRootSide"]["acMaxCurrentA"] == FALLBACK_A


async def test_a_station_that_stops_answering_is_marked_offline_and_reported(server, http, alpha):
    _, address = server
    site_id, devices = await station_on_pole(http, alpha, "CP-SILENT", f=FALLBACK_A)
    pole = devices["pole_entrance"]
    async with connected(address, "CP-SILENT", PASSWORD, mode=HANG, rotation=None) as station:
        await station.boot()
        await station.transaction("tx-s", "Started", 0, charging_state="Charging", phases=3)
        await station.profile()  # it gets one, and never answers
        state = await until(
            lambda: pole_state(http, alpha, pole),
            lambda s: not s["ocppStation"]["online"],
            timeout=45 * CALL_TIMEOUT_S,  # generous: a busy machine only delays the call timeout
        )
    assert state["ocppStation"]["controlStatus"] == "unresponsive"
    assert "did not answer SetChargingProfile" in state["ocppStation"]["controlWarning"]
    assert state["flexibility"]["controlWarning"] == state["ocppStation"]["controlWarning"]
    nodes = await until(lambda: runs(http, alpha, site_id), lambda n: warned(n, "CP-SILENT is unresponsive"))
    assert warned(nodes, "fallback current of 10 A")
