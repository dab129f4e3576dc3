"""Issue 15 end to end: Pleevi's document with a DC pole and switchable and bidirectional AC poles, sessions over
GraphQL, optimizeSite on PostgreSQL, and the run's enforced limits (acMaxPhaseCount, totalPowerW, negative)."""

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.api.helpers import APPLY, create_site, create_system

OPTIMIZE = """mutation($s: ID!) { optimizeSite(siteId: $s) { errors { code message }
  run { status usedFallback
        schedules { power device { name } current { phase values } }
        sessions { target delivered unmet carEnergy device { name } }
        enforcedLimits { limitsRootSide { acMaxCurrentA totalPowerW acMaxPhaseCount } device { name } }
        bindingLimits { kind direction explanation heldBack { name } } } } }"""
START = """mutation($d: ID!, $pins: [Pin!]!, $t: ChargingTargetInput, $min: Int) {
  startChargingSession(deviceId: $d, usedChargingPins: $pins, target: $t, minPhaseCount: $min) {
    chargingSession { id minPhaseCount target { allowDischarge carBatteryCapacity minSocPercent } }
    errors { code field message } } }"""


def _document() -> dict[str, Any]:
    return {
        "collector_list": [
            {"name": "main", "children": ["board"], "line_current": 250, "phase_voltage": 230},
            {
                "name": "board",
                "line_current": 125,
                "phase_voltage": 230,
                "phase_permutations": {"L1": "L2", "L2": "L3", "L3": "L1"},
            },
        ],
        "device_list": [
            {"name": "dc", "collector": "board", "type": "dc_charging_pole", "maximum_power": 50000.0,
             "conversion_efficiency": 0.95},
            {"name": "switchable", "collector": "board", "type": "charging_pole_3phase", "line_current": 32.0,
             "supports_phase_switching": True,
             "pin_to_phase_mapping": {"pin_list": ["pin1", "pin2", "pin3"], "phase_list": ["L3", "L1", "L2"]}},
            {"name": "v2g", "collector": "main", "type": "charging_pole_3phase", "line_current": 16.0,
             "bidirectional": True,
             "pin_to_phase_mapping": {"pin_list": ["pin1", "pin2", "pin3"], "phase_list": ["L1", "L2", "L3"]}},
            {"name": "pv", "collector": "main", "type": "forecasted_series_3phase", "line_current": 100.0,
             "forecast_type": "pv"},
        ],
    }  # fmt: skip


async def _site(api: Any, tenant: Any) -> tuple[str, dict[str, str]]:
    system_id = await create_system(api, tenant.operator, tenant.account_id)
    site = await create_site(api, tenant.operator, system_id)
    applied = await api.ok(APPLY, {"site": site["id"], "doc": _document()}, tenant.operator)
    assert applied["applySiteConfiguration"]["errors"] == []
    query = """query($id: ID!) { node(id: $id) { ... on Site { devices { nodes { id name __typename
        ... on DcChargingPole { maximumPower conversionEfficiency lineCurrent minimumPower }
        ... on ChargingPole { supportsPhaseSwitching bidirectional } } } } } }"""
    nodes = (await api.ok(query, {"id": site["id"]}, tenant.viewer))["node"]["devices"]["nodes"]
    by_name = {n["name"]: n for n in nodes}
    assert by_name["dc"]["__typename"] == "DcChargingPole"
    assert by_name["dc"]["maximumPower"] == 50000.0 and by_name["dc"]["conversionEfficiency"] == 0.95
    assert by_name["switchable"]["supportsPhaseSwitching"] is True
    assert by_name["v2g"]["bidirectional"] is True and by_name["v2g"]["supportsPhaseSwitching"] is False
    return site["id"], {n["name"]: n["id"] for n in nodes}


async def _hourly(api: Any, tenant: Any, site_id: str, prices: list[float], export: list[float]) -> datetime:
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    await api.ok(
        "mutation($s: ID!) { setOptimizationConfiguration(siteId: $s, input: {horizonSeconds: 21600, "
        "stepSeconds: 3600}) { errors { field } } }",
        {"s": site_id},
        tenant.operator,
    )

    def points(values: list[float]) -> list[dict[str, Any]]:
        return [{"timestamp": (start + timedelta(hours=h)).isoformat(), "value": v} for h, v in enumerate(values)]

    await api.ok(
        "mutation($s: ID!, $i: [PricePerkWhInput!], $e: [PricePerkWhInput!]) { setPrices(siteId: $s, import: $i, "
        "export: $e) { errors { field } } }",
        {"s": site_id, "i": points(prices), "e": points(export)},
        tenant.operator,
    )
    return start


def _limits(run: dict[str, Any]) -> dict[str, dict[str, float]]:
    return {e["device"]["name"]: e["limitsRootSide"] for e in run["enforcedLimits"]}


async def test_a_dc_pole_from_the_document_charges_at_50_kw_with_balanced_ac_current(api, tenant_a):
    site_id, devices = await _site(api, tenant_a)
    await _hourly(api, tenant_a, site_id, [0.1] * 6, [0.0] * 6)
    started = await api.ok(
        START, {"d": devices["dc"], "pins": ["PIN1", "PIN2", "PIN3"], "t": {"energyAmountNeeded": 400_000}},
        tenant_a.operator,
    )  # fmt: skip
    assert started["startChargingSession"]["errors"] == []
    run = (await api.ok(OPTIMIZE, {"s": site_id}, tenant_a.operator))["optimizeSite"]["run"]
    assert run["status"] == "optimal"
    expected = 50000 / 0.95 / (3 * 230)
    limit = _limits(run)["dc"]
    assert abs(limit["acMaxCurrentA"] - expected) < 1e-3
    assert abs(limit["totalPowerW"] - 50000 / 0.95) < 1.0
    assert limit["acMaxPhaseCount"] == 3
    schedule = next(s for s in run["schedules"] if s["device"]["name"] == "dc")
    for phase in schedule["current"]:
        assert abs(phase["values"][0] - expected) < 1e-3


async def test_three_kw_of_surplus_charges_a_switchable_pole_on_one_phase(api, tenant_a):
    site_id, devices = await _site(api, tenant_a)
    start = await _hourly(api, tenant_a, site_id, [0.3] * 6, [0.0] * 6)
    forecast = [{"timestamp": (start + timedelta(hours=h)).isoformat(), "powerValue": -3000.0} for h in range(6)]
    await api.ok(
        "mutation($d: ID!, $p: [ForecastPointInput!]!) { setForecast(deviceId: $d, points: $p) { errors { field } } }",
        {"d": devices["pv"], "p": forecast},
        tenant_a.operator,
    )
    started = await api.ok(
        START,
        {"d": devices["switchable"], "pins": ["PIN1", "PIN2", "PIN3"], "min": 1,
         "t": {"energyAmountNeeded": 30_000, "fullAutonomy": True}},
        tenant_a.operator,
    )  # fmt: skip
    assert started["startChargingSession"]["chargingSession"]["minPhaseCount"] == 1
    run = (await api.ok(OPTIMIZE, {"s": site_id}, tenant_a.operator))["optimizeSite"]["run"]
    limit = _limits(run)["switchable"]
    assert limit["acMaxPhaseCount"] == 1
    assert 12.5 < limit["acMaxCurrentA"] < 13.1
    session = await api.ok(
        "query($d: ID!) { node(id: $d) { ... on ChargingPole { activeSession { activePhaseCount phaseSwitchedAt } } } }",
        {"d": devices["switchable"]},
        tenant_a.viewer,
    )
    active = session["node"]["activeSession"]
    assert active["activePhaseCount"] == 1 and active["phaseSwitchedAt"] is not None


async def test_a_bidirectional_car_discharges_in_the_evening_peak_within_the_export_limit(api, tenant_a):
    site_id, devices = await _site(api, tenant_a)
    prices = [0.6, 0.6, 0.1, 0.1, 0.1, 0.1]
    start = await _hourly(api, tenant_a, site_id, prices, prices)
    await api.ok(
        "mutation($s: ID!, $e: [ExternalLimitInput!]) { setExternalLimits(siteId: $s, export: $e) { errors { field } } }",
        {"s": site_id, "e": [{"timestamp": start.isoformat(), "totalPowerW": 5000.0}]},
        tenant_a.operator,
    )
    target = {
        "energyAmountNeeded": 5_000,
        "leaveTime": (start + timedelta(hours=6)).isoformat(),
        "carBatterySoc": 50.0,
        "allowDischarge": True,
        "carBatteryCapacity": 60_000,
        "minSocPercent": 20.0,
    }
    started = await api.ok(
        START, {"d": devices["v2g"], "pins": ["PIN1", "PIN2", "PIN3"], "t": target}, tenant_a.operator
    )
    assert started["startChargingSession"]["chargingSession"]["target"]["allowDischarge"] is True
    run = (await api.ok(OPTIMIZE, {"s": site_id}, tenant_a.operator))["optimizeSite"]["run"]
    limit = _limits(run)["v2g"]
    v2g = next(s for s in run["schedules"] if s["device"]["name"] == "v2g")
    assert limit["acMaxCurrentA"] <= -6.0 and limit["totalPowerW"] < 0, (limit, v2g["power"], run["sessions"])
    assert -limit["totalPowerW"] <= 5000.0 + 1e-6
    (outcome,) = [s for s in run["sessions"] if s["device"]["name"] == "v2g"]
    assert min(outcome["carEnergy"]) >= 12_000 - 1e-3
    assert outcome["delivered"] >= 5_000 - 1.0 and outcome["unmet"] < 1.0
    export = [b for b in run["bindingLimits"] if b["kind"] == "external_export_power"]
    assert export and {"name": "v2g"} in export[0]["heldBack"]


async def test_dc_poles_and_pole_flags_through_the_granular_mutations(api, tenant_a):
    system_id = await create_system(api, tenant_a.operator, tenant_a.account_id)
    site = await create_site(api, tenant_a.operator, system_id)
    main = await api.ok(
        'mutation($s: ID!) { createCollector(siteId: $s, input: {name: "main", lineCurrent: 100, phaseVoltage: 230}) '
        "{ collector { id } } }",
        {"s": site["id"]},
        tenant_a.operator,
    )
    main_id = main["createCollector"]["collector"]["id"]
    created = await api.ok(
        """mutation($c: ID!) { createDcChargingPole(collectorId: $c, input: {name: "fast", maximumPower: 22000,
             conversionEfficiency: 0.9, minimumPower: 3000}) {
             device { id ... on DcChargingPole { maximumPower conversionEfficiency minimumPower bidirectional
               flexibility { maxActivePower } } } errors { code field message } } }""",
        {"c": main_id},
        tenant_a.operator,
    )
    device = created["createDcChargingPole"]["device"]
    assert (device["maximumPower"], device["conversionEfficiency"], device["minimumPower"]) == (22000.0, 0.9, 3000.0)
    assert abs(device["flexibility"]["maxActivePower"] - 22000 / 0.9) < 1e-6
    refused = await api.post(
        """mutation($c: ID!) { createDcChargingPole(collectorId: $c, input: {name: "bad", maximumPower: 22000,
             conversionEfficiency: 1.5}) { errors { code field } } }""",
        {"c": main_id},
        tenant_a.operator,
    )
    assert refused["data"]["createDcChargingPole"]["errors"] == [
        {"code": "OUT_OF_RANGE", "field": "input.conversionEfficiency"}
    ]
    pole = await api.ok(
        """mutation($c: ID!) { createChargingPole(collectorId: $c, input: {name: "ac", lineCurrent: 32,
             pinToPhaseMapping: {pinList: [PIN1, PIN2, PIN3], phaseList: [L1, L2, L3]}}) { device { id } } }""",
        {"c": main_id},
        tenant_a.operator,
    )
    updated = await api.ok(
        """mutation($d: ID!) { updateChargingPole(id: $d, input: {supportsPhaseSwitching: true, bidirectional: true}) {
             device { ... on ChargingPole { supportsPhaseSwitching bidirectional } } errors { code } } }""",
        {"d": pole["createChargingPole"]["device"]["id"]},
        tenant_a.operator,
    )
    assert updated["updateChargingPole"]["device"] == {"supportsPhaseSwitching": True, "bidirectional": True}
