"""CPU work of a request runs on the event loop when it is small and in a worker thread when it is large.

A thread hop costs more than parsing or validating a typical query (a few hundred tokens, well under a
millisecond), so small work stays put; a large document or a large set of variables goes to a thread, where
the interpreter hands the event loop a turn every few milliseconds and other requests keep being answered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

SMALL_QUERY_CHARS = 2_000
SMALL_INPUT_VALUES = 500


def is_small_query(query: str | None) -> bool:
    return query is None or len(query) <= SMALL_QUERY_CHARS


def is_small_input(value: Any) -> bool:
    """Whether the JSON value has at most SMALL_INPUT_VALUES values (stops counting there)."""
    stack, seen = [value], 0
    while stack:
        item = stack.pop()
        seen += 1
        if seen > SMALL_INPUT_VALUES:
            return False
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and len(item) > SMALL_QUERY_CHARS:
            return False
    return True


async def run(small: bool, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    if small:
        return function(*args, **kwargs)
    return await asyncio.to_thread(function, *args, **kwargs)
