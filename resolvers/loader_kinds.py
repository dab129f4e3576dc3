"""The shapes of loader every relation of the schema is one of, held to the caller's subtree.

- by id (`node(id:)`, parents): rows or `None`;
- one row by a foreign key (a system's gateway, a site's main collector);
- every child of a parent (small lists that are summed, not paged);
- a page of children per parent, for connections: one statement for all parents of a level, using
  `row_number()` and `count(*)` windows partitioned by parent, so `totalCount` costs nothing extra;
- a step series over a time span, and an aggregation per period.
Rows are SQLAlchemy `Row`s (attribute access, no ORM hydration); the GraphQL types are built from them.

A loader's batch function holds a `Reader` (the database and the caller), never the `Loaders` that hold the
loader: that cycle made a whole request's rows, futures and typed objects garbage that only the full collector
could free, and a large request spent more time in those collections than in its SQL. Without it, reference
counting frees everything the moment the request's context goes.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    FromClause,
)
from strawberry.dataloader import DataLoader

from app.auth import Principal
from app.database import Database
from app.models import table_of
from app.services.aggregation import Period
from resolvers import statements
from resolvers.connection import Page, Window
from resolvers.shared_loads import Loader

RowT = Any
"""A loaded row: a named tuple of its statement's columns (`Reader.fetch`), read by attribute."""
T = TypeVar("T")


@dataclass(frozen=True)
class ChildKey:
    parent_id: uuid.UUID
    window: Window


@dataclass(frozen=True)
class SpanKey:
    """The points of one owner's step series with `start <= ts < end`."""

    owner_id: uuid.UUID
    start: datetime
    end: datetime


@dataclass(frozen=True)
class PeriodKey:
    owner_id: uuid.UUID
    period: Period


@dataclass(frozen=True, eq=False)
class Reader:
    """What a batch function needs to read: the database and the caller whose subtree bounds every read."""

    db: Database
    principal: Principal | None

    async def fetch(self, statement: Any, **values: Any) -> list[RowT]:
        """The statement's rows as named tuples (a large answer reads a dozen columns of thousands of rows while
        building its objects). `values` fill a statement of `resolvers.statements`, with the caller's subtree:
        those are built once per shape, so they may go through asyncpg alone."""
        if not values:
            return await self.db.records(statement)
        return await self.db.records(statement, statements.params(self.principal, **values), kept=True)


def _row(row: RowT) -> RowT:
    return row


class LoaderKinds:
    def __init__(self, db: Database, principal: Principal | None) -> None:
        """Loaders are made on first use: a request or subscription event pays only for those it needs."""
        self._db = db
        self._principal = principal
        self._reader = Reader(db, principal)
        self.converted: dict[tuple[Any, ...], Any] = {}
        """Typed objects made from loaded rows, by row and conversion (each row is converted once per request),
        and by loader, key and conversion (`resolvers.types.node.relation`)."""

    async def root_page(
        self, model: Any, window: Window, order_by: Sequence[Any], *conditions: ColumnElement[bool]
    ) -> Page:
        """A top-level list (everything of a kind in the caller's subtree) in one statement."""
        statement = statements.root_page(self._principal, table_of(model), model, order_by, conditions)
        rows = await self._reader.fetch(
            statement, **{statements.LOW: window.offset + 1, statements.HIGH: window.offset + window.first}
        )
        total = rows[0].pw_total if rows else 0
        return Page([r for r in rows if window.offset < r.pw_rn <= window.offset + window.first], total)

    def _by_id(self, model: Any, *conditions: ColumnElement[bool]) -> DataLoader[uuid.UUID, RowT | None]:
        return self._parsed_by_id(model, _row, *conditions)

    def _parsed_by_id(
        self, model: Any, parse: Callable[[RowT], T], *conditions: ColumnElement[bool]
    ) -> DataLoader[uuid.UUID, T | None]:
        """By id, each row parsed once as it is read (a row that does not parse fails its whole batch)."""
        table, reader = table_of(model), self._reader

        async def load(ids: list[uuid.UUID]) -> list[T | None]:
            statement = statements.by_key(reader.principal, table, model, None, conditions)
            rows = await reader.fetch(statement, **{statements.IDS: ids})
            found = {row.id: parse(row) for row in rows}
            return [found.get(i) for i in ids]

        return Loader(load)

    def _one_by(self, model: Any, key: Any, *conditions: ColumnElement[bool]) -> DataLoader[uuid.UUID, RowT | None]:
        table, reader = table_of(model), self._reader

        async def load(keys: list[uuid.UUID]) -> list[RowT | None]:
            statement = statements.by_key(reader.principal, table, model, key, conditions)
            rows = await reader.fetch(statement, **{statements.IDS: keys})
            found = {row.pw_key: row for row in rows}
            return [found.get(k) for k in keys]

        return Loader(load)

    def _all_by(
        self,
        model: Any,
        key: Any,
        order_by: Sequence[Any],
        *conditions: ColumnElement[bool],
        source: FromClause | None = None,
    ) -> DataLoader[uuid.UUID, list[RowT]]:
        """Every child of each parent (for small, bounded lists that are summed rather than paged)."""
        table, reader = table_of(model), self._reader

        async def load(keys: list[uuid.UUID]) -> list[list[RowT]]:
            statement = statements.all_by(reader.principal, table, model, key, order_by, conditions, source)
            rows = await reader.fetch(statement, **{statements.IDS: keys})
            grouped: dict[uuid.UUID, list[RowT]] = defaultdict(list)
            for row in rows:
                grouped[row.pw_key].append(row)
            return [grouped.get(k, []) for k in keys]

        return Loader(load)

    def _paged(
        self,
        model: Any,
        parent: Any,
        order_by: Sequence[Any],
        *conditions: ColumnElement[bool],
        source: FromClause | None = None,
        parse: Callable[[RowT], Any] | None = None,
    ) -> DataLoader[ChildKey, Page]:
        """A page of children per parent; `parse`, if given, turns each row of a page into its typed record."""
        table, reader = table_of(model), self._reader

        async def load(keys: list[ChildKey]) -> list[Page]:
            by_window: dict[Window, set[uuid.UUID]] = defaultdict(set)
            for key in keys:
                by_window[key.window].add(key.parent_id)
            pages: dict[ChildKey, Page] = {}
            for window, parents in by_window.items():
                statement = statements.child_page(reader.principal, table, model, parent, order_by, conditions, source)
                bounds = {statements.LOW: window.offset + 1, statements.HIGH: window.offset + window.first}
                rows = await reader.fetch(statement, **{statements.IDS: list(parents)}, **bounds)
                for key, page in _split_pages(rows, window).items():
                    pages[key] = page if parse is None else Page([parse(r) for r in page.rows], page.total)
            return [pages.get(key, Page([], 0)) for key in keys]

        return Loader(load, cache_key_fn=lambda key: key)

    def _series(self, model: Any, key: Any) -> DataLoader[SpanKey, list[RowT]]:
        table, reader = table_of(model), self._reader

        async def load(keys: list[SpanKey]) -> list[list[RowT]]:
            spans: dict[tuple[datetime, datetime], list[uuid.UUID]] = defaultdict(list)
            for k in keys:
                spans[(k.start, k.end)].append(k.owner_id)
            found: dict[SpanKey, list[RowT]] = defaultdict(list)
            statement = statements.series(reader.principal, table, model, key)
            for (start, end), owners in spans.items():
                rows = await reader.fetch(
                    statement, **{statements.IDS: owners, statements.START: start, statements.END: end}
                )
                for row in rows:
                    found[SpanKey(row.pw_key, start, end)].append(row)
            return [found.get(k, []) for k in keys]

        return Loader(load, cache_key_fn=lambda k: k)

    def _per_period(
        self, load_group: Callable[[Period, list[uuid.UUID]], Awaitable[dict[uuid.UUID, T]]]
    ) -> DataLoader[PeriodKey, T]:
        """Aggregations: one statement per distinct period asked for at this level of the query."""

        async def load(keys: list[PeriodKey]) -> list[T]:
            by_period: dict[Period, list[uuid.UUID]] = defaultdict(list)
            for key in keys:
                by_period[key.period].append(key.owner_id)
            found: dict[PeriodKey, T] = {}
            for period, owners in by_period.items():
                for owner, value in (await load_group(period, owners)).items():
                    found[PeriodKey(owner, period)] = value
            return [found[key] for key in keys]

        return Loader(load, cache_key_fn=lambda key: key)


def _split_pages(rows: list[RowT], window: Window) -> dict[ChildKey, Page]:
    grouped: dict[uuid.UUID, list[RowT]] = defaultdict(list)
    totals: dict[uuid.UUID, int] = {}
    for row in rows:
        totals[row.pw_parent] = row.pw_total
        if window.offset < row.pw_rn <= window.offset + window.first:
            grouped[row.pw_parent].append(row)
    return {ChildKey(p, window): Page(grouped.get(p, []), total) for p, total in totals.items()}
