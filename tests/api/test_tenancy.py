"""Nobody sees or changes another account's data; roles gate writes; anonymous callers only log in."""

import pytest

from tests.api.helpers import (
    APPLY,
    SITE_STATE,
    create_site,
    create_system,
    demo_document,
    ean,
    site_with_topology,
)

IDS = """
query($site: ID!) { node(id: $site) { ... on Site { id system { id gateway { id } } mainCollector { id }
  devices(first: 10) { nodes { id } } } } }"""


async def a_world(api, tenant):
    system_id, site_id = await site_with_topology(api, tenant.operator, tenant.account_id)
    await api.ok(
        'mutation($s: ID!) { createGateway(systemId: $s, input: {serialNumber: "GW-A"}) { errors { message } } }',
        {"s": system_id},
        tenant.operator,
    )
    ids = (await api.ok(IDS, {"site": site_id}, tenant.viewer))["node"]
    return {
        "Account": tenant.account_id,
        "System": system_id,
        "Site": site_id,
        "Gateway": ids["system"]["gateway"]["id"],
        "Collector": ids["mainCollector"]["id"],
        "Device": ids["devices"]["nodes"][0]["id"],
    }


async def test_b_cannot_read_anything_of_a(api, tenant_a, tenant_b):
    a = await a_world(api, tenant_a)
    await site_with_topology(api, tenant_b.operator, tenant_b.account_id, identifier=ean("54144100000000777"))
    lists = await api.ok(
        "{ accounts { totalCount nodes { name } } systems { totalCount } sites { totalCount nodes { id } } }",
        token=tenant_b.admin,
    )
    assert lists["accounts"]["nodes"] == [{"name": "bravo"}]
    assert lists["systems"]["totalCount"] == 1
    assert a["Site"] not in [n["id"] for n in lists["sites"]["nodes"]]
    for type_name, global_id in a.items():
        data = await api.ok("query($id: ID!) { node(id: $id) { id } }", {"id": global_id}, tenant_b.admin)
        assert data["node"] is None, type_name
    # Nested: B's account has no parent or child to climb into A.
    nested = await api.ok("{ viewer { account { parent { id } children { totalCount } } } }", token=tenant_b.admin)
    assert nested["viewer"]["account"] == {"parent": None, "children": {"totalCount": 0}}


MUTATIONS = {
    "updateAccount": (
        'mutation($id: ID!) { updateAccount(id: $id, input: {name: "x"}) { errors { code } } }',
        "Account",
    ),
    "deleteAccount": ("mutation($id: ID!) { deleteAccount(id: $id) { errors { code } } }", "Account"),
    "updateSystem": (
        'mutation($id: ID!) { updateSystem(id: $id, input: {name: "x"}) { errors { code } } }',
        "System",
    ),
    "deleteSystem": ("mutation($id: ID!) { deleteSystem(id: $id) { errors { code } } }", "System"),
    "updateGateway": (
        "mutation($id: ID!) { updateGateway(id: $id, input: {online: true}) { errors { code } } }",
        "Gateway",
    ),
    "updateSite": (
        'mutation($id: ID!) { updateSite(id: $id, input: {name: "x"}) { errors { code } } }',
        "Site",
    ),
    "deleteSite": ("mutation($id: ID!) { deleteSite(id: $id) { errors { code } } }", "Site"),
    "applySiteConfiguration": (
        "mutation($id: ID!) { applySiteConfiguration(siteId: $id, document: {collector_list: [], device_list: []}) { errors { code } } }",
        "Site",
    ),
    "updateCollector": (
        "mutation($id: ID!) { updateCollector(id: $id, input: {lineCurrent: 10}) { errors { code } } }",
        "Collector",
    ),
    "deleteCollector": ("mutation($id: ID!) { deleteCollector(id: $id) { errors { code } } }", "Collector"),
    "deleteDevice": ("mutation($id: ID!) { deleteDevice(id: $id) { errors { code } } }", "Device"),
    "createSystem": (
        'mutation($id: ID!) { createSystem(input: {accountId: $id, name: "x"}) { errors { code } } }',
        "Account",
    ),
    "createUser": (
        'mutation($id: ID!) { createUser(input: {accountId: $id, email: "x@y.zz", password: "0123456789ab"}) { errors { code } } }',
        "Account",
    ),
    "createApiKey": (
        'mutation($id: ID!) { createApiKey(input: {accountId: $id, name: "k"}) { errors { code } } }',
        "Account",
    ),
    "createCollector": (
        'mutation($id: ID!) { createCollector(siteId: $id, input: {name: "c", lineCurrent: 10, phaseVoltage: 230}) { errors { code } } }',
        "Site",
    ),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
async def test_b_cannot_change_anything_of_a(api, tenant_a, tenant_b, name):
    a = await a_world(api, tenant_a)
    before = await api.ok(SITE_STATE, {"id": a["Site"]}, tenant_a.viewer)
    query, target = MUTATIONS[name]
    body = await api.post(query, {"id": a[target]}, tenant_b.admin)
    assert "errors" not in body, body
    assert body["data"][name]["errors"][0]["code"] == "NOT_FOUND"
    assert await api.ok(SITE_STATE, {"id": a["Site"]}, tenant_a.viewer) == before
    names = await api.ok("{ systems { nodes { name } } accounts { nodes { name } } }", token=tenant_a.viewer)
    assert names == {
        "systems": {"nodes": [{"name": "Installation"}]},
        "accounts": {"nodes": [{"name": "alpha"}]},
    }


async def test_a_wrong_role_gets_forbidden_and_writes_nothing(api, tenant_a):
    system_id = await create_system(api, tenant_a.operator, tenant_a.account_id)
    site = await create_site(api, tenant_a.operator, system_id)
    as_viewer = await api.post(APPLY, {"site": site["id"], "doc": demo_document()}, tenant_a.viewer)
    assert as_viewer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert as_viewer["data"] is None
    as_operator = await api.post(
        'mutation($id: ID!) { createUser(input: {accountId: $id, email: "x@y.zz", password: "0123456789ab"}) { errors { code } } }',
        {"id": tenant_a.account_id},
        tenant_a.operator,
    )
    assert as_operator["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    state = await api.ok(SITE_STATE, {"id": site["id"]}, tenant_a.viewer)
    assert state["node"]["devices"]["totalCount"] == 0
    users = await api.ok("{ viewer { account { users { totalCount } } } }", token=tenant_a.admin)
    assert users["viewer"]["account"]["users"]["totalCount"] == 3


@pytest.mark.parametrize(
    "query",
    [
        "{ viewer { role } }",
        "{ sites { totalCount } }",
        "{ systems { totalCount } }",
        "{ accounts { totalCount } }",
        '{ node(id: "U2l0ZTo1ZjNlMTJmYy0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMDA=") { id } }',
        'mutation { createSystem(input: {accountId: "QWNjb3VudDox", name: "x"}) { errors { code } } }',
    ],
)
async def test_no_token_gets_unauthenticated(api, query):
    body = await api.post(query)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_bad_token_gets_unauthenticated_but_login_still_works(api, tenant_a):
    body = await api.post("{ viewer { role } }", token="not-a-token")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    wrong = await api.post('mutation { login(email: "admin@alpha.test", password: "nope") { token errors { code } } }')
    assert wrong["data"]["login"] == {"token": None, "errors": [{"code": "UNAUTHENTICATED"}]}


async def test_api_keys_are_shown_once_bound_to_their_account_and_revocable(api, tenant_a, tenant_b):
    created = await api.ok(
        'mutation($a: ID!) { createApiKey(input: {accountId: $a, name: "partner", role: OPERATOR}) { secret apiKey { id prefix } } }',
        {"a": tenant_a.account_id},
        tenant_a.admin,
    )
    secret = created["createApiKey"]["secret"]
    key_id = created["createApiKey"]["apiKey"]["id"]
    assert secret.startswith("pwk_" + created["createApiKey"]["apiKey"]["prefix"])
    viewer = await api.ok("{ viewer { role isApiKey user { id } account { name } } }", token=secret)
    assert viewer["viewer"] == {
        "role": "OPERATOR",
        "isApiKey": True,
        "user": None,
        "account": {"name": "alpha"},
    }
    system_id = await create_system(api, secret, tenant_a.account_id, name="By partner")
    assert system_id
    listed = await api.ok("{ viewer { account { apiKeys { nodes { name prefix } } } } }", token=tenant_a.admin)
    assert "secret" not in str(listed)
    cross = await api.post(
        'mutation($a: ID!) { createSystem(input: {accountId: $a, name: "x"}) { errors { code } } }',
        {"a": tenant_b.account_id},
        secret,
    )
    assert cross["data"]["createSystem"]["errors"][0]["code"] == "NOT_FOUND"
    await api.ok("mutation($id: ID!) { deleteApiKey(id: $id) { deletedId } }", {"id": key_id}, tenant_a.admin)
    revoked = await api.post("{ viewer { role } }", token=secret)
    assert revoked["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    forged = await api.post("{ viewer { role } }", token=secret[:-4] + "AAAA")
    assert forged["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_statement_built_for_one_caller_reads_every_other_callers_own_subtree(api, tenant_a, tenant_b):
    """Loader statements are built once per process (resolvers.statements): the caller's subtree is a value
    of each read, so callers taking turns on the same query each see their own rows only."""
    _, site_a = await site_with_topology(api, tenant_a.operator, tenant_a.account_id)
    _, site_b = await site_with_topology(
        api, tenant_b.operator, tenant_b.account_id, identifier=ean("54144100000000778")
    )
    query = "{ sites { nodes { id devices { nodes { id } } mainCollector { children { nodes { id } } } } } }"
    seen: dict[str, set[str]] = {}
    for tenant, site in [(tenant_a, site_a), (tenant_b, site_b), (tenant_a, site_a), (tenant_b, site_b)]:
        nodes = (await api.ok(query, token=tenant.viewer))["sites"]["nodes"]
        assert [n["id"] for n in nodes] == [site]
        devices = {d["id"] for n in nodes for d in n["devices"]["nodes"]}
        assert devices and seen.setdefault(site, devices) == devices
    assert not seen[site_a] & seen[site_b]
