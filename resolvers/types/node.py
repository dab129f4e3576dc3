"""What every object type shares: Relay node lookup through the request's loaders, and relation helpers."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Annotated, Any, ClassVar, Self, TypeVar

import strawberry
from strawberry import relay
from strawberry.dataloader import DataLoader

from resolvers.connection import Connection, Window
from resolvers.context import Info
from resolvers.loaders import ChildKey

T = TypeVar("T")

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


async def related(loader: DataLoader[uuid.UUID, Any], key: uuid.UUID | None, convert: Callable[[Any], T]) -> T | None:
    if key is None:
        return None
    row = await loader.load(key)
    return None if row is None else convert(row)


async def paged(
    info: Info,
    loader: DataLoader[ChildKey, Any],
    parent_id: uuid.UUID,
    first: int | None,
    after: str | None,
    convert: Callable[[Any], T],
) -> Connection[T]:
    window = Window.of(info.context.settings, first, after)
    page = await loader.load(ChildKey(parent_id, window))
    return Connection.of(page, window, convert)
