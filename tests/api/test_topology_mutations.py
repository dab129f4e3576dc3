"""Collectors and devices one at a time: the same rules as the document, errors in the mutation's own terms."""

from tests.api.helpers import SITE_STATE, create_site, create_system, site_with_topology

IDS = """query($id: ID!) { node(id: $id) { ... on Site { collectors { nodes { id name } } devices { nodes { id name } } } } }"""


async def ids(api, token, site_id):
    node = (await api.ok(IDS, {"id": site_id}, token))["node"]
    return {c["name"]: c["id"] for c in node["collectors"]["nodes"]}, {
        d["name"]: d["id"] for d in node["devices"]["nodes"]
    }


async def test_build_a_tree_one_collector_and_device_at_a_time(api, tenant_a):
    system_id = await create_system(api, tenant_a.operator, tenant_a.account_id)
    site = await create_site(api, tenant_a.operator, system_id)
    main = await api.ok(
        'mutation($s: ID!) { createCollector(siteId: $s, input: {name: "main", lineCurrent: 40, lineVoltage: 400}) { collector { id phaseVoltage lineVoltage } } }',
        {"s": site["id"]},
        tenant_a.operator,
    )
    main_id = main["createCollector"]["collector"]["id"]
    board = await api.ok(
        """mutation($s: ID!, $p: ID!) { createCollector(siteId: $s, input: {name: "board", parentId: $p, lineCurrent: 16,
             phaseVoltage: 230, phaseType: SINGLE_PHASE, phase: L2}) { collector { id parent { name } phase } } }""",
        {"s": site["id"], "p": main_id},
        tenant_a.operator,
    )
    assert board["createCollector"]["collector"]["parent"] == {"name": "main"}
    board_id = board["createCollector"]["collector"]["id"]
    battery = await api.ok(
        """mutation($c: ID!) { createBattery(collectorId: $c, input: {name: "bess", maximumChargingPower: 3000,
             maximumDischargingPower: 3000, operationalBatteryCapacity: 5000,
             policies: [{frequency: ONCE, dateTimes: ["2026-12-01T08:00:00+01:00"], minimumStateOfCharge: 50, maximumStateOfCharge: 90}]})
           { device { id ... on Battery { chargingEfficiency policies { frequency dateTimes } } } } }""",
        {"c": board_id},
        tenant_a.operator,
    )
    assert battery["createBattery"]["device"]["chargingEfficiency"] == 0.95
    # A pole on the 1P board may only use the board's phase; the error speaks of the mutation's input.
    wrong = await api.post(
        """mutation($c: ID!) { createChargingPole(collectorId: $c, input: {name: "p", lineCurrent: 16,
             pinToPhaseMapping: {pinList: [PIN1], phaseList: [L1]}}) { device { id } errors { code field message } } }""",
        {"c": board_id},
        tenant_a.operator,
    )
    (error,) = wrong["data"]["createChargingPole"]["errors"]
    assert error["field"] == "input.pinToPhaseMapping.phaseList[0]"
    assert error["code"] == "UNKNOWN_REFERENCE"
    pole = await api.ok(
        """mutation($c: ID!) { createChargingPole(collectorId: $c, input: {name: "p", lineCurrent: 16,
             pinToPhaseMapping: {pinList: [PIN1], phaseList: [L2]}}) { device { id } } }""",
        {"c": board_id},
        tenant_a.operator,
    )
    pole_id = pole["createChargingPole"]["device"]["id"]
    renamed = await api.ok(
        'mutation($id: ID!) { updateCollector(id: $id, input: {name: "garage", lineCurrent: 20}) { collector { id name lineCurrent devices { nodes { name } } } } }',
        {"id": board_id},
        tenant_a.operator,
    )
    assert renamed["updateCollector"]["collector"] == {
        "id": board_id,
        "name": "garage",
        "lineCurrent": 20,
        "devices": {"nodes": [{"name": "bess"}, {"name": "p"}]},
    }
    moved = await api.ok(
        "mutation($id: ID!, $c: ID!) { updateChargingPole(id: $id, input: {collectorId: $c, pinToPhaseMapping: {pinList: [PIN1, PIN2, PIN3], phaseList: [L3, L1, L2]}}) { device { id collector { name } } } }",
        {"id": pole_id, "c": main_id},
        tenant_a.operator,
    )
    assert moved["updateChargingPole"]["device"] == {"id": pole_id, "collector": {"name": "main"}}
    busy = await api.post(
        "mutation($id: ID!) { deleteCollector(id: $id) { deletedId errors { code } } }",
        {"id": board_id},
        tenant_a.operator,
    )
    assert busy["data"]["deleteCollector"]["errors"] == [{"code": "CONFLICT"}]
    wrong_type = await api.post(
        'mutation($id: ID!) { updateBattery(id: $id, input: {name: "x"}) { errors { code field } } }',
        {"id": pole_id},
        tenant_a.operator,
    )
    assert wrong_type["data"]["updateBattery"]["errors"][0]["field"] == "id"


async def test_a_refused_granular_change_writes_nothing(api, tenant_a):
    _, site_id = await site_with_topology(api, tenant_a.operator, tenant_a.account_id)
    collectors, devices = await ids(api, tenant_a.viewer, site_id)
    before = await api.ok(SITE_STATE, {"id": site_id}, tenant_a.viewer)
    cases = [
        (
            "mutation($id: ID!) { updateCollector(id: $id, input: {phaseVoltage: -5}) { errors { field code } } }",
            collectors["garage_board"],
            "updateCollector",
            "input.phaseVoltage",
        ),
        (
            'mutation($id: ID!) { updateCollector(id: $id, input: {name: "main_collector"}) { errors { field code } } }',
            collectors["garage_board"],
            "updateCollector",
            None,
        ),
        (
            "mutation($id: ID!) { updateForecastedSeries(id: $id, input: {lineCurrent: 0}) { errors { field code } } }",
            devices["pv_roof"],
            "updateForecastedSeries",
            "input.lineCurrent",
        ),
        (
            "mutation($id: ID!) { updateBattery(id: $id, input: {chargingPriority: 0}) { errors { field code } } }",
            devices["battery_basement"],
            "updateBattery",
            "input.chargingPriority",
        ),
        (
            'mutation($id: ID!) { updateChargingPole(id: $id, input: {name: "pv_roof"}) { errors { field code } } }',
            devices["pole_entrance"],
            "updateChargingPole",
            None,
        ),
    ]
    for query, target, name, field in cases:
        body = await api.post(query, {"id": target}, tenant_a.operator)
        errors = body["data"][name]["errors"]
        assert errors, (name, body)
        if field:
            assert field in [e["field"] for e in errors], errors
    assert await api.ok(SITE_STATE, {"id": site_id}, tenant_a.viewer) == before
