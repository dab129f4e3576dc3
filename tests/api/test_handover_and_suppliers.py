"""A system handed to another account takes everything on it along; suppliers alone register upstream."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.api.conftest import PASSWORD, Api
from tests.api.helpers import create_site, create_system, demo_devices, ean

CREATE_ACCOUNT = (
    "mutation($i: CreateAccountInput!) { createAccount(input: $i) { account { id } errors { code field } } }"
)
CREATE_USER = "mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } errors { code field message } } }"
HAND_OVER = """mutation($id: ID!, $a: ID!) { updateSystem(id: $id, input: {accountId: $a}) {
  system { id account { id } } errors { code field message } } }"""
WORLD = """query($id: ID!) { node(id: $id) { ... on System { id gateway { id } sites { nodes { id
  collectors { nodes { id } } devices { nodes { id ... on ChargingPole { constraints { nodes { id } } } } } } } } } }"""
CONSTRAINT = """mutation($d: ID!, $at: DateTime!) { setConstraint(deviceId: $d, priority: 1, invalidAt: $at,
  maxActivePower: 5000) { constraint { id } errors { code message } } }"""


async def test_a_system_is_handed_over_with_everything_on_it(api: Api, tenant_a, tenant_b) -> None:
    system_id, site_id, devices = await demo_devices(api, tenant_a)
    await api.ok(
        'mutation($s: ID!) { createGateway(systemId: $s, input: {serialNumber: "GW-H"}) { errors { message } } }',
        {"s": system_id},
        tenant_a.operator,
    )
    at = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    pole = next(i for name, i in devices.items() if "pole" in name.lower() or "charg" in name.lower())
    await api.ok(CONSTRAINT, {"d": pole, "at": at}, tenant_a.operator)
    before = (await api.ok(WORLD, {"id": system_id}, tenant_a.viewer))["node"]
    child = (await api.ok(CREATE_ACCOUNT, {"i": {"name": "Installer", "kind": "ORGANIZATION"}}, tenant_a.admin))[
        "createAccount"
    ]["account"]["id"]
    await api.ok(
        CREATE_USER,
        {"i": {"accountId": child, "email": "viewer@installer.test", "password": PASSWORD}},
        tenant_a.admin,
    )
    child_viewer = await api.login("viewer@installer.test")
    assert (await api.ok(WORLD, {"id": system_id}, child_viewer))["node"] is None

    moved = await api.ok(HAND_OVER, {"id": system_id, "a": child}, tenant_a.operator)
    assert moved["updateSystem"]["system"]["account"]["id"] == child
    # The new account sees the whole system, and so does the parent that handed it over.
    assert (await api.ok(WORLD, {"id": system_id}, child_viewer))["node"] == before
    assert (await api.ok(WORLD, {"id": system_id}, tenant_a.viewer))["node"] == before
    # Everything moved: each object is the child's by node(id) too.
    ids = [before["gateway"]["id"], site_id, *devices.values()]
    ids += [c["id"] for s in before["sites"]["nodes"] for c in s["collectors"]["nodes"]]
    for global_id in ids:
        found = await api.ok("query($id: ID!) { node(id: $id) { id } }", {"id": global_id}, child_viewer)
        assert found["node"] == {"id": global_id}
    # Another tenant still cannot take it, nor can it be handed outside the caller's subtree.
    refused = await api.post(HAND_OVER, {"id": system_id, "a": tenant_b.account_id}, tenant_b.operator)
    assert refused["data"]["updateSystem"]["errors"][0]["code"] == "NOT_FOUND"
    across = await api.post(HAND_OVER, {"id": system_id, "a": tenant_b.account_id}, tenant_a.operator)
    assert across["data"]["updateSystem"]["errors"][0]["code"] == "NOT_FOUND"


UPSTREAM = """mutation($i: CreateUpstreamSiteInput!) { createUpstreamSite(input: $i) { upstreamSite { id }
  errors { code field message } } }"""
CONTRACT = """mutation($i: CreateContractInput!) { createContract(input: $i) { contract { id }
  errors { code field message } } }"""
STATUS = "query($id: ID!) { node(id: $id) { ... on Site { upstreamStatus } } }"


async def test_only_suppliers_register_upstream_sites_and_contracts(api: Api, tenant_a, tenant_b, supplier) -> None:
    system_id = await create_system(api, tenant_a.operator, tenant_a.account_id)
    site = await create_site(api, tenant_a.operator, system_id)
    claim = {"country": "BE", "gridIdentifier": ean(), "supplier": "Rogue"}
    for tenant in (tenant_a, tenant_b):
        body = await api.post(UPSTREAM, {"i": {**claim, "accountId": tenant.account_id}}, tenant.operator)
        (error,) = body["data"]["createUpstreamSite"]["errors"]
        assert (error["code"], error["field"]) == ("FORBIDDEN", "accountId"), error
    assert (await api.ok(STATUS, {"id": site["id"]}, tenant_a.viewer))["node"]["upstreamStatus"] == (
        "NO_UPSTREAM_REGISTERED"
    )
    # No tenant can make itself (or a child) a supplier.
    body = await api.post(CREATE_ACCOUNT, {"i": {"name": "Fake supplier", "kind": "SUPPLIER"}}, tenant_b.admin)
    assert body["data"]["createAccount"]["errors"] == [{"code": "FORBIDDEN", "field": "kind"}]
    body = await api.post(
        "mutation($id: ID!) { updateAccount(id: $id, input: {kind: SUPPLIER}) { errors { code field } } }",
        {"id": tenant_b.account_id},
        tenant_b.admin,
    )
    assert body["data"]["updateAccount"]["errors"] == [{"code": "FORBIDDEN", "field": "kind"}]

    # The supplier registers the grid identifier and a contract: the site's status follows.
    upstream = await api.ok(UPSTREAM, {"i": {**claim, "accountId": supplier.account_id}}, supplier.operator)
    upstream_id = upstream["createUpstreamSite"]["upstreamSite"]["id"]
    start = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    contract = await api.ok(
        CONTRACT, {"i": {"upstreamSiteId": upstream_id, "startAt": start, "agreed": True}}, supplier.operator
    )
    contract_id = contract["createContract"]["contract"]["id"]
    assert (await api.ok(STATUS, {"id": site["id"]}, tenant_a.viewer))["node"]["upstreamStatus"] == "CONTRACT_ACTIVE"

    # The claims are the concerned accounts' own: the site owner sees only its status, other tenants nothing.
    for tenant in (tenant_a, tenant_b):
        for global_id in (upstream_id, contract_id):
            found = await api.ok("query($id: ID!) { node(id: $id) { id } }", {"id": global_id}, tenant.admin)
            assert found["node"] is None
        assert (await api.ok("{ viewer { account { upstreamSites { totalCount } } } }", token=tenant.admin))["viewer"][
            "account"
        ]["upstreamSites"]["totalCount"] == 0
    assert (await api.ok(STATUS, {"id": site["id"]}, tenant_b.viewer))["node"] is None
    assert (await api.ok(STATUS, {"id": site["id"]}, supplier.viewer))["node"] is None
    assert (await api.ok("{ sites { totalCount } }", token=supplier.viewer))["sites"]["totalCount"] == 0
