"""Loads that several parts of one answer wait for, which no single waiter can cancel.

graphql-core cancels the other fields of an object when one of them fails (`gather_with_cancel`), and
cancelling a task cancels the future it is waiting on. A loader's future is shared by every parent that asks
for the same key, so one alias with a bad argument cancelled a row that another part of the answer was also
waiting for: that part failed with `CancelledError`, and with it the whole request.

A `SharedFuture` is settled by its producer only: a waiter's cancellation reaches that waiter alone, once the
load has settled (as with `asyncio.shield`, without a second future per waiter). A `Loader` hands out such
futures, and settles them with an error if its batch is itself cancelled (a server shutting down), so no
waiter is left waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader, get_current_batch

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")


class SharedFuture(asyncio.Future[T]):
    __slots__ = ()  # a large level makes thousands: no instance dictionary each

    def cancel(self, msg: Any | None = None) -> bool:
        """Refused: the waiters that share this future still need it (see the module's docstring)."""
        return False


class LoadCancelled(Exception):
    """What the waiters of a cancelled batch get instead of their rows."""


class Loader(DataLoader[K, V]):
    """strawberry's `DataLoader`, caching and batching as it does, with futures no waiter can cancel."""

    def __init__(
        self,
        load_fn: Callable[[list[K]], Awaitable[Sequence[V | BaseException]]],
        cache_key_fn: Callable[[K], Hashable] | None = None,
    ) -> None:
        async def settled(keys: list[K]) -> Sequence[V | BaseException]:
            try:
                return await load_fn(keys)
            except asyncio.CancelledError:
                return [LoadCancelled("the read was cancelled") for _ in keys]

        super().__init__(settled, cache_key_fn=cache_key_fn)

    def load(self, key: K) -> Awaitable[V]:
        future = self.cache_map.get(key) if self.cache else None
        if future is not None:
            return future
        future = SharedFuture(loop=self.loop)
        if self.cache:
            self.cache_map.set(key, future)
        get_current_batch(self).add_task(key, future)
        return future
