"""Ingest and aggregation, checked against an independent computation of the documented rules."""

import asyncio
import math
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from strawberry.relay import GlobalID

from app.services.measurements import RECOMPUTE, _locks
from tests.api.helpers import demo_devices, site_with_topology

BRUSSELS = ZoneInfo("Europe/Brussels")
INGEST = (
    "mutation($p: MeasurementPoints!) { ingestMeasurements(points: $p) { accepted errors { code field message } } }"
)
DEVICE_MEASUREMENTS = """query($id: ID!, $r: Resolution!, $from: DateTime!, $to: DateTime!) { node(id: $id) { ... on Device {
  measurements(resolution: $r, from: $from, to: $to) { timestamp power energy energyIn energyOut stateOfCharge } } } }"""
SYSTEM_MEASUREMENTS = """query($id: ID!, $r: Resolution!, $from: DateTime!, $to: DateTime!) { node(id: $id) { ... on System {
  measurements(resolution: $r, from: $from, to: $to) { timestamp unit production consumption evCharging batteryCharge
    batteryDischarge gridImport gridExport stateOfCharge selfConsumptionRate selfSufficiencyRate } } } }"""


def power_profile(name: str, minute: int) -> float:
    hour = minute / 60
    if name == "pv_roof":
        return -max(0.0, 6000 * math.sin(math.pi * (hour - 6) / 14)) if 6 <= hour <= 20 else 0.0
    if name == "building_load":
        return 800 + 400 * math.sin(hour / 3)
    if name == "pole_entrance":
        return 7400.0 if 18 <= hour < 22 or 7 <= hour < 8.5 else 0.0
    return 3000.0 if 10 <= hour < 14 else (-2500.0 if 19 <= hour < 23 else 0.0)


def day_points(devices: dict[str, str], day_start: datetime, minutes: int = 1440) -> tuple[list[dict], dict]:
    points, samples = [], defaultdict(list)
    meter = 0.0
    soc = 40.0
    for minute in range(minutes):
        ts = day_start + timedelta(minutes=minute)
        for name, device_id in devices.items():
            power = power_profile(name, minute)
            point = {"deviceId": device_id, "timestamp": ts.isoformat(), "powerValue": power}
            energy = None
            if name == "building_load":  # a meter: the rollup must use the readings, not the power
                meter += (power + 50) / 60
                energy = point["energyValue"] = round(meter, 6)
            if name == "battery_basement":
                soc = min(100.0, max(0.0, soc + power / 60 / 20000 * 100))
                point["currentStateOfCharge"] = soc
            if name == "pole_entrance" and power:
                point["pins"] = [
                    {"pin": p, "currentValue": power / 3 / 230, "voltageValue": 230.0} for p in ("pin1", "pin2", "pin3")
                ]
            points.append(point)
            samples[name].append((ts, power, energy, point.get("currentStateOfCharge")))
    return points, samples


def increments(samples: list[tuple]) -> list[tuple[datetime, float, float]]:
    """(t, Wh, seconds) per point closing an interval, by the README's rules."""
    out = []
    for (t0, _, e0, _), (t1, p1, e1, _) in zip(samples, samples[1:], strict=False):
        seconds = (t1 - t0).total_seconds()
        if seconds > 900:
            continue
        wh = e1 - e0 if e0 is not None and e1 is not None else p1 * seconds / 3600
        out.append((t1, wh, seconds))
    return out


def bucket_end(ts: datetime, size: timedelta) -> datetime:
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    steps = math.ceil((ts - epoch) / size)
    return epoch + steps * size


def local_start(ts: datetime, unit: str) -> datetime:
    local = (ts - timedelta(microseconds=1)).astimezone(BRUSSELS)
    if unit == "day":
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    elif unit == "week":
        start = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    elif unit == "month":
        start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    else:
        start = local.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    return datetime(start.year, start.month, start.day, tzinfo=BRUSSELS).astimezone(UTC)


def close(actual: float | None, expected: float, what: str) -> None:
    assert actual is not None, what
    assert abs(actual - expected) <= 1e-3 * max(abs(expected), 1.0), (what, actual, expected)


async def setup_site(api, tenant):
    system_id, _, ids = await demo_devices(api, tenant)
    return system_id, {name: ids[name] for name in ("pv_roof", "building_load", "pole_entrance", "battery_basement")}


async def test_one_day_of_minute_data_aggregates_at_every_resolution(api, tenant_a):
    system_id, devices = await setup_site(api, tenant_a)
    day = datetime(2026, 6, 10, tzinfo=BRUSSELS).astimezone(UTC)
    points, samples = day_points(devices, day)
    accepted = await api.ok(INGEST, {"p": points}, tenant_a.operator)
    assert accepted["ingestMeasurements"]["accepted"] == len(points)
    window = {"from": day.isoformat(), "to": (day + timedelta(days=1)).isoformat()}

    for resolution, size in (("MIN15", timedelta(minutes=15)), ("HOUR", timedelta(hours=1))):
        for name, device_id in devices.items():
            expected: dict[datetime, list[float]] = defaultdict(lambda: [0.0, 0.0])
            for t, wh, seconds in increments(samples[name]):
                expected[bucket_end(t, size)][0] += wh
                expected[bucket_end(t, size)][1] += seconds
            data = await api.ok(DEVICE_MEASUREMENTS, {"id": device_id, "r": resolution, **window}, tenant_a.viewer)
            rows = data["node"]["measurements"]
            assert [datetime.fromisoformat(r["timestamp"]) for r in rows] == sorted(expected)
            for row in rows:
                wh, seconds = expected[datetime.fromisoformat(row["timestamp"])]
                close(row["power"], wh * 3600 / seconds, f"{name} {resolution} {row['timestamp']}")
                assert row["energy"] is None

    for resolution, unit in (("DAY", "day"), ("WEEK", "week"), ("MONTH", "month"), ("YEAR", "year")):
        for name, device_id in devices.items():
            expected_energy: dict[datetime, float] = defaultdict(float)
            for t, wh, _ in increments(samples[name]):
                expected_energy[local_start(t, unit)] += wh
            data = await api.ok(DEVICE_MEASUREMENTS, {"id": device_id, "r": resolution, **window}, tenant_a.viewer)
            rows = data["node"]["measurements"]
            assert [datetime.fromisoformat(r["timestamp"]) for r in rows] == sorted(expected_energy), (name, unit)
            for row in rows:
                close(row["energy"], expected_energy[datetime.fromisoformat(row["timestamp"])], f"{name} {unit}")
                assert row["power"] is None
        battery = (
            await api.ok(
                DEVICE_MEASUREMENTS, {"id": devices["battery_basement"], "r": resolution, **window}, tenant_a.viewer
            )
        )["node"]["measurements"]
        socs = [s for _, _, _, s in samples["battery_basement"][1:]]
        close(battery[0]["stateOfCharge"], sum(socs) / len(socs), "battery SoC")

    # The system nets its grid exchange per 15-minute slot, then sums.
    slots: dict[datetime, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for name, role in (
        ("pv_roof", "pv"),
        ("building_load", "load"),
        ("pole_entrance", "ev"),
        ("battery_basement", "battery"),
    ):
        for t, wh, _ in increments(samples[name]):
            slot = slots[bucket_end(t, timedelta(minutes=15))]
            if role == "battery":
                slot["charge" if wh > 0 else "discharge"] += abs(wh)
            else:
                slot[role] += wh
    totals = defaultdict(float)
    for slot in slots.values():
        net = slot["load"] + slot["ev"] + slot["charge"] - slot["discharge"] + slot["pv"]
        totals["production"] += -slot["pv"]
        totals["consumption"] += slot["load"] + slot["ev"]
        totals["ev"] += slot["ev"]
        totals["charge"] += slot["charge"]
        totals["discharge"] += slot["discharge"]
        totals["import"] += max(net, 0)
        totals["export"] += max(-net, 0)
    (daily,) = (await api.ok(SYSTEM_MEASUREMENTS, {"id": system_id, "r": "DAY", **window}, tenant_a.viewer))["node"][
        "measurements"
    ]
    assert daily["unit"] == "Wh" and datetime.fromisoformat(daily["timestamp"]) == day
    for field, key in (
        ("production", "production"),
        ("consumption", "consumption"),
        ("evCharging", "ev"),
        ("batteryCharge", "charge"),
        ("batteryDischarge", "discharge"),
        ("gridImport", "import"),
        ("gridExport", "export"),
    ):
        close(daily[field], totals[key], field)
    close(daily["selfConsumptionRate"], 1 - totals["export"] / totals["production"], "self-consumption")
    close(daily["selfSufficiencyRate"], 1 - totals["import"] / totals["consumption"], "self-sufficiency")
    hourly = (await api.ok(SYSTEM_MEASUREMENTS, {"id": system_id, "r": "HOUR", **window}, tenant_a.viewer))["node"][
        "measurements"
    ]
    assert len(hourly) == 24 and hourly[0]["unit"] == "W"
    close(sum(h["gridImport"] for h in hourly), totals["import"], "hourly mean import powers x 1 h")

    # Pools sum their systems.
    pool = await api.ok(
        'mutation($a: ID!, $s: [ID!]!) { createSystemPool(input: {accountId: $a, name: "vpp", systemIds: $s}) { systemPool { id } } }',
        {"a": tenant_a.account_id, "s": [system_id]},
        tenant_a.operator,
    )
    pool_query = SYSTEM_MEASUREMENTS.replace("... on System", "... on SystemPool")
    (pooled,) = (
        await api.ok(
            pool_query,
            {
                "id": pool["createSystemPool"]["systemPool"]["id"],
                "r": "MONTH",
                "from": day.isoformat(),
                "to": (day + timedelta(days=2)).isoformat(),
            },
            tenant_a.viewer,
        )
    )["node"]["measurements"]
    close(pooled["gridImport"], totals["import"], "pool import")


@pytest.mark.parametrize(("day", "hours"), [((2026, 3, 29), 23), ((2026, 10, 25), 25)])
async def test_a_daylight_saving_day_has_23_or_25_hourly_buckets(api, tenant_a, day, hours):
    _, devices = await setup_site(api, tenant_a)
    start = datetime(*day, tzinfo=BRUSSELS).astimezone(UTC)
    end = datetime.combine(
        (datetime(*day) + timedelta(days=1)).date(), datetime.min.time(), tzinfo=BRUSSELS
    ).astimezone(UTC)
    minutes = int((end - start).total_seconds() // 60)
    assert minutes == hours * 60
    points = [
        {
            "deviceId": devices["pole_entrance"],
            "timestamp": (start + timedelta(minutes=m + 1)).isoformat(),
            "powerValue": 1000.0,
        }
        for m in range(minutes)
    ]
    await api.ok(INGEST, {"p": points}, tenant_a.operator)
    window = {"id": devices["pole_entrance"], "from": start.isoformat(), "to": end.isoformat()}
    hourly = (await api.ok(DEVICE_MEASUREMENTS, {**window, "r": "HOUR"}, tenant_a.viewer))["node"]["measurements"]
    assert len(hourly) == hours
    (daily,) = (await api.ok(DEVICE_MEASUREMENTS, {**window, "r": "DAY"}, tenant_a.viewer))["node"]["measurements"]
    assert datetime.fromisoformat(daily["timestamp"]) == start
    close(daily["energy"], 1000.0 * (minutes - 1) / 60, "daily energy")


async def count_points(app) -> int:
    async with app.state.db.session() as session:
        return (await session.execute(text("SELECT count(*) FROM measurement"))).scalar_one()


async def test_replaying_a_batch_changes_nothing_and_a_bad_point_refuses_the_batch(api, app, tenant_a, tenant_b):
    _, devices = await setup_site(api, tenant_a)
    day = datetime(2026, 6, 10, tzinfo=UTC)
    points, _ = day_points(devices, day, minutes=120)
    await api.ok(INGEST, {"p": points}, tenant_a.operator)
    window = {
        "id": devices["building_load"],
        "r": "MIN15",
        "from": day.isoformat(),
        "to": (day + timedelta(hours=2)).isoformat(),
    }
    before = await api.ok(DEVICE_MEASUREMENTS, window, tenant_a.viewer)
    stored = await count_points(app)
    replay = await api.ok(INGEST, {"p": points}, tenant_a.operator)
    assert replay["ingestMeasurements"]["accepted"] == len(points)
    assert await count_points(app) == stored == len(points)
    assert await api.ok(DEVICE_MEASUREMENTS, window, tenant_a.viewer) == before

    later, _ = day_points(devices, day + timedelta(hours=3), minutes=10)
    later[37]["currentStateOfCharge"] = 150
    refused = await api.post(INGEST, {"p": later}, tenant_a.operator)
    errors = refused["data"]["ingestMeasurements"]["errors"]
    assert errors == [
        {"code": "OUT_OF_RANGE", "field": "points[37].currentStateOfCharge", "message": errors[0]["message"]}
    ]
    later[37]["currentStateOfCharge"] = 50
    later[12]["timestamp"] = "2026-06-10T03:00:00"
    naive = await api.post(INGEST, {"p": later}, tenant_a.operator)
    assert naive["data"]["ingestMeasurements"]["errors"][0]["field"] == "points[12].timestamp"
    assert await count_points(app) == stored

    # Points for another account's device are refused, whole.
    later[12]["timestamp"] = (day + timedelta(hours=5)).isoformat()
    foreign = await api.post(INGEST, {"p": later}, tenant_b.admin)
    assert foreign["data"]["ingestMeasurements"]["errors"][0]["code"] == "NOT_FOUND"
    by_name = [
        {
            "siteId": "U2l0ZTowMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDA=",
            "assetName": "pv_roof",
            "timestamp": day.isoformat(),
            "powerValue": 1.0,
        }
    ]
    assert (await api.post(INGEST, {"p": by_name}, tenant_a.operator))["data"]["ingestMeasurements"]["errors"][0][
        "code"
    ] == "NOT_FOUND"
    assert await count_points(app) == stored


async def test_points_by_site_and_asset_name_latest_values_and_limits(api, tenant_a):
    system_id, site_id = await site_with_topology(api, tenant_a.operator, tenant_a.account_id)
    now = datetime.now(UTC).replace(microsecond=0)
    points = [
        {
            "siteId": site_id,
            "assetName": "pv_roof",
            "timestamp": (now - timedelta(minutes=1)).isoformat(),
            "powerValue": -3000.0,
        },
        {"siteId": site_id, "assetName": "building_load", "timestamp": now.isoformat(), "powerValue": 1200.0},
        {
            "siteId": site_id,
            "assetName": "battery_basement",
            "timestamp": now.isoformat(),
            "powerValue": -500.0,
            "currentStateOfCharge": 62.5,
        },
        {
            "siteId": site_id,
            "assetName": "pole_entrance",
            "timestamp": now.isoformat(),
            "powerValue": 3680.0,
            "pins": [{"pin": "pin1", "currentValue": 16.0, "voltageValue": 230.0}],
        },
    ]
    await api.ok(INGEST, {"p": points}, tenant_a.operator)
    data = await api.ok(
        """query($id: ID!) { node(id: $id) { ... on System {
             live { production consumption evCharging batteryPower gridPower stateOfCharge devicesReporting }
             devices { nodes { name latestMeasurement { powerValue currentStateOfCharge pins { pin currentValue voltageValue } } } } } } }""",
        {"id": system_id},
        tenant_a.viewer,
    )
    live = data["node"]["live"]
    assert live == {
        "production": 3000.0,
        "consumption": 4880.0,
        "evCharging": 3680.0,
        "batteryPower": -500.0,
        "gridPower": 1380.0,
        "stateOfCharge": 62.5,
        "devicesReporting": 4,
    }
    latest = {d["name"]: d["latestMeasurement"] for d in data["node"]["devices"]["nodes"]}
    assert latest["pole_entrance"]["pins"] == [{"pin": "pin1", "currentValue": 16.0, "voltageValue": 230.0}]
    assert latest["pole_garage_1"] is None
    too_long = await api.post(
        SYSTEM_MEASUREMENTS,
        {"id": system_id, "r": "MIN15", "from": now.isoformat(), "to": (now + timedelta(days=2)).isoformat()},
        tenant_a.viewer,
    )
    assert too_long["errors"][0]["extensions"]["code"] == "OUT_OF_RANGE"
    assert "at most 1 day" in too_long["errors"][0]["message"]
    too_many = [points[1] | {"timestamp": (now + timedelta(seconds=i)).isoformat()} for i in range(10_001)]
    refused = await api.post(INGEST, {"p": too_many}, tenant_a.operator)
    assert refused["data"]["ingestMeasurements"]["errors"][0]["field"] == "points"


def _interleaved(points: list[dict], early: list[dict]) -> list[list[dict]]:
    return [points[k::8] for k in range(8)]


def _adjacent(points: list[dict], early: list[dict]) -> list[list[dict]]:
    """Eight consecutive spans of 15 minutes: each batch's first points follow the previous batch's last ones."""
    spans: dict[int, list[dict]] = defaultdict(list)
    for p in points:
        ts = datetime.fromisoformat(p["timestamp"])
        spans[(ts.hour * 60 + ts.minute) // 15].append(p)
    return [spans[k] for k in sorted(spans)]


def _with_a_long_one(points: list[dict], early: list[dict]) -> list[list[dict]]:
    """One batch also carries points of 17 hours earlier (it reaches over so many hours that it locks its
    devices whole), the others short spans side by side."""
    long = [p for p in points if datetime.fromisoformat(p["timestamp"]).minute % 10 == 0]
    rest = [p for p in points if datetime.fromisoformat(p["timestamp"]).minute % 10 != 0]
    return [early + long, *_adjacent(rest, [])]


@pytest.mark.parametrize("split", [_interleaved, _adjacent, _with_a_long_one])
async def test_batches_sent_at_once_roll_up_as_one_batch_would(api, tenant_a, split):
    """Concurrent batches of the same devices, interleaved, side by side (a recompute reaches into the slots
    before and after its points) or one locking whole devices: each slot still counts all of their points."""
    _, devices = await setup_site(api, tenant_a)
    day = datetime(2026, 6, 10, 17, tzinfo=UTC)
    points, samples = day_points(devices, day - timedelta(hours=17), minutes=17 * 60 + 120)
    early = [p for p in points if datetime.fromisoformat(p["timestamp"]) < day - timedelta(hours=16)]
    points = [p for p in points if datetime.fromisoformat(p["timestamp"]) >= day]
    batches = split(points, early)
    if split is _with_a_long_one:
        keys = [
            (uuid.uuid5(uuid.NAMESPACE_URL, p["deviceId"]), datetime.fromisoformat(p["timestamp"])) for p in batches[0]
        ]
        assert _locks(keys).whole and not _locks(keys).hours
        points = points + early
    answers = await asyncio.gather(*(api.ok(INGEST, {"p": batch}, tenant_a.operator) for batch in batches))
    assert sum(a["ingestMeasurements"]["accepted"] for a in answers) == len(points)
    window = {"from": day.isoformat(), "to": (day + timedelta(hours=2)).isoformat()}
    for name, device_id in devices.items():
        expected: dict[datetime, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for t, wh, seconds in increments([s for s in samples[name] if s[0] >= day]):
            expected[bucket_end(t, timedelta(minutes=15))][0] += wh
            expected[bucket_end(t, timedelta(minutes=15))][1] += seconds
        data = await api.ok(DEVICE_MEASUREMENTS, {"id": device_id, "r": "MIN15", **window}, tenant_a.viewer)
        rows = data["node"]["measurements"]
        assert [datetime.fromisoformat(r["timestamp"]) for r in rows] == sorted(expected)
        for row in rows:
            wh, seconds = expected[datetime.fromisoformat(row["timestamp"])]
            close(row["power"], wh * 3600 / seconds, f"{name} {row['timestamp']}")


async def test_the_slot_recompute_reads_only_the_touched_range_of_a_long_history(api, app, tenant_a):
    """A site whose few devices hold a long history: the recompute after a small batch is a key range scan per
    device, never a pass over the whole table (the planner hashed the table once it held few devices)."""
    _, devices = await setup_site(api, tenant_a)
    ids = [uuid.UUID(GlobalID.from_id(v).node_id) for v in devices.values()]
    async with app.state.db.transaction() as session:
        await session.execute(
            text(
                "INSERT INTO measurement (device_id, ts, power_w) SELECT d, TIMESTAMPTZ '2026-01-01' "
                "+ make_interval(secs => s * 10), 1000 FROM unnest(CAST(:d AS uuid[])) d, generate_series(0, 50000) s"
            ),
            {"d": ids},
        )
        await session.execute(text("ANALYZE measurement"))
    batch = [datetime(2026, 1, 2, 12, tzinfo=UTC) + timedelta(seconds=5 + 10 * k) for k in range(25)]
    async with app.state.db.transaction() as session:
        plan = "\n".join(
            row[0]
            for row in await session.execute(
                text("EXPLAIN " + RECOMPUTE.text), {"d": [ids[k % len(ids)] for k in range(25)], "t": batch}
            )
        )
    assert "Seq Scan on measurement" not in plan, plan
