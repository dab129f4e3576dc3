"""A request's rows are freed by reference counting when it ends, not left to the full garbage collector.

A large answer loads thousands of rows; while they sat in a reference cycle, the collector's full collections
walked them (and the previous requests' ones) several times per request, and that cost more than the SQL.
"""

import gc
import weakref
from functools import cached_property

import pytest
from strawberry.dataloader import DataLoader

import resolvers.context
from resolvers.loaders import Loaders
from tests.api.test_query_count import NESTED, add_systems


def _loader_names() -> list[str]:
    return [name for name, value in vars(Loaders).items() if isinstance(value, cached_property)]


@pytest.fixture
def collector_off():
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_loaders_hold_no_reference_cycle(app, collector_off):
    """Every loader of the schema, once made, goes with its `Loaders` as soon as that is dropped."""
    loaders = Loaders(app.state.db, None)
    made = [getattr(loaders, name) for name in _loader_names()]
    assert made and all(isinstance(loader, DataLoader) for loader in made)
    alive = weakref.ref(loaders)
    probes = [weakref.ref(loader) for loader in made]
    del loaders, made
    assert alive() is None
    assert all(probe() is None for probe in probes)


async def test_an_answered_request_leaves_its_loaded_rows_to_reference_counting(
    api, app, tenant_a, monkeypatch, collector_off
):
    import uuid

    from strawberry.relay import GlobalID

    await add_systems(app.state.db, uuid.UUID(GlobalID.from_id(tenant_a.account_id).node_id), 3, 0)
    made: list[weakref.ref[Loaders]] = []

    class Recorded(Loaders):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            made.append(weakref.ref(self))

    monkeypatch.setattr(resolvers.context, "Loaders", Recorded)
    data = await api.ok(NESTED, token=tenant_a.viewer)
    assert len(data["viewer"]["account"]["systems"]["nodes"]) == 3
    still_loaded = [
        loaders
        for ref in made
        if (loaders := ref()) is not None and any(isinstance(v, DataLoader) for v in vars(loaders).values())
    ]
    assert made and still_loaded == []
