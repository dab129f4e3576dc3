"""An OCPP 2.0.1 station over a real websocket: boot, a transaction with meter values, charging needs,
limits out as charging profiles, and a constraint that lowers them."""

import time
from datetime import UTC, datetime, timedelta

from tests.ocpp.conftest import PASSWORD, pole_state, station_on_pole, until
from tests.ocpp.sim import connected, sampled

PUSH_BOUND_S = 30.0  # generous: the test waits on the profile itself
SET = """mutation($d: ID!, $at: DateTime!, $max: Float) {
  setConstraint(deviceId: $d, priority: 10, invalidAt: $at, maxActivePower: $max) { constraint { id } errors { message } } }"""


async def test_boot_transaction_meter_values_and_profiles(server, http, alpha):
    _, address = server
    _, devices = await station_on_pole(http, alpha, "CP-ALPHA-1")
    pole = devices["pole_entrance"]
    async with connected(address, "CP-ALPHA-1", PASSWORD, rotation="RST") as station:
        boot = await station.boot()
        assert boot.status == "Accepted" and boot.interval == 60
        await station.status("Occupied")
        state = await until(lambda: pole_state(http, alpha, pole), lambda s: s["ocppStation"]["phaseRotation"])
        assert state["ocppStation"]["online"] and state["ocppStation"]["protocol"] == "ocpp2.0.1"
        assert state["ocppStation"]["vendor"] == "Phasewise" and state["ocppStation"]["model"] == "Sim-201"
        assert state["ocppStation"]["connectorStatus"] == "Occupied"
        assert state["ocppStation"]["phaseRotationIssue"] is None  # RST = pins 1..3 on L1..L3, as mapped

        # A transaction with meter values: a charging session and measurements appear over GraphQL.
        start = datetime.now(UTC) - timedelta(seconds=20)
        await station.transaction(
            "tx-1",
            "Started",
            0,
            meter_value=[{"timestamp": start.isoformat(), "sampled_value": sampled((0, 0, 0), energy_wh=1000)}],
            charging_state="Charging",
            phases=3,
        )
        await station.meter(
            [{"timestamp": datetime.now(UTC).isoformat(), "sampled_value": sampled((16, 15, 14), 231, 1030, 40)}]
        )
        state = await pole_state(http, alpha, pole)
        assert state["activeSession"]["state"] == "UPDATED" or state["activeSession"]["state"] == "STARTED"
        assert state["activeSession"]["usedChargingPins"] == ["PIN1", "PIN2", "PIN3"]
        assert state["ocppStation"]["transactionId"] == "tx-1"
        measured = state["latestMeasurement"]
        assert measured["energyValue"] == 1030.0 and measured["currentStateOfCharge"] == 40.0
        assert measured["powerValue"] == (16 + 15 + 14) * 231.0
        assert [(p["pin"], p["currentValue"], p["voltageValue"]) for p in measured["pins"]] == [
            ("pin1", 16.0, 231.0),
            ("pin2", 15.0, 231.0),
            ("pin3", 14.0, 231.0),
        ]

        # The optimizer's limits arrive as the transaction's TxProfile whose limit is the enforced limit.
        profile = await station.profile(lambda p: p.profile.get("transaction_id") == "tx-1" and p.limit > 0)
        assert profile.profile["charging_profile_purpose"] == "TxProfile"
        assert profile.profile["charging_schedule"][0]["charging_rate_unit"] == "A"
        state = await until(
            lambda: pole_state(http, alpha, pole),
            lambda s: (
                s["enforcedLimits"]
                and station.all_profiles[-1].limit == s["enforcedLimits"]["limitsRootSide"]["acMaxCurrentA"] == 32.0
            ),
        )
        latest = station.all_profiles[-1]
        enforced = state["enforcedLimits"]
        assert latest.limit == enforced["limitsRootSide"]["acMaxCurrentA"] == 32.0
        assert latest.periods[0].get("number_phases") == enforced["limitsRootSide"]["acMaxPhaseCount"]
        valid_to = datetime.fromisoformat(latest.profile["valid_to"].replace("Z", "+00:00"))
        assert abs(valid_to - datetime.fromisoformat(enforced["validUntil"])) < timedelta(seconds=1)
        assert [p["start_period"] for p in latest.periods] == sorted({p["start_period"] for p in latest.periods})

        # A constraint lowering the pole's power: the station is held under it at once (no solve on that path:
        # test_ocpp_ceiling.py), the re-plan follows. The 1 s target is bench/ocpp.py's figure; here the bound
        # only keeps a lost push from passing, and a busy machine can only make it slower.
        at = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        sent = time.time()
        await http.ok(SET, {"d": pole, "at": at, "max": 10 * 3 * 230.0}, alpha.operator)
        lowered = await station.profile(lambda p: p.at > sent and p.limit <= 10.0 + 1e-6)
        assert lowered.at - sent <= PUSH_BOUND_S, f"{lowered.at - sent:.3f} s"
        assert lowered.profile["transaction_id"] == "tx-1"

        # ISO 15118 charging needs become the session's target.
        leave = datetime.now(UTC) + timedelta(hours=3)
        answer = await station.charging_needs(12_000, leave)
        assert answer.status == "Accepted"
        state = await pole_state(http, alpha, pole)
        assert state["activeSession"]["target"]["energyAmountNeeded"] == 12_000
        assert abs(datetime.fromisoformat(state["activeSession"]["target"]["leaveTime"]) - leave) < timedelta(seconds=1)

        # The transaction ends: so does the session.
        await station.transaction(
            "tx-1",
            "Ended",
            2,
            meter_value=[
                {"timestamp": datetime.now(UTC).isoformat(), "sampled_value": sampled((0, 0, 0), energy_wh=1100)}
            ],
        )
        state = await pole_state(http, alpha, pole)
        assert state["activeSession"] is None and state["ocppStation"]["transactionId"] is None
        assert state["latestMeasurement"]["energyValue"] == 1100.0
    state = await until(lambda: pole_state(http, alpha, pole), lambda s: not s["ocppStation"]["online"])
    assert state["ocppStation"]["controlWarning"].startswith("station CP-ALPHA-1 is offline")


async def test_phase_rotation_mismatch_is_reported(server, http, alpha):
    _, address = server
    _, devices = await station_on_pole(http, alpha, "CP-ROT", pole="pole_garage_1")  # pins 1..3 on L2, L3, L1
    async with connected(address, "CP-ROT", PASSWORD, rotation="RST") as station:
        await station.boot()
        state = await until(
            lambda: pole_state(http, alpha, devices["pole_garage_1"]), lambda s: s["ocppStation"]["phaseRotation"]
        )
        assert "STR" in state["ocppStation"]["phaseRotationIssue"]
        assert "pin1: station R, pole S" in state["ocppStation"]["phaseRotationIssue"]
