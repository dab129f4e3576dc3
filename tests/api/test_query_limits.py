"""Queries that would hold the server are refused before they run, cheaply, each with its code and limit."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from tests.api.conftest import Api


def doubling_fragments(levels: int = 21) -> str:
    """Each fragment spreads the previous one twice, once a level deeper: 2^levels paths in ~900 bytes."""
    parts = [f"query{{viewer{{account{{...F{levels}}}}}}}", "fragment F0 on Account{name}"]
    parts += [f"fragment F{n} on Account{{parent{{...F{n - 1}}}...F{n - 1}}}" for n in range(1, levels + 1)]
    return "\n".join(parts)


def flat_doubling(levels: int = 21) -> str:
    """Spreads side by side, no nesting: shallow, but 2^levels fields once expanded."""
    parts = [f"query {{ ...F{levels} }}", "fragment F0 on Query { viewer { role } }"]
    parts += [f"fragment F{n} on Query {{ ...F{n - 1} ...F{n - 1} }}" for n in range(1, levels + 1)]
    return "\n".join(parts)


def aliases(count: int = 1000) -> str:
    return (
        "{ " + " ".join(f"a{i}: sites {{ nodes {{ collectors {{ nodes {{ name }} }} }} }}" for i in range(count)) + " }"
    )


def refusal(body: dict[str, Any], *limits: str) -> dict[str, Any]:
    """The refusal for one of `limits` (a query may break several; each is reported)."""
    assert body.get("data") is None, body
    assert all(e["extensions"]["code"] == "QUERY_TOO_COMPLEX" for e in body["errors"]), body
    (error, *_) = [e for e in body["errors"] if e["extensions"]["limit"] in limits] or [body]
    assert str(error["extensions"]["maximum"]) in error["message"], error
    return error


async def timed(api: Api, query: str, token: str | None = None) -> tuple[float, dict[str, Any]]:
    start = time.perf_counter()
    body = await api.post(query, token=token)
    return time.perf_counter() - start, body


async def attack_and_bystander(api: Api, query: str, limits: tuple[str, ...], token: str) -> tuple[float, float]:
    """The refusal's cost as this process's CPU time (client and server both: other processes on a busy
    machine do not count), and the wall time a trivial query sent alongside it waits for its answer; each
    the best of several rounds, since a busy machine only ever adds time."""
    best_cpu, best_bystander = float("inf"), float("inf")
    for _ in range(7):
        start = time.process_time()
        refusal(await api.post(query, token=token), *limits)
        best_cpu = min(best_cpu, time.process_time() - start)
        (_, body), (bystander_s, trivial) = await asyncio.gather(timed(api, query, token), timed(api, "{ __typename }"))
        refusal(body, *limits)
        assert trivial["data"] == {"__typename": "Query"} and "errors" not in trivial
        best_bystander = min(best_bystander, bystander_s)
    return best_cpu, best_bystander


async def test_doubling_fragments_refused_fast_without_stalling_others(api: Api, tenant_a) -> None:
    query = doubling_fragments()
    assert len(query) < 1100
    attack_s, bystander_s = await attack_and_bystander(api, query, ("depth",), tenant_a.viewer)
    assert attack_s < 0.05, attack_s
    assert bystander_s < 0.1, bystander_s


async def test_flat_doubling_refused_by_cost(api: Api, tenant_a) -> None:
    query = flat_doubling(40)
    assert len(query) < 2000
    error = refusal(await api.post(query, token=tenant_a.viewer), "cost")
    assert error["extensions"]["actual"] >= 2**40


async def test_thousand_aliases_refused_fast_without_stalling_others(api: Api, tenant_a) -> None:
    attack_s, bystander_s = await attack_and_bystander(api, aliases(), ("aliases", "tokens"), tenant_a.viewer)
    assert attack_s < 0.05, attack_s
    assert bystander_s < 0.1, bystander_s


async def test_anonymous_attacks_are_refused_the_same_way(api: Api) -> None:
    refusal(await api.post(doubling_fragments()), "depth")
    refusal(await api.post(aliases()), "aliases", "tokens")


async def test_alias_cap(api: Api) -> None:
    body = await api.post("{ " + " ".join(f"a{i}: __typename" for i in range(100)) + " }")
    assert "errors" not in body, body
    error = refusal(await api.post("{ " + " ".join(f"a{i}: __typename" for i in range(101)) + " }"), "aliases")
    assert error["extensions"]["actual"] == 101


async def test_repeated_fields_are_refused_before_the_quadratic_merge_check(api: Api, tenant_a) -> None:
    """graphql-core compares same-named fields pairwise, and their selections pairwise below them."""
    repeated = "{ " + "viewer { role } " * 120 + "}"
    error = refusal(await api.post(repeated, token=tenant_a.viewer), "overlaps")
    assert error["extensions"]["actual"] == 120**2 * 2
    fragments = "".join(f"fragment F{i} on Query {{ viewer {{ role }} }}\n" for i in range(120))
    spread = "{ " + " ".join(f"...F{i}" for i in range(120)) + " }\n" + fragments
    refusal(await api.post(spread, token=tenant_a.viewer), "overlaps")
    nested = "{ " + ("viewer { account { " + ("parent { " + "name " * 10 + "} ") * 10 + "} } ") * 10 + "}"
    refusal(await api.post(nested, token=tenant_a.viewer), "overlaps")
    body = await api.post("{ " + "viewer { role } " * 30 + "}", token=tenant_a.viewer)
    assert body["data"]["viewer"]["role"] == "VIEWER", body


async def test_token_limit_at_parse_time(api: Api) -> None:
    query = "{ " + " ".join("__typename" for _ in range(5_001)) + " }"
    error = refusal(await api.post(query), "tokens")
    assert "5000" in error["message"]
    comments = "{ __typename }\n" + "#\n" * 5_001
    refusal(await api.post(comments), "tokens")


async def test_depth_limit_counts_as_before(api: Api, tenant_a) -> None:
    def nested(levels: int) -> str:
        return "{ viewer { account " + "{ parent " * levels + "{ name }" + " }" * levels + " } }"

    # { viewer { account { name } } } is 2 levels deep; 14 parents more make 16, the default maximum.
    body = await api.post(nested(14), token=tenant_a.viewer)
    assert "errors" not in body, body
    error = refusal(await api.post(nested(15), token=tenant_a.viewer), "depth")
    assert error["extensions"]["actual"] == 17


async def test_cost_counts_page_sizes_literal_and_variable(api: Api, tenant_a) -> None:
    query = """query($n: Int) { accounts(first: $n) { nodes { systems(first: $n) { nodes {
      sites(first: $n) { nodes { devices(first: $n) { nodes { id } } } } } } } } }"""
    small = await api.post(query, {"n": 10}, tenant_a.viewer)
    assert "errors" not in small, small
    error = refusal(await api.post(query, {"n": 500}, tenant_a.viewer), "cost")
    assert error["extensions"]["actual"] > 500**4
    assert str(10**10) in error["message"]
    literal = """{ accounts(first: 500) { nodes { systems(first: 500) { nodes {
      sites(first: 500) { nodes { devices(first: 100) { nodes { id } } } } } } } } }"""
    refusal(await api.post(literal, token=tenant_a.viewer), "cost")
    # The same nesting at the default page size is fine (the inventory query nests five connections).
    default = "{ accounts { nodes { systems { nodes { sites { nodes { devices { nodes { id } } } } } } } } }"
    assert "errors" not in await api.post(default, token=tenant_a.viewer)


async def test_introspection_is_not_priced(api: Api) -> None:
    query = "{ __schema { types { name fields { name args { name type { name ofType { name } } } } } } }"
    body = await api.post(query)
    assert "errors" not in body, body


async def test_oversized_body_is_refused_before_parsing(api: Api) -> None:
    padding = "x" * (8 * 1024 * 1024 + 1)
    response = await api.client.post("/graphql", json={"query": "{ __typename }", "variables": {"p": padding}})
    assert response.status_code == 413
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "REQUEST_TOO_LARGE"
    assert str(8 * 1024 * 1024) in error["message"]


async def test_oversized_body_without_length_is_refused_while_streaming(api: Api) -> None:
    async def chunks() -> Any:
        for _ in range(9):
            yield b" " * (1024 * 1024)

    response = await api.client.post("/graphql", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"


async def test_a_normal_body_passes(api: Api) -> None:
    response = await api.client.post("/graphql", json={"query": "{ __typename }", "variables": {"p": "x" * 100_000}})
    assert response.status_code == 200
    assert isinstance(api.client, httpx.AsyncClient)
