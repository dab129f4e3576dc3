"""Account tree edits, users, clusters and system pools."""

from tests.api.conftest import PASSWORD
from tests.api.helpers import create_system, site_with_topology

CREATE_ACCOUNT = (
    "mutation($i: CreateAccountInput!) { createAccount(input: $i) { account { id } errors { code field } } }"
)


async def account(api, token, name, kind="ORGANIZATION", parent=None):
    data = await api.ok(CREATE_ACCOUNT, {"i": {"name": name, "kind": kind, "parentId": parent}}, token)
    return data["createAccount"]["account"]["id"]


async def test_accounts_move_with_their_subtree_and_delete_only_when_empty(api, tenant_a):
    east = await account(api, tenant_a.admin, "east")
    west = await account(api, tenant_a.admin, "west")
    shop = await account(api, tenant_a.admin, "shop", "CUSTOMER", east)
    leaf_child = await api.post(
        CREATE_ACCOUNT, {"i": {"name": "x", "kind": "CUSTOMER", "parentId": shop}}, tenant_a.admin
    )
    assert leaf_child["data"]["createAccount"]["errors"][0]["field"] == "parentId"
    system_id = await create_system(api, tenant_a.operator, shop, name="shop system")
    below_itself = await api.post(
        "mutation($id: ID!, $p: ID!) { updateAccount(id: $id, input: {parentId: $p}) { errors { code } } }",
        {"id": east, "p": shop},
        tenant_a.admin,
    )
    assert below_itself["data"]["updateAccount"]["errors"][0]["code"] in {"CYCLE", "INVALID"}
    await api.ok(
        "mutation($id: ID!, $p: ID!) { updateAccount(id: $id, input: {parentId: $p}) { account { id } } }",
        {"id": east, "p": west},
        tenant_a.admin,
    )
    tree = await api.ok(
        "query($id: ID!) { node(id: $id) { ... on Account { name children { nodes { name children { nodes { name systems { nodes { id } } } } } } } } }",
        {"id": west},
        tenant_a.viewer,
    )
    assert tree["node"]["children"]["nodes"] == [
        {"name": "east", "children": {"nodes": [{"name": "shop", "systems": {"nodes": [{"id": system_id}]}}]}}
    ]
    # A user of the moved subtree still sees its own part, and not above.
    await api.ok(
        'mutation($a: ID!) { createUser(input: {accountId: $a, email: "owner@shop.test", password: "owner-password", role: VIEWER}) { user { id } } }',
        {"a": shop},
        tenant_a.admin,
    )
    owner = await api.login("owner@shop.test", "owner-password")
    mine = await api.ok(
        "{ accounts { nodes { name } } systems { totalCount } viewer { account { parent { name } } } }",
        token=owner,
    )
    assert mine == {
        "accounts": {"nodes": [{"name": "shop"}]},
        "systems": {"totalCount": 1},
        "viewer": {"account": {"parent": None}},
    }
    not_empty = await api.post(
        "mutation($id: ID!) { deleteAccount(id: $id) { errors { code } } }", {"id": west}, tenant_a.admin
    )
    assert not_empty["data"]["deleteAccount"]["errors"] == [{"code": "CONFLICT"}]
    own = await api.post(
        "mutation($id: ID!) { deleteAccount(id: $id) { errors { code } } }",
        {"id": tenant_a.account_id},
        tenant_a.admin,
    )
    assert own["data"]["deleteAccount"]["errors"] == [{"code": "FORBIDDEN"}]
    await api.ok("mutation($id: ID!) { deleteAccount(id: $id) { deletedId } }", {"id": shop}, tenant_a.admin)
    assert (await api.ok("{ systems { totalCount } }", token=tenant_a.viewer))["systems"]["totalCount"] == 0


async def test_users_are_managed_by_admins(api, tenant_a):
    created = await api.ok(
        'mutation($a: ID!) { createUser(input: {accountId: $a, email: " New@Alpha.Test ", password: "a-long-password", role: OPERATOR}) { user { id email role } } }',
        {"a": tenant_a.account_id},
        tenant_a.admin,
    )
    user = created["createUser"]["user"]
    assert (user["email"], user["role"]) == ("new@alpha.test", "OPERATOR")
    duplicate = await api.post(
        'mutation($a: ID!) { createUser(input: {accountId: $a, email: "new@alpha.test", password: "a-long-password"}) { errors { code field } } }',
        {"a": tenant_a.account_id},
        tenant_a.admin,
    )
    assert duplicate["data"]["createUser"]["errors"] == [{"code": "DUPLICATE", "field": "email"}]
    short = await api.post(
        'mutation($a: ID!) { createUser(input: {accountId: $a, email: "b@alpha.test", password: "short"}) { errors { code field } } }',
        {"a": tenant_a.account_id},
        tenant_a.admin,
    )
    assert short["data"]["createUser"]["errors"] == [{"code": "OUT_OF_RANGE", "field": "password"}]
    await api.ok(
        'mutation($id: ID!) { updateUser(id: $id, input: {role: VIEWER, password: "another-password"}) { user { role } } }',
        {"id": user["id"]},
        tenant_a.admin,
    )
    assert await api.login("new@alpha.test", "another-password")
    await api.ok("mutation($id: ID!) { deleteUser(id: $id) { deletedId } }", {"id": user["id"]}, tenant_a.admin)
    gone = await api.post(
        'mutation { login(email: "new@alpha.test", password: "another-password") { token errors { code } } }'
    )
    assert gone["data"]["login"]["token"] is None
    assert await api.login("admin@alpha.test", PASSWORD)


async def test_clusters_nest_and_pools_gather_systems(api, tenant_a):
    system_id, site_id = await site_with_topology(api, tenant_a.operator, tenant_a.account_id)
    devices = (
        await api.ok(
            "query($id: ID!) { node(id: $id) { ... on Site { devices { nodes { id name } } } } }",
            {"id": site_id},
            tenant_a.viewer,
        )
    )["node"]["devices"]["nodes"]
    poles = [d["id"] for d in devices if d["name"].startswith("pole")]
    top = await api.ok(
        'mutation($s: ID!, $d: [ID!]!) { createCluster(input: {systemId: $s, name: "all poles", deviceIds: $d}) { cluster { id devices { totalCount } } } }',
        {"s": system_id, "d": poles},
        tenant_a.operator,
    )
    top_id = top["createCluster"]["cluster"]["id"]
    assert top["createCluster"]["cluster"]["devices"]["totalCount"] == 4
    child = await api.ok(
        'mutation($s: ID!, $p: ID!, $d: [ID!]!) { createCluster(input: {systemId: $s, name: "garage", parentId: $p, deviceIds: $d}) { cluster { id parent { name } } } }',
        {"s": system_id, "p": top_id, "d": poles[1:3]},
        tenant_a.operator,
    )
    child_id = child["createCluster"]["cluster"]["id"]
    cycle = await api.post(
        "mutation($id: ID!, $p: ID!) { updateCluster(id: $id, input: {parentId: $p}) { errors { code } } }",
        {"id": top_id, "p": child_id},
        tenant_a.operator,
    )
    assert cycle["data"]["updateCluster"]["errors"] == [{"code": "CYCLE"}]
    listed = await api.ok(
        "query($id: ID!) { node(id: $id) { ... on System { clusters { nodes { name children { nodes { name devices { totalCount } } } } } } } }",
        {"id": system_id},
        tenant_a.viewer,
    )
    assert listed["node"]["clusters"]["nodes"] == [
        {"name": "all poles", "children": {"nodes": [{"name": "garage", "devices": {"totalCount": 2}}]}}
    ]
    other_system = await create_system(api, tenant_a.operator, tenant_a.account_id, name="Other")
    pool = await api.ok(
        'mutation($a: ID!, $s: [ID!]!) { createSystemPool(input: {accountId: $a, name: "vpp", systemIds: $s}) { systemPool { id systems { totalCount } } } }',
        {"a": tenant_a.account_id, "s": [system_id, other_system]},
        tenant_a.operator,
    )
    assert pool["createSystemPool"]["systemPool"]["systems"]["totalCount"] == 2
    pool_id = pool["createSystemPool"]["systemPool"]["id"]
    await api.ok(
        "mutation($id: ID!, $s: [ID!]!) { updateSystemPool(id: $id, input: {systemIds: $s}) { systemPool { id } } }",
        {"id": pool_id, "s": [other_system]},
        tenant_a.operator,
    )
    pools = await api.ok(
        "query($id: ID!) { node(id: $id) { ... on System { name pools { totalCount } } } }",
        {"id": system_id},
        tenant_a.viewer,
    )
    assert pools["node"]["pools"]["totalCount"] == 0
    await api.ok("mutation($id: ID!) { deleteCluster(id: $id) { deletedId } }", {"id": top_id}, tenant_a.operator)
    assert (await api.ok("query($id: ID!) { node(id: $id) { id } }", {"id": child_id}, tenant_a.viewer))["node"] is None
