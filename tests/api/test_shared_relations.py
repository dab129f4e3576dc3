"""A relation several parents share is loaded once; one parent's failure must not take it from the others.

graphql-core cancels an object's other fields when one of them fails; the row those fields waited for is shared
with every other parent of the request that asks for it (`resolvers.shared_loads`)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from resolvers.shared_loads import LoadCancelled, Loader
from tests.api.helpers import demo_devices

# `failing` fails as a whole (its `measurements` span is reversed, a non-null field); `sibling` asks for the
# same device's collector (a plain relation) and latest measurement (an async resolver awaiting its loader).
QUERY = """query($d: ID!, $from: DateTime!, $to: DateTime!) {
  failing: node(id: $d) { ... on Device { collector { name } latestMeasurement { powerValue }
    measurements(resolution: HOUR, from: $from, to: $to) { timestamp } } }
  sibling: node(id: $d) { ... on Device { collector { name } latestMeasurement { powerValue } } }
}"""


async def test_a_failing_alias_leaves_the_relations_it_shares_to_the_other_parts_of_the_answer(api, tenant_a):
    _, _, devices = await demo_devices(api, tenant_a)
    reversed_span = {"from": "2026-12-02T10:00:00Z", "to": "2026-12-01T10:00:00Z"}
    body = await api.post(QUERY, {"d": devices["pole_garage_1"], **reversed_span}, tenant_a.viewer)
    assert body["data"] == {
        "failing": None,
        "sibling": {"collector": {"name": "garage_board"}, "latestMeasurement": None},
    }
    (error,) = body["errors"]
    assert error["path"] == ["failing", "measurements"] and error["extensions"]["code"] != "INTERNAL_ERROR"


async def test_a_waiter_cancelled_leaves_the_shared_load_to_the_others() -> None:
    started, release = asyncio.Event(), asyncio.Event()

    async def rows(keys: list[int]) -> list[int]:
        started.set()
        await release.wait()
        return [k * 10 for k in keys]

    loader: Loader[int, int] = Loader(rows)

    async def wait_for(key: int) -> int:
        return await loader.load(key)

    cancelled, kept = asyncio.create_task(wait_for(1)), asyncio.create_task(wait_for(1))
    await started.wait()  # both wait on the one shared load
    cancelled.cancel()
    release.set()
    assert await kept == 10
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert await loader.load(1) == 10  # still cached, not cancelled


async def test_a_batch_cancelled_settles_every_waiter_with_an_error() -> None:
    started = asyncio.Event()

    async def rows(keys: list[int]) -> list[int]:
        started.set()
        await asyncio.Event().wait()  # never answers: only a cancellation ends it
        raise AssertionError("unreachable")

    loader: Loader[int, int] = Loader(rows)
    waiting = asyncio.ensure_future(loader.load(1))
    await started.wait()
    (batch,) = [t for t in asyncio.all_tasks() if t.get_coro().__qualname__.startswith("dispatch_batch")]
    batch.cancel()
    with pytest.raises(LoadCancelled):
        await waiting


async def test_a_relation_asked_for_while_loading_is_found_again_without_the_loader() -> None:
    """A level's relations are first asked for while their rows load (`resolvers.prefetch`), then once more by
    each field: that second ask is answered from the request's conversions, not through the loader again."""
    from types import SimpleNamespace

    from resolvers.types.node import relation

    async def rows(keys: list[int]) -> list[str]:
        return [f"row {k}" for k in keys]

    loader = Loader(rows)
    asks: list[int] = []
    load = loader.load

    def counted(key: int) -> object:
        asks.append(key)
        return load(key)

    loader.load = counted  # type: ignore[method-assign,assignment]
    info: Any = SimpleNamespace(context=SimpleNamespace(loaders=SimpleNamespace(converted={})))
    pending: Any = relation(info, loader, 7, str.upper)  # type: ignore[arg-type]
    assert isinstance(pending, asyncio.Future)
    assert await pending == "ROW 7"
    assert relation(info, loader, 7, str.upper) == "ROW 7"  # type: ignore[arg-type]
    assert asks == [7]
