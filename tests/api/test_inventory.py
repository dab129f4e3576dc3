"""The inventory graph in one request, site status, and the site lists."""

from tests.api.helpers import APPLY, create_site, create_system, demo_document, ean, site_with_topology

INVENTORY = """
query {
  viewer { account {
    name
    children { nodes { name kind systems { totalCount nodes {
      name gateway { serialNumber model online }
      sites { nodes {
        name country gridIdentifier timezone status upstreamStatus
        location { address latitude longitude }
        supplyPoints { gridIdentifier direction }
        validation { validForOptimization missing { code } }
        mainCollector { name lineCurrent phaseVoltage phaseType nbOfPhases
          children { nodes { name lineCurrent phaseType phase phasePermutations { childPhase parentPhase }
            devices { nodes { name } } } }
          devices { totalCount } }
        devices { totalCount nodes {
          __typename name type lineCurrent collector { name } site { name } system { name }
          ... on ChargingPole { pinToPhaseMapping { pinList phaseList } }
          ... on ForecastedSeries { forecastType shouldBeAggregated }
          ... on Battery { chargingEfficiency dischargingEfficiency maximumChargingPower maximumDischargingPower
            operationalBatteryCapacity chargingPriority dischargingPriority
            policies { frequency dayOfWeek time timezone minimumStateOfCharge maximumStateOfCharge } }
        } }
      } }
    } } } }
  } }
}"""


async def test_one_request_returns_the_whole_inventory(api, tenant_a):
    customer = await api.ok(
        "mutation($i: CreateAccountInput!) { createAccount(input: $i) { account { id } errors { message } } }",
        {"i": {"name": "Residence", "kind": "CUSTOMER"}},
        tenant_a.admin,
    )
    customer_id = customer["createAccount"]["account"]["id"]
    system_id = await create_system(api, tenant_a.operator, customer_id, name="Home", serial="GW-1")
    site = await create_site(api, tenant_a.operator, system_id, name="Gent")
    await api.ok(APPLY, {"site": site["id"], "doc": demo_document()}, tenant_a.operator)

    data = await api.ok(INVENTORY, token=tenant_a.viewer)
    (customer_node,) = data["viewer"]["account"]["children"]["nodes"]
    assert customer_node["kind"] == "CUSTOMER"
    (system,) = customer_node["systems"]["nodes"]
    assert system["gateway"] == {"serialNumber": "GW-1", "model": "", "online": False}
    (site,) = system["sites"]["nodes"]
    assert site["status"] == "ONBOARDED"
    assert site["upstreamStatus"] == "NO_UPSTREAM_REGISTERED"
    assert site["supplyPoints"] == [{"gridIdentifier": ean(), "direction": "BIDIRECTIONAL"}]
    assert site["validation"] == {"validForOptimization": True, "missing": []}
    main = site["mainCollector"]
    assert (main["name"], main["lineCurrent"], main["phaseVoltage"], main["phaseType"]) == (
        "main_collector",
        63,
        230,
        "THREE_PHASE",
    )
    garage, carport = main["children"]["nodes"]
    assert garage["phasePermutations"] == [
        {"childPhase": "L1", "parentPhase": "L2"},
        {"childPhase": "L2", "parentPhase": "L3"},
        {"childPhase": "L3", "parentPhase": "L1"},
    ]
    assert (carport["phaseType"], carport["phase"], carport["lineCurrent"]) == ("SINGLE_PHASE", "L3", 16)
    assert [d["name"] for d in carport["devices"]["nodes"]] == ["pole_carport"]
    devices = {d["name"]: d for d in site["devices"]["nodes"]}
    assert site["devices"]["totalCount"] == 7
    assert devices["pole_garage_1"]["pinToPhaseMapping"] == {
        "pinList": ["PIN1", "PIN2", "PIN3"],
        "phaseList": ["L2", "L3", "L1"],
    }
    assert devices["pole_carport"]["collector"]["name"] == "carport_board"
    assert devices["pv_roof"]["__typename"] == "ForecastedSeries"
    assert (devices["pv_roof"]["forecastType"], devices["building_load"]["forecastType"]) == ("PV", "LOAD")
    battery = devices["battery_basement"]
    assert battery["__typename"] == "Battery"
    assert battery["operationalBatteryCapacity"] == 20000
    assert battery["policies"] == [
        {
            "frequency": "WEEKLY",
            "dayOfWeek": ["monday", "wednesday", "friday"],
            "time": "07:00",
            "timezone": "Europe/Brussels",
            "minimumStateOfCharge": 80,
            "maximumStateOfCharge": 100,
        }
    ]
    assert {d["site"]["name"] for d in devices.values()} == {"Gent"}


async def test_status_goes_from_no_resources_to_onboarded_with_the_first_device(api, tenant_a):
    system_id = await create_system(api, tenant_a.operator, tenant_a.account_id)
    site = await create_site(api, tenant_a.operator, system_id)
    assert site["status"] == "NO_RESOURCES"
    only_fuse = {"collector_list": demo_document()["collector_list"][:1], "device_list": []}
    only_fuse["collector_list"][0]["children"] = []
    data = await api.ok(APPLY, {"site": site["id"], "doc": only_fuse}, tenant_a.operator)
    assert data["applySiteConfiguration"]["site"]["status"] == "NO_RESOURCES"
    assert data["applySiteConfiguration"]["site"]["validation"]["missing"] == [{"code": "DEVICES"}]
    main_id = (
        await api.ok(
            "query($id: ID!) { node(id: $id) { ... on Site { mainCollector { id } } } }",
            {"id": site["id"]},
            tenant_a.viewer,
        )
    )["node"]["mainCollector"]["id"]
    pole = await api.ok(
        """mutation($c: ID!) { createChargingPole(collectorId: $c, input: {name: "p1", lineCurrent: 16,
             pinToPhaseMapping: {pinList: [PIN1], phaseList: [L2]}}) { device { id } errors { field message } } }""",
        {"c": main_id},
        tenant_a.operator,
    )
    status = await api.ok(
        "query($id: ID!) { node(id: $id) { ... on Site { status } } }", {"id": site["id"]}, tenant_a.viewer
    )
    assert status["node"]["status"] == "ONBOARDED"
    await api.ok(
        "mutation($id: ID!) { deleteDevice(id: $id) { deletedId } }",
        {"id": pole["createChargingPole"]["device"]["id"]},
        tenant_a.operator,
    )
    status = await api.ok(
        "query($id: ID!) { node(id: $id) { ... on Site { status } } }", {"id": site["id"]}, tenant_a.viewer
    )
    assert status["node"]["status"] == "NO_RESOURCES"


async def test_a_deleted_site_leaves_the_lists_and_its_devices_stay_with_the_system(api, tenant_a):
    system_id, site_id = await site_with_topology(api, tenant_a.operator, tenant_a.account_id)
    other = await create_site(api, tenant_a.operator, system_id, name="Other", identifier=ean("54144100000000999"))
    deleted = await api.ok(
        "mutation($id: ID!) { deleteSite(id: $id) { deletedId errors { message } } }",
        {"id": site_id},
        tenant_a.operator,
    )
    assert deleted["deleteSite"]["deletedId"] == site_id
    data = await api.ok(
        """query($sys: ID!, $site: ID!) {
             sites { totalCount nodes { id } }
             node(id: $site) { id }
             system: node(id: $sys) { ... on System { sites { totalCount } devices { totalCount nodes { site { id } collector { id } } } } }
           }""",
        {"sys": system_id, "site": site_id},
        tenant_a.viewer,
    )
    assert data["sites"] == {"totalCount": 1, "nodes": [{"id": other["id"]}]}
    assert data["node"] is None
    assert data["system"]["sites"]["totalCount"] == 1
    assert data["system"]["devices"]["totalCount"] == 7
    assert all(d["site"] is None and d["collector"] is None for d in data["system"]["devices"]["nodes"])
    # The grid identifier is free again.
    again = await create_site(api, tenant_a.operator, system_id, name="Again")
    assert again["status"] == "NO_RESOURCES"


async def test_sites_filter_by_status_and_grid_identifier_and_page(api, tenant_a):
    system_id = await create_system(api, tenant_a.operator, tenant_a.account_id)
    ids = [ean(f"5414410000000{i:04d}") for i in range(5)]
    for i, identifier in enumerate(ids):
        await create_site(api, tenant_a.operator, system_id, name=f"site {i}", identifier=identifier)
    page = await api.ok(
        "{ sites(first: 2) { totalCount edges { cursor node { name } } pageInfo { hasNextPage endCursor } } }",
        token=tenant_a.viewer,
    )
    assert page["sites"]["totalCount"] == 5
    assert [e["node"]["name"] for e in page["sites"]["edges"]] == ["site 0", "site 1"]
    rest = await api.ok(
        "query($after: String) { sites(first: 10, after: $after) { nodes { name } pageInfo { hasNextPage hasPreviousPage } } }",
        {"after": page["sites"]["pageInfo"]["endCursor"]},
        tenant_a.viewer,
    )
    assert [n["name"] for n in rest["sites"]["nodes"]] == ["site 2", "site 3", "site 4"]
    assert rest["sites"]["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": True}
    spaced = " ".join(ids[3][i : i + 6] for i in range(0, 18, 6)).lower()
    found = await api.ok(
        "query($g: String) { sites(gridIdentifier: $g) { nodes { name } } }", {"g": spaced}, tenant_a.viewer
    )
    assert found["sites"]["nodes"] == [{"name": "site 3"}]
    onboarded = await api.ok("{ sites(status: ONBOARDED) { totalCount } }", token=tenant_a.viewer)
    assert onboarded["sites"]["totalCount"] == 0
    too_big = await api.post("{ sites(first: 100000) { totalCount } }", token=tenant_a.viewer)
    assert too_big["errors"][0]["extensions"]["code"] == "OUT_OF_RANGE" or "first" in too_big["errors"][0]["message"]
