"""Relay connections with `totalCount` and a capped page size, paged by opaque offset cursors."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import strawberry
from strawberry import Private, relay

from app.errors import ErrorCode, ValidationFailed
from app.settings import Settings

NodeT = TypeVar("NodeT")
_CURSOR_PREFIX = "offset:"


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{offset}".encode()).decode()


_MAX_OFFSET = 2**31 - 1
"""No list is longer; a larger offset in a forged cursor would overflow the database's OFFSET."""


def decode_cursor(cursor: str) -> int:
    offset: int | None = None
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
        if raw.startswith(_CURSOR_PREFIX) and len(raw) <= len(_CURSOR_PREFIX) + 12:
            offset = int(raw[len(_CURSOR_PREFIX) :])
    except (ValueError, UnicodeDecodeError):
        pass
    if offset is None or not 0 <= offset <= _MAX_OFFSET:
        raise ValidationFailed.one(ErrorCode.INVALID_FORMAT, "after", "is not a cursor this API returned")
    return offset


@dataclass(frozen=True)
class Window:
    """Which slice of a list one connection field asks for: rows offset+1 .. offset+first."""

    first: int
    offset: int

    @classmethod
    def of(cls, settings: Settings, first: int | None, after: str | None) -> Window:
        if first is None:
            first = settings.default_page_size
        if not 0 <= first <= settings.max_page_size:
            raise ValidationFailed.one(
                ErrorCode.OUT_OF_RANGE, "first", f"must be between 0 and {settings.max_page_size}"
            )
        return cls(first=first, offset=0 if after is None else decode_cursor(after) + 1)


@dataclass(frozen=True)
class Page:
    """A window of rows plus the size of the whole list, as one loader returns them."""

    rows: list[Any]
    total: int


@strawberry.type(description="A node and the cursor to page on from it.")
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


def _edges(root: Connection[Any]):  # the field's annotation types it
    return [Edge(cursor=encode_cursor(root.offset + i), node=node) for i, node in enumerate(root.nodes)]


@strawberry.type(description="A page of a list, Relay style, with the size of the whole list.")
class Connection(Generic[NodeT]):
    """`nodes` is a plain attribute and `edges` are made only when asked for: most clients read `nodes`, and a
    cursor per node is per-object work that a large page would otherwise pay for nothing."""

    edges: list[Edge[NodeT]] = strawberry.field(resolver=_edges)
    page_info: relay.PageInfo
    total_count: int
    nodes: list[NodeT] = strawberry.field(description="The nodes of `edges`, for clients that need no cursors.")
    offset: Private[int] = 0

    @classmethod
    def of(cls, page: Page, window: Window, convert: Callable[[Any], NodeT]) -> Connection[NodeT]:
        nodes = [convert(row) for row in page.rows]
        return cls(
            nodes=nodes,
            offset=window.offset,
            page_info=relay.PageInfo(
                has_next_page=window.offset + len(nodes) < page.total,
                has_previous_page=window.offset > 0,
                start_cursor=encode_cursor(window.offset) if nodes else None,
                end_cursor=encode_cursor(window.offset + len(nodes) - 1) if nodes else None,
            ),
            total_count=page.total,
        )
