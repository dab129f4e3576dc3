"""Limits and refusals on a real server, over real sockets: an attack is refused while others are served;
mistakes in a subscription are named over the websocket."""

from __future__ import annotations

import asyncio
import uuid

from tests.api.conftest import Api, Tenant
from tests.api.test_query_limits import aliases, attack_and_bystander, doubling_fragments
from tests.live.conftest import Listener


async def test_attacks_refused_quickly_while_a_bystander_is_served(http: Api, alpha: Tenant) -> None:
    for query, limits in ((doubling_fragments(), ("depth",)), (aliases(), ("aliases", "tokens"))):
        attack_s, bystander_s = await attack_and_bystander(http, query, limits, alpha.viewer)
        assert attack_s < 0.05, (limits, attack_s)
        assert bystander_s < 0.1, (limits, bystander_s)


async def test_oversized_body_refused_by_the_real_server(http: Api) -> None:
    response = await http.client.post("/graphql", content=b" " * (8 * 1024 * 1024 + 1))
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"


async def test_a_bare_uuid_as_a_subscriptions_site_id_is_named(server, http: Api, alpha: Tenant) -> None:
    _, address = server
    query = "subscription($s: ID!) { scheduleUpdated(siteId: $s) { id } }"
    listener = await Listener(address, alpha.viewer, query, {"s": str(uuid.uuid4())}).start()
    literal = await Listener(
        address, alpha.viewer, f'subscription {{ scheduleUpdated(siteId: "{uuid.uuid4()}") {{ id }} }}', {}
    ).start()
    try:
        for refused, name in ((listener, "$s"), (literal, "scheduleUpdated(siteId:)")):
            assert refused.task is not None
            await asyncio.wait_for(asyncio.shield(refused.task), timeout=10)
            text = repr(refused.error)
            assert "INVALID_FORMAT" in text and name in text and "Unexpected error" not in text, text
    finally:
        await listener.stop()
        await literal.stop()
