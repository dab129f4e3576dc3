"""Charging sessions, prices, forecasts, external limits and the optimization configuration."""

from datetime import UTC, datetime, timedelta

from tests.api.helpers import demo_devices

START = """mutation($d: ID!, $pins: [Pin!]!, $t: ChargingTargetInput, $min: Float! = 6) {
  startChargingSession(deviceId: $d, usedChargingPins: $pins, target: $t, acMinCurrentA: $min) {
    chargingSession { id state usedChargingPins acMinCurrentA target { energyAmountNeeded leaveTime fullAutonomy } }
    errors { code field message } } }"""


async def world(api, tenant):
    _, site_id, devices = await demo_devices(api, tenant)
    return site_id, devices


async def test_a_session_starts_updates_suspends_and_ends(api, tenant_a):
    site_id, devices = await world(api, tenant_a)
    leave = (datetime.now(UTC) + timedelta(hours=4)).isoformat()
    started = await api.ok(
        START,
        {
            "d": devices["pole_entrance"],
            "pins": ["PIN1", "PIN2", "PIN3"],
            "t": {"energyAmountNeeded": 20000, "leaveTime": leave},
        },
        tenant_a.operator,
    )
    session = started["startChargingSession"]["chargingSession"]
    assert (session["state"], session["acMinCurrentA"], session["target"]["energyAmountNeeded"]) == (
        "STARTED",
        6.0,
        20000.0,
    )
    second = await api.post(START, {"d": devices["pole_entrance"], "pins": ["PIN1"]}, tenant_a.operator)
    assert second["data"]["startChargingSession"]["errors"][0]["code"] == "CONFLICT"
    updated = await api.ok(
        "mutation($id: ID!) { updateChargingSession(id: $id, usedChargingPins: [PIN1], target: {fullAutonomy: true}) { chargingSession { state usedChargingPins target { fullAutonomy energyAmountNeeded } } } }",
        {"id": session["id"]},
        tenant_a.operator,
    )
    assert updated["updateChargingSession"]["chargingSession"] == {
        "state": "UPDATED",
        "usedChargingPins": ["PIN1"],
        "target": {"fullAutonomy": True, "energyAmountNeeded": 20000.0},
    }
    suspended = await api.ok(
        "mutation($id: ID!) { updateChargingSession(id: $id, suspended: true) { chargingSession { state } } }",
        {"id": session["id"]},
        tenant_a.operator,
    )
    assert suspended["updateChargingSession"]["chargingSession"]["state"] == "SUSPENDED_EV"
    active = await api.ok(
        "query($id: ID!) { node(id: $id) { ... on ChargingPole { activeSession { id } } } }",
        {"id": devices["pole_entrance"]},
        tenant_a.viewer,
    )
    assert active["node"]["activeSession"] == {"id": session["id"]}
    ended = await api.ok(
        "mutation($id: ID!) { stopChargingSession(id: $id) { chargingSession { state endedAt } } }",
        {"id": session["id"]},
        tenant_a.operator,
    )
    assert ended["stopChargingSession"]["chargingSession"]["state"] == "ENDED"
    listed = await api.ok(
        "query($id: ID!) { node(id: $id) { ... on Site { chargingSessions { totalCount nodes { state } } } } }",
        {"id": site_id},
        tenant_a.viewer,
    )
    assert listed["node"]["chargingSessions"] == {"totalCount": 1, "nodes": [{"state": "ENDED"}]}
    again = await api.ok(START, {"d": devices["pole_entrance"], "pins": ["PIN2"]}, tenant_a.operator)
    assert again["startChargingSession"]["chargingSession"]["state"] == "STARTED"


async def test_session_input_rules(api, tenant_a, tenant_b):
    _, devices = await world(api, tenant_a)
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    cases = [
        ({"d": devices["pole_carport"], "pins": ["PIN2"]}, "usedChargingPins"),
        ({"d": devices["pole_carport"], "pins": ["PIN1"], "min": 40}, "acMinCurrentA"),
        ({"d": devices["pole_carport"], "pins": ["PIN1"], "t": {"leaveTime": past}}, "target.leaveTime"),
        ({"d": devices["pole_carport"], "pins": ["PIN1"], "t": {"carBatterySoc": 120}}, "target.carBatterySoc"),
    ]
    for variables, field in cases:
        body = await api.post(START, variables, tenant_a.operator)
        assert body["data"]["startChargingSession"]["errors"][0]["field"] == field, body
    not_a_pole = await api.post(START, {"d": devices["pv_roof"], "pins": ["PIN1"]}, tenant_a.operator)
    assert not_a_pole["data"]["startChargingSession"]["errors"][0]["field"] == "deviceId"
    foreign = await api.post(START, {"d": devices["pole_carport"], "pins": ["PIN1"]}, tenant_b.admin)
    assert foreign["data"]["startChargingSession"]["errors"][0]["code"] == "NOT_FOUND"


async def test_prices_forecasts_and_limits_replace_their_span(api, tenant_a):
    site_id, devices = await world(api, tenant_a)
    t0 = datetime(2026, 12, 1, tzinfo=UTC)
    hours = [(t0 + timedelta(hours=h)).isoformat() for h in range(6)]
    await api.ok(
        'mutation($s: ID!, $i: [PricePerkWhInput!]) { setPrices(siteId: $s, import: $i, export: [{timestamp: "2026-12-01T00:00:00Z", value: 0.05}]) { site { id } } }',
        {
            "s": site_id,
            "i": [
                {"timestamp": h, "value": v} for h, v in zip(hours, [0.20, 0.60, 0.10, 0.80, 0.40, 0.90], strict=True)
            ],
        },
        tenant_a.operator,
    )
    await api.ok(
        "mutation($s: ID!, $i: [PricePerkWhInput!]) { setPrices(siteId: $s, import: $i) { site { id } } }",
        {"s": site_id, "i": [{"timestamp": hours[2], "value": 0.15}, {"timestamp": hours[3], "value": 0.85}]},
        tenant_a.operator,
    )
    prices = await api.ok(
        "query($s: ID!, $f: DateTime!, $t: DateTime!) { node(id: $s) { ... on Site { prices(from: $f, to: $t) { import { value currency } export { value } } } } }",
        {"s": site_id, "f": hours[0], "t": (t0 + timedelta(days=1)).isoformat()},
        tenant_a.viewer,
    )
    assert [p["value"] for p in prices["node"]["prices"]["import"]] == [0.20, 0.60, 0.15, 0.85, 0.40, 0.90]
    assert prices["node"]["prices"]["export"] == [{"value": 0.05}]
    bad = await api.post(
        'mutation($s: ID!) { setPrices(siteId: $s, import: [{timestamp: "2026-12-01T01:00:00Z", value: 1}, {timestamp: "2026-12-01T00:00:00Z", value: 2}]) { errors { field } } }',
        {"s": site_id},
        tenant_a.operator,
    )
    assert bad["data"]["setPrices"]["errors"] == [{"field": "import[1].timestamp"}]
    bad_currency = await api.post(
        'mutation($s: ID!) { setPrices(siteId: $s, import: [{timestamp: "2026-12-01T00:00:00Z", value: 1, currency: "EUR"}], export: [{timestamp: "2026-12-01T00:00:00Z", value: 1, currency: "EU1"}]) { errors { field } } }',
        {"s": site_id},
        tenant_a.operator,
    )
    assert {"field": "export[0].currency"} in bad_currency["data"]["setPrices"]["errors"], bad_currency
    positive_pv = await api.post(
        'mutation($d: ID!) { setForecast(deviceId: $d, points: [{timestamp: "2026-12-01T00:00:00Z", powerValue: 500}]) { errors { code field message } } }',
        {"d": devices["pv_roof"]},
        tenant_a.operator,
    )
    assert positive_pv["data"]["setForecast"]["errors"][0]["field"] == "points[0].powerValue"
    await api.ok(
        'mutation($d: ID!) { setForecast(deviceId: $d, points: [{timestamp: "2026-12-01T10:00:00Z", phasePowerValues: [-1000, -1000, -1500]}]) { device { id } } }',
        {"d": devices["pv_roof"]},
        tenant_a.operator,
    )
    forecast = await api.ok(
        'query($d: ID!) { node(id: $d) { ... on ForecastedSeries { forecast(from: "2026-12-01T00:00:00Z", to: "2026-12-02T00:00:00Z") { powerValue phasePowerValues } } } }',
        {"d": devices["pv_roof"]},
        tenant_a.viewer,
    )
    assert forecast["node"]["forecast"] == [{"powerValue": -3500.0, "phasePowerValues": [-1000.0, -1000.0, -1500.0]}]
    await api.ok(
        'mutation($s: ID!) { setExternalLimits(siteId: $s, import: [{timestamp: "2026-12-01T00:00:00Z", acMaxCurrentA: 40}, {timestamp: "2026-12-01T06:00:00Z", totalPowerW: 20000}]) { site { id } } }',
        {"s": site_id},
        tenant_a.operator,
    )
    limits = await api.ok(
        'query($s: ID!) { node(id: $s) { ... on Site { externalLimits(from: "2026-12-01T00:00:00Z", to: "2026-12-02T00:00:00Z") { import { totalPowerW acMaxCurrentA } } } } }',
        {"s": site_id},
        tenant_a.viewer,
    )
    assert limits["node"]["externalLimits"]["import"] == [
        {"totalPowerW": None, "acMaxCurrentA": 40.0},
        {"totalPowerW": 20000.0, "acMaxCurrentA": None},
    ]


async def test_the_optimization_configuration_has_defaults_and_rules(api, tenant_a):
    site_id, _ = await world(api, tenant_a)
    query = "query($s: ID!) { node(id: $s) { ... on Site { optimizationConfiguration { costMinimization peakPricePerKw horizonSeconds stepSeconds solver timeLimitSeconds } } } }"
    default = (await api.ok(query, {"s": site_id}, tenant_a.viewer))["node"]["optimizationConfiguration"]
    assert default == {
        "costMinimization": True,
        "peakPricePerKw": None,
        "horizonSeconds": 86400,
        "stepSeconds": 900,
        "solver": "HIGHS",
        "timeLimitSeconds": 10.0,
    }
    await api.ok(
        'mutation($s: ID!) { setOptimizationConfiguration(siteId: $s, input: {peakPricePerKw: 4.5, solver: "ECOS", horizonSeconds: 43200}) { optimizationConfiguration { solver } } }',
        {"s": site_id},
        tenant_a.operator,
    )
    changed = (await api.ok(query, {"s": site_id}, tenant_a.viewer))["node"]["optimizationConfiguration"]
    assert (changed["peakPricePerKw"], changed["solver"], changed["horizonSeconds"], changed["stepSeconds"]) == (
        4.5,
        "ECOS",
        43200,
        900,
    )
    bad = await api.post(
        'mutation($s: ID!) { setOptimizationConfiguration(siteId: $s, input: {stepSeconds: 700, solver: "GUROBI"}) { errors { field } } }',
        {"s": site_id},
        tenant_a.operator,
    )
    assert {e["field"] for e in bad["data"]["setOptimizationConfiguration"]["errors"]} == {"stepSeconds", "solver"}
    assert (await api.ok(query, {"s": site_id}, tenant_a.viewer))["node"]["optimizationConfiguration"] == changed
