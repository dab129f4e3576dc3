"""An OCPP 1.6 charge point over a real websocket: StartTransaction / MeterValues / StopTransaction open,
feed and end a session; the limits arrive as the transaction's TxProfile."""

from datetime import UTC, datetime

from tests.ocpp.conftest import PASSWORD, pole_state, station_on_pole, until
from tests.ocpp.sim import connected


def readings(currents: tuple[float, float, float], energy_wh: float) -> list[dict]:
    """1.6 sampled values: strings, with a `unit`."""
    values = [
        {"value": str(c), "measurand": "Current.Import", "phase": p, "unit": "A"}
        for p, c in zip(("L1", "L2", "L3"), currents, strict=True)
    ]
    values.append({"value": str(energy_wh / 1000), "measurand": "Energy.Active.Import.Register", "unit": "kWh"})
    return [{"timestamp": datetime.now(UTC).isoformat(), "sampled_value": values}]


async def test_start_meter_stop_and_tx_profile(server, http, alpha):
    _, address = server
    _, devices = await station_on_pole(http, alpha, "CP16-ALPHA")
    pole = devices["pole_entrance"]
    async with connected(address, "CP16-ALPHA", PASSWORD, version="1.6", rotation="RST") as station:
        boot = await station.boot()
        assert boot.status == "Accepted"
        transaction_id = await station.start_transaction(meter_start=5000)
        await station.meter(readings((12.0, 12.5, 13.0), 5200), transaction_id)
        state = await until(lambda: pole_state(http, alpha, pole), lambda s: s["ocppStation"]["phaseRotation"])
        assert state["ocppStation"]["protocol"] == "ocpp1.6" and state["ocppStation"]["online"]
        assert state["ocppStation"]["phaseRotationIssue"] is None
        assert state["activeSession"]["usedChargingPins"] == ["PIN1", "PIN2", "PIN3"]
        assert state["ocppStation"]["transactionId"] == str(transaction_id)
        assert state["latestMeasurement"]["energyValue"] == 5200.0
        assert [p["currentValue"] for p in state["latestMeasurement"]["pins"]] == [12.0, 12.5, 13.0]

        profile = await station.profile(lambda p: p.profile.get("transaction_id") == transaction_id)
        assert profile.profile["charging_profile_purpose"] == "TxProfile"
        assert profile.profile["charging_schedule"]["charging_rate_unit"] == "A"
        # A run planned before the transaction existed may still arrive as a TxProfile at 0 A (an idle pole's
        # limit); the run that plans the car follows it, and its profile carries the pole's enforced limit.
        state = await until(
            lambda: pole_state(http, alpha, pole),
            lambda s: (
                s["enforcedLimits"]
                and s["enforcedLimits"]["limitsRootSide"]["acMaxCurrentA"] == station.all_profiles[-1].limit == 32.0
            ),
        )
        assert station.all_profiles[-1].limit == 32.0

        await station.stop_transaction(transaction_id, meter_stop=6000)
        state = await pole_state(http, alpha, pole)
        assert state["activeSession"] is None and state["latestMeasurement"]["energyValue"] == 6000.0
