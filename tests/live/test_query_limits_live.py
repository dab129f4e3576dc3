"""The query limits on a real server, over real sockets: an attack is refused while others are served."""

from __future__ import annotations

from tests.api.conftest import Api, Tenant
from tests.api.test_query_limits import aliases, attack_and_bystander, doubling_fragments


async def test_attacks_refused_quickly_while_a_bystander_is_served(http: Api, alpha: Tenant) -> None:
    for query, limits in ((doubling_fragments(), ("depth",)), (aliases(), ("aliases", "tokens"))):
        attack_s, bystander_s = await attack_and_bystander(http, query, limits, alpha.viewer)
        assert attack_s < 0.05, (limits, attack_s)
        assert bystander_s < 0.1, (limits, bystander_s)


async def test_oversized_body_refused_by_the_real_server(http: Api) -> None:
    response = await http.client.post("/graphql", content=b" " * (8 * 1024 * 1024 + 1))
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"
