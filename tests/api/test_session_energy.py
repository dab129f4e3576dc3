"""`ChargingSession.energyDelivered`: what the pole measured since the car plugged in, for every session of a
list in one statement."""

from datetime import UTC, datetime, timedelta

from tests.api.helpers import demo_devices

START = """mutation($d: ID!, $pins: [Pin!]!) {
  startChargingSession(deviceId: $d, usedChargingPins: $pins) { chargingSession { id } errors { message } } }"""
INGEST = "mutation($p: MeasurementPoints!) { ingestMeasurements(points: $p) { accepted errors { message } } }"
SESSIONS = """query($id: ID!) { node(id: $id) { ... on Site {
  chargingSessions { nodes { energyDelivered device { name } } } } } }"""


async def test_energy_delivered_counts_the_poles_readings_since_the_start(api, tenant_a):
    _, site_id, devices = await demo_devices(api, tenant_a)
    for pole, pins in (("pole_entrance", ["PIN1", "PIN2", "PIN3"]), ("pole_carport", ["PIN1"])):
        await api.ok(START, {"d": devices[pole], "pins": pins}, tenant_a.operator)
    fresh = await api.ok(SESSIONS, {"id": site_id}, tenant_a.viewer)
    assert {s["device"]["name"]: s["energyDelivered"] for s in fresh["node"]["chargingSessions"]["nodes"]} == {
        "pole_entrance": 0.0,
        "pole_carport": 0.0,
    }
    # 11 kW for 6 minutes after the start: 1100 Wh; the carport reports nothing.
    start = datetime.now(UTC) + timedelta(minutes=1)
    points = [
        {
            "deviceId": devices["pole_entrance"],
            "timestamp": (start + timedelta(minutes=m)).isoformat(),
            "powerValue": 11000,
        }
        for m in (0, 3, 6)
    ]
    await api.ok(INGEST, {"p": points}, tenant_a.operator)
    answer = await api.ok(SESSIONS, {"id": site_id}, tenant_a.viewer)
    delivered = {s["device"]["name"]: s["energyDelivered"] for s in answer["node"]["chargingSessions"]["nodes"]}
    assert abs(delivered["pole_entrance"] - 1100.0) < 1e-6 and delivered["pole_carport"] == 0.0
