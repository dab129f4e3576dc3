"""Constraints resolve, by priority and expiry, into each device's flexibility."""

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlmodel import col
from strawberry.relay import GlobalID

from app.domain.flexibility import resolve
from app.models import DeviceConstraint
from app.optimization.site_inputs import ConstraintRecord
from app.optimization.snapshot import WINNING_CONSTRAINTS
from tests.api.helpers import demo_devices

SET = """mutation($d: ID!, $p: Int!, $at: DateTime!, $min: Float, $max: Float, $sp: Float) {
  setConstraint(deviceId: $d, priority: $p, invalidAt: $at, minActivePower: $min, maxActivePower: $max, activePower: $sp) {
    constraint { id priority emitter } errors { code field message } } }"""
FLEX = """query($id: ID!) { node(id: $id) { ... on Device {
  constraints { totalCount nodes { priority } }
  flexibility { minActivePower maxActivePower setPoint activePower invalidAt
    minActivePowerDecidedBy { priority } maxActivePowerDecidedBy { priority } setPointDecidedBy { priority } } } } }"""


def soon(seconds: float = 3600) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


async def devices_of(api, tenant):
    system_id, _, devices = await demo_devices(api, tenant)
    return system_id, devices


async def flexibility(api, tenant, device_id):
    return (await api.ok(FLEX, {"id": device_id}, tenant.viewer))["node"]


async def test_the_highest_priority_wins_per_field(api, tenant_a):
    _, devices = await devices_of(api, tenant_a)
    pole = devices["pole_entrance"]  # 32 A on three pins at 230 V: 0 .. 22,080 W
    await api.ok(SET, {"d": pole, "p": 5, "at": soon(), "max": 7000.0}, tenant_a.operator)
    high = await api.ok(SET, {"d": pole, "p": 10, "at": soon(), "max": 4000.0, "sp": 2000.0}, tenant_a.operator)
    await api.ok(SET, {"d": pole, "p": 1, "at": soon(), "min": 1000.0}, tenant_a.operator)
    node = await flexibility(api, tenant_a, pole)
    assert [c["priority"] for c in node["constraints"]["nodes"]] == [10, 5, 1]
    flex = node["flexibility"]
    assert (flex["minActivePower"], flex["maxActivePower"], flex["setPoint"]) == (1000.0, 4000.0, 2000.0)
    assert flex["maxActivePowerDecidedBy"] == {"priority": 10} and flex["minActivePowerDecidedBy"] == {"priority": 1}
    await api.ok(
        "mutation($id: ID!) { removeConstraint(id: $id) { deletedId } }",
        {"id": high["setConstraint"]["constraint"]["id"]},
        tenant_a.operator,
    )
    flex = (await flexibility(api, tenant_a, pole))["flexibility"]
    assert (flex["maxActivePower"], flex["maxActivePowerDecidedBy"], flex["setPoint"]) == (
        7000.0,
        {"priority": 5},
        None,
    )


async def test_an_expired_constraint_stops_counting_without_a_restart(api, tenant_a):
    _, devices = await devices_of(api, tenant_a)
    battery = devices["battery_basement"]
    await api.ok(SET, {"d": battery, "p": 3, "at": soon(3), "max": 2500.0}, tenant_a.operator)
    flex = (await flexibility(api, tenant_a, battery))["flexibility"]
    assert flex["maxActivePower"] == 2500.0 and flex["invalidAt"] is not None
    expiry = datetime.fromisoformat(flex["invalidAt"])
    while datetime.now(UTC) <= expiry:  # the event is the clock passing the constraint's expiry
        await asyncio.sleep(0.05)
    node = await flexibility(api, tenant_a, battery)
    assert node["constraints"]["totalCount"] == 0
    assert (node["flexibility"]["minActivePower"], node["flexibility"]["maxActivePower"]) == (-10000.0, 10000.0)
    assert node["flexibility"]["maxActivePowerDecidedBy"] is None


async def test_physical_limits_always_win(api, tenant_a):
    _, devices = await devices_of(api, tenant_a)
    carport = devices["pole_carport"]  # 16 A on one pin at 230 V: 0 .. 3,680 W
    await api.ok(
        SET,
        {"d": carport, "p": 2_147_483_647, "at": soon(), "min": -5000.0, "max": 50000.0, "sp": 9000.0},
        tenant_a.operator,
    )
    flex = (await flexibility(api, tenant_a, carport))["flexibility"]
    assert (flex["minActivePower"], flex["maxActivePower"], flex["setPoint"]) == (0.0, 3680.0, 3680.0)
    assert flex["minActivePowerDecidedBy"] is None and flex["maxActivePowerDecidedBy"] is None


async def test_conflicting_bounds_the_lower_priority_gives_way(api, tenant_a):
    _, devices = await devices_of(api, tenant_a)
    pole, other = devices["pole_garage_1"], devices["pole_garage_2"]
    await api.ok(SET, {"d": pole, "p": 1, "at": soon(), "min": 5000.0}, tenant_a.operator)
    await api.ok(SET, {"d": pole, "p": 9, "at": soon(), "max": 3000.0}, tenant_a.operator)
    flex = (await flexibility(api, tenant_a, pole))["flexibility"]
    assert (flex["minActivePower"], flex["maxActivePower"]) == (3000.0, 3000.0)
    assert flex["minActivePowerDecidedBy"] == {"priority": 9}
    await api.ok(SET, {"d": other, "p": 9, "at": soon(), "min": 5000.0}, tenant_a.operator)
    await api.ok(SET, {"d": other, "p": 1, "at": soon(), "max": 3000.0}, tenant_a.operator)
    flex = (await flexibility(api, tenant_a, other))["flexibility"]
    assert (flex["minActivePower"], flex["maxActivePower"], flex["maxActivePowerDecidedBy"]) == (
        5000.0,
        5000.0,
        {"priority": 9},
    )


async def test_constraint_input_rules(api, tenant_a):
    _, devices = await devices_of(api, tenant_a)
    pole = devices["pole_entrance"]
    cases = [
        ({"p": 1, "at": soon(26 * 3600), "max": 1.0}, "invalidAt"),
        ({"p": 1, "at": soon(-60), "max": 1.0}, "invalidAt"),
        ({"p": -1, "at": soon(), "max": 1.0}, "priority"),
        ({"p": 1, "at": soon(), "min": 5.0, "max": 1.0}, "maxActivePower"),
        ({"p": 1, "at": soon()}, None),
    ]
    for variables, field in cases:
        body = await api.post(SET, {"d": pole, **variables}, tenant_a.operator)
        (error,) = body["data"]["setConstraint"]["errors"]
        assert error["field"] == field, (variables, error)
    assert (await flexibility(api, tenant_a, pole))["constraints"]["totalCount"] == 0
    as_viewer = await api.post(SET, {"d": pole, "p": 1, "at": soon(), "max": 1.0}, tenant_a.viewer)
    assert as_viewer["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_constraints_are_held_to_the_account_subtree(api, tenant_a, tenant_b):
    _, devices = await devices_of(api, tenant_a)
    pole = devices["pole_entrance"]
    mine = await api.ok(SET, {"d": pole, "p": 1, "at": soon(), "max": 1000.0}, tenant_a.operator)
    constraint_id = mine["setConstraint"]["constraint"]["id"]
    assert mine["setConstraint"]["constraint"]["emitter"].startswith("user:")
    cross = await api.post(SET, {"d": pole, "p": 99, "at": soon(), "max": 0.0}, tenant_b.admin)
    assert cross["data"]["setConstraint"]["errors"][0]["code"] == "NOT_FOUND"
    remove = await api.post(
        "mutation($id: ID!) { removeConstraint(id: $id) { errors { code } } }", {"id": constraint_id}, tenant_b.admin
    )
    assert remove["data"]["removeConstraint"]["errors"] == [{"code": "NOT_FOUND"}]
    assert (await api.ok("query($id: ID!) { node(id: $id) { id } }", {"id": constraint_id}, tenant_b.admin))[
        "node"
    ] is None
    assert (await api.ok("query($id: ID!) { node(id: $id) { id } }", {"id": pole}, tenant_b.admin))["node"] is None
    flex = (await flexibility(api, tenant_a, pole))["flexibility"]
    assert flex["maxActivePower"] == 1000.0


async def test_clusters_list_their_devices_constraints_and_systems_sum_flexibility(api, tenant_a):
    system_id, devices = await devices_of(api, tenant_a)
    poles = [devices[n] for n in ("pole_entrance", "pole_garage_1")]
    cluster = await api.ok(
        'mutation($s: ID!, $d: [ID!]!) { createCluster(input: {systemId: $s, name: "c", deviceIds: $d}) { cluster { id } } }',
        {"s": system_id, "d": poles},
        tenant_a.operator,
    )
    await api.ok(SET, {"d": poles[0], "p": 4, "at": soon(), "max": 5000.0}, tenant_a.operator)
    await api.ok(SET, {"d": poles[1], "p": 7, "at": soon(), "sp": 1000.0}, tenant_a.operator)
    await api.ok(SET, {"d": devices["pv_roof"], "p": 7, "at": soon(), "max": 0.0}, tenant_a.operator)
    listed = await api.ok(
        "query($id: ID!) { node(id: $id) { ... on Cluster { constraints { totalCount nodes { priority } } } } }",
        {"id": cluster["createCluster"]["cluster"]["id"]},
        tenant_a.viewer,
    )
    assert listed["node"]["constraints"] == {"totalCount": 2, "nodes": [{"priority": 7}, {"priority": 4}]}
    total = (
        await api.ok(
            "query($id: ID!) { node(id: $id) { ... on System { flexibility { minActivePower maxActivePower setPoint devices } } } }",
            {"id": system_id},
            tenant_a.viewer,
        )
    )["node"]["flexibility"]
    # poles: 5000 + 3 x 16 A x 230 V x 2 + 16 A x 230 V; pv: -25 A x 3 x 230 V .. 0; load: 0 .. 40 A x 3 x 230 V; battery -10 kW .. 10 kW
    assert total["devices"] == 7
    assert total["maxActivePower"] == 5000 + 11040 * 2 + 3680 + 0 + 27600 + 10000
    assert total["minActivePower"] == -17250 - 10000
    assert total["setPoint"] == 1000.0


async def test_a_run_reads_only_the_winning_constraints_and_they_resolve_as_all_of_them_do(app, api, tenant_a):
    """Sixty live constraints on a pole (ties on priority, every field, some soon expired): a run's snapshot
    reads at most three, and they resolve exactly as every live constraint does."""
    _, devices = await devices_of(api, tenant_a)
    pole = devices["pole_entrance"]
    rng = random.Random(7)
    for _ in range(60):
        fields = rng.choice(
            [{"max": 1000.0 + rng.randrange(20) * 500}, {"min": rng.randrange(10) * 500.0}, {"sp": 3000.0}]
        )
        variables = {"d": pole, "p": rng.choice([1, 5, 5, 9]), "at": soon(rng.choice([3, 3600, 7200])), **fields}
        await api.ok(SET, variables, tenant_a.operator)
    device = uuid.UUID(GlobalID.from_id(pole).node_id)
    for later in (0, 4):  # now, and once the 3-second ones have expired
        now = datetime.now(UTC) + timedelta(seconds=later)
        async with app.state.db.session() as session:
            live = select(DeviceConstraint).where(
                col(DeviceConstraint.device_id) == device, col(DeviceConstraint.invalid_at) > now
            )
            every = [ConstraintRecord.model_validate(r).view() for r in (await session.execute(live)).scalars()]
            read = (await session.execute(WINNING_CONSTRAINTS, {"devices": [device], "now": now})).all()
            winners = [ConstraintRecord.model_validate(r).view() for r in read]
        assert len(winners) <= 3 < len(every)
        assert resolve((0.0, 22_080.0), winners, now) == resolve((0.0, 22_080.0), every, now)
