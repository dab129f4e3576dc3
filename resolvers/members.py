"""Enum members from stored values by one dict lookup: the `Enum(value)` call costs several times that, and a
large answer converts several values for each of thousands of rows."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import TypeVar

E = TypeVar("E", bound=Enum)


def members(enum: type[E]) -> Callable[[object], E]:
    table = {member.value: member for member in enum}

    def member(value: object) -> E:
        found = table.get(value)
        return found if found is not None else enum(value)  # an unknown value fails as `enum(value)` does

    return member
