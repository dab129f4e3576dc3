"""What every object type shares: Relay node lookup through the request's loaders, and relation helpers."""

from __future__ import annotations

import asyncio
import inspect
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated, Any, ClassVar, Self, TypeVar, cast

import strawberry
from strawberry import relay
from strawberry.dataloader import DataLoader

from resolvers.connection import Connection, Window
from resolvers.context import Info
from resolvers.loaders import ChildKey
from resolvers.prefetch import prefetch
from resolvers.shared_loads import SharedFuture

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")

First = Annotated[
    int | None,
    strawberry.argument(description="At most this many items; the server caps it at its maximum page size."),
]


def parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


class LoadedNode(relay.Node):
    """A Relay node whose rows come from one by-id loader; rows outside the caller's subtree are `None`."""

    loader_name: ClassVar[str]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        raise NotImplementedError

    @classmethod
    def accepts(cls, row: Any) -> bool:
        """Whether a row of the loader's table is of this type (device types share one table)."""
        return True

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        info.context.caller()
        ids = [parse_uuid(node_id) for node_id in node_ids]
        loader: DataLoader[uuid.UUID, Any] = getattr(info.context.loaders, cls.loader_name)
        rows = await loader.load_many([i for i in ids if i is not None])
        found = dict(zip([i for i in ids if i is not None], rows, strict=True))
        return [
            cls.from_row(row) if (row := found.get(i) if i else None) is not None and cls.accepts(row) else None
            for i in ids
        ]


def ready(loader: DataLoader[K, V], key: K) -> V | Awaitable[V]:
    """The loader's value at once when this request has already loaded it, else the awaitable to wait on."""
    future = loader.load(key)
    if isinstance(future, asyncio.Future) and future.done():
        return future.result()
    return future


def then(value: V | Awaitable[V], function: Callable[[V], T]) -> T:
    """`function` applied to a value that may still be loading.

    Typed as its result: when `value` is awaitable, this returns an awaitable of the result, which is what
    a resolver may return (the executor awaits it). A resolver that returns `then(...)` is a plain `def`, so a
    value that is already loaded costs no coroutine, no task and no scheduling, per object.
    """
    if inspect.isawaitable(value):

        async def later() -> T:
            return function(await value)

        return cast(T, later())
    return function(value)


def relation(
    info: Info, loader: DataLoader[uuid.UUID, Any], key: uuid.UUID | None, convert: Callable[[Any], T]
) -> T | None:
    """The related object of `key`, converted from its row once per request however many parents share it
    (ten devices on one collector get the same `Collector`). For plain `def` resolvers; see `then`.

    Once converted, the object is found again by loader and key (a loader answers a key with one row for the
    whole request): the thousands of parents of a large level skip the loader's own lookups, also when the
    row was still loading at the first ask (`resolvers.prefetch` asks for a whole level before its fields)."""
    if key is None:
        return None
    memo = info.context.loaders.converted
    entry = (loader, key, convert)
    found = memo.get(entry)
    if found is not None:
        return cast(T, found)
    future = loader.load(key)
    if isinstance(future, asyncio.Future) and future.done():
        found = _converted(memo, future.result(), convert)
        if found is not None:
            memo[entry] = found
        return found
    return cast(T, _derived(memo, future, convert, entry))


def _derived(
    memo: dict[tuple[Any, ...], Any], future: Awaitable[Any], convert: Callable[[Any], Any], entry: tuple[Any, ...]
) -> asyncio.Future[Any]:
    """One future of the converted object per loading row, shared by every parent that waits for it (a
    future, not a coroutine: waiting on it costs no task; shared, so no waiter can cancel it)."""
    waiting = (id(future), convert)
    derived = memo.get(waiting)
    if derived is None:
        assert isinstance(future, SharedFuture), "every loader is a resolvers.shared_loads.Loader"
        derived = memo[waiting] = SharedFuture(loop=asyncio.get_running_loop())

        def finish(loaded: asyncio.Future[Any]) -> None:
            if (error := loaded.exception()) is not None:
                derived.set_exception(error)
                return
            try:
                found = _converted(memo, loaded.result(), convert)
            except Exception as exc:  # a row that does not convert fails its parents, as an await would
                derived.set_exception(exc)
                return
            if found is not None:
                memo[entry] = found
            derived.set_result(found)

        future.add_done_callback(finish)
    return derived


def _converted(memo: dict[tuple[Any, ...], Any], row: Any, convert: Callable[[Any], T]) -> T | None:
    if row is None:
        return None
    entry = (id(row), convert)
    found = memo.get(entry)
    if found is None:
        found = memo[entry] = convert(row)
    return cast(T, found)


def connection(
    info: Info,
    loader: DataLoader[ChildKey, Any],
    parent_id: uuid.UUID,
    first: int | None,
    after: str | None,
    convert: Callable[[Any], T],
) -> Connection[T]:
    """A page of children as a connection, for plain `def` resolvers (see `then`); a page that still has to
    be loaded is handed on once the relations its nodes are asked for are loaded too (`resolvers.prefetch`)."""
    window = Window.of(info.context.settings, first, after)
    page = ready(loader, ChildKey(parent_id, window))
    if not inspect.isawaitable(page):
        return Connection.of(page, window, convert)

    async def later() -> Connection[T]:
        built = Connection.of(await page, window, convert)
        await prefetch(info, built.nodes)
        return built

    return cast(Connection[T], later())
