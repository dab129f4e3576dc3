"""Live data stops where access stops: revoked keys, deleted users and changed passwords close their
websockets; an account moved out from under a subscriber ends its subscription and leaves its pools."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.api.conftest import PASSWORD, Api, Tenant
from tests.api.helpers import APPLY, create_site, create_system, demo_document
from tests.live.conftest import Listener
from tests.live.test_live_limits import INGEST, LIMITS, SET

SCHEDULE = "subscription($s: ID!) { scheduleUpdated(siteId: $s) { id status } }"
CREATE_ACCOUNT = "mutation($i: CreateAccountInput!) { createAccount(input: $i) { account { id } errors { code } } }"
CREATE_USER = "mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } errors { code message } } }"
MOVE = "mutation($id: ID!, $p: ID!) { updateAccount(id: $id, input: {parentId: $p}) { errors { code message } } }"
DEVICES = "query($id: ID!) { node(id: $id) { ... on Site { devices { nodes { id name } } } } }"


def close_code(listener: Listener) -> int | None:
    cause = listener.error.__cause__ if listener.error is not None else None
    return getattr(getattr(cause, "rcvd", None), "code", None)


async def closed(listener: Listener) -> int | None:
    """Waits for the server to close the connection (the credential is re-checked every 2 s)."""
    assert listener.task is not None
    await asyncio.wait_for(asyncio.shield(listener.task), timeout=15)
    return close_code(listener)


async def demo_site(http: Api, token: str, account_id: str) -> tuple[str, str, dict[str, str]]:
    system_id = await create_system(http, token, account_id)
    site = await create_site(http, token, system_id)
    await http.ok(APPLY, {"site": site["id"], "doc": demo_document()}, token)
    nodes = (await http.ok(DEVICES, {"id": site["id"]}, token))["node"]["devices"]["nodes"]
    return system_id, site["id"], {n["name"]: n["id"] for n in nodes}


async def test_deleting_an_api_key_closes_its_websocket(server: Any, http: Api, alpha: Tenant) -> None:
    _, address = server
    _, site_id, _ = await demo_site(http, alpha.operator, alpha.account_id)
    created = await http.ok(
        "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { apiKey { id } secret errors { code } } }",
        {"i": {"accountId": alpha.account_id, "name": "partner", "role": "VIEWER"}},
        alpha.admin,
    )
    key_id, secret = created["createApiKey"]["apiKey"]["id"], created["createApiKey"]["secret"]
    listener = await Listener(address, secret, LIMITS, {"s": site_id}).start()
    try:
        await listener.next(timeout=10)  # the current limits at once: the key works
        await http.ok("mutation($id: ID!) { deleteApiKey(id: $id) { errors { code } } }", {"id": key_id}, alpha.admin)
        assert await closed(listener) == 4401
        refused = await http.post("{ viewer { role } }", token=secret)
        assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    finally:
        await listener.stop()


async def test_deleting_a_user_or_changing_a_password_closes_its_websockets(
    server: Any, http: Api, alpha: Tenant
) -> None:
    _, address = server
    _, site_id, _ = await demo_site(http, alpha.operator, alpha.account_id)
    users = {}
    for name in ("leaver", "changer"):
        created = await http.ok(
            CREATE_USER,
            {"i": {"accountId": alpha.account_id, "email": f"{name}@alpha.test", "password": PASSWORD}},
            alpha.admin,
        )
        users[name] = (created["createUser"]["user"]["id"], await http.login(f"{name}@alpha.test"))
    leaver = await Listener(address, users["leaver"][1], LIMITS, {"s": site_id}).start()
    changer = await Listener(address, users["changer"][1], LIMITS, {"s": site_id}).start()
    try:
        await leaver.next(timeout=10)
        await changer.next(timeout=10)
        await http.ok(
            "mutation($id: ID!) { deleteUser(id: $id) { errors { code } } }", {"id": users["leaver"][0]}, alpha.admin
        )
        await http.ok(
            'mutation($id: ID!) { updateUser(id: $id, input: {password: "a brand new passphrase"}) { errors { code } } }',
            {"id": users["changer"][0]},
            alpha.admin,
        )
        assert await closed(leaver) == 4401
        assert await closed(changer) == 4401
        # The token issued before the change no longer works anywhere; a new login does.
        old = await http.post("{ viewer { role } }", token=users["changer"][1])
        assert old["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert "password" in old["errors"][0]["message"]
        fresh = await http.login("changer@alpha.test", "a brand new passphrase")
        assert (await http.ok("{ viewer { role } }", token=fresh))["viewer"]["role"] == "VIEWER"
        rejected = await Listener(address, users["changer"][1], LIMITS, {"s": site_id}).start()
        try:
            assert rejected.messages.empty() and rejected.error is not None
        finally:
            await rejected.stop()
    finally:
        await leaver.stop()
        await changer.stop()


async def test_an_account_move_ends_open_subscriptions_and_leaves_the_pool(
    server: Any, http: Api, alpha: Tenant
) -> None:
    """Alpha > Region > Customer, the customer's system in Region's pool; Region's viewer subscribes; Alpha then
    moves Customer directly under itself, out from under Region."""
    _, address = server
    region = (await http.ok(CREATE_ACCOUNT, {"i": {"name": "Region", "kind": "ORGANIZATION"}}, alpha.admin))[
        "createAccount"
    ]["account"]["id"]
    customer = (
        await http.ok(CREATE_ACCOUNT, {"i": {"name": "Home", "kind": "CUSTOMER", "parentId": region}}, alpha.admin)
    )["createAccount"]["account"]["id"]
    await http.ok(
        CREATE_USER, {"i": {"accountId": region, "email": "viewer@region.test", "password": PASSWORD}}, alpha.admin
    )
    region_viewer = await http.login("viewer@region.test")
    system_id, site_id, devices = await demo_site(http, alpha.operator, customer)
    pool = await http.ok(
        'mutation($a: ID!, $s: [ID!]!) { createSystemPool(input: {accountId: $a, name: "vpp", systemIds: $s}) {'
        " systemPool { id } errors { code message } } }",
        {"a": region, "s": [system_id]},
        alpha.operator,
    )
    pool_id = pool["createSystemPool"]["systemPool"]["id"]
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    points = [
        {
            "deviceId": devices["building_load"],
            "timestamp": (now - timedelta(minutes=m)).isoformat(),
            "powerValue": 900.0,
        }
        for m in range(0, 30, 5)
    ]
    await http.ok(INGEST, {"p": points}, alpha.operator)
    pool_query = """query($id: ID!, $from: DateTime!, $to: DateTime!) { node(id: $id) { ... on SystemPool {
      measurements(resolution: DAY, from: $from, to: $to) { consumption } } } }"""
    window = {"id": pool_id, "from": (now - timedelta(days=1)).isoformat(), "to": (now + timedelta(days=1)).isoformat()}

    def consumption(data: dict[str, Any]) -> float:
        return sum(row["consumption"] or 0 for row in data["node"]["measurements"])

    assert consumption(await http.ok(pool_query, window, region_viewer)) > 0

    listener = await Listener(address, region_viewer, SCHEDULE, {"s": site_id}).start()
    try:
        later = (now + timedelta(hours=1)).isoformat()
        await http.ok(SET, {"d": devices["pole_garage_1"], "at": later, "max": 2000.0}, alpha.operator)
        await listener.until(lambda m: m.get("scheduleUpdated"), timeout=15)
        assert (await http.ok(MOVE, {"id": customer, "p": alpha.account_id}, alpha.admin))["updateAccount"][
            "errors"
        ] == []
        await http.ok(SET, {"d": devices["pole_garage_1"], "at": later, "max": 1000.0}, alpha.operator)
        assert listener.task is not None
        await asyncio.wait_for(asyncio.shield(listener.task), timeout=15)
        assert listener.error is not None and "NOT_FOUND" in repr(listener.error), listener.error
        while not listener.messages.empty():
            assert not listener.messages.get_nowait().get("scheduleUpdated"), "delivered after the move"
    finally:
        await listener.stop()
    # The pool keeps its membership but no longer counts the system; Alpha still sees it all.
    assert consumption(await http.ok(pool_query, window, region_viewer)) == 0
    assert consumption(await http.ok(pool_query, window, alpha.viewer)) == 0
    assert (await http.ok("query($id: ID!) { node(id: $id) { id } }", {"id": site_id}, region_viewer))["node"] is None
