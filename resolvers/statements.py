"""Loader statements built once per process and shape, run with the values of each read.

Building a SQLAlchemy statement cost more than running it: a page of children (a windowed subquery over every
column of the table) took ~1.3 ms of CPU to build, and a small inventory query builds several. A statement's
shape is its table, its key, parent and order columns and its conditions with their bound values; what varies
from read to read (the ids asked for, the window, the caller's subtree) are bound parameters filled in when it
runs. The caller's account path is one of them, so a statement built for one caller never carries that
caller's subtree to another.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, FromClause, Table, bindparam, false, func, literal_column, or_, select

from app.auth import Principal
from app.driver_reads import among
from app.tenancy import in_subtree_at

IDS = "pw_ids"
LOW = "pw_low"
HIGH = "pw_high"
PATH = "pw_path"
START = "pw_start"
END = "pw_end"
_KEEP = 512
_UNCACHEABLE = object()
_built: OrderedDict[Hashable, Any] = OrderedDict()


def params(principal: Principal | None, **values: Any) -> dict[str, Any]:
    """The values of one read: the caller's path beside the read's own."""
    return values if principal is None else {**values, PATH: principal.account_path}


def child_page(
    principal: Principal | None,
    table: Table,
    model: Any,
    parent: Any,
    order_by: Sequence[Any],
    conditions: Sequence[ColumnElement[bool]],
    source: FromClause | None,
) -> Any:
    """A window of children per parent (parameters IDS, LOW, HIGH); row 1 always comes along to carry the total,
    even for a window past the end of the list."""

    def build() -> Any:
        inner = (
            select(
                table,
                parent.label("pw_parent"),
                func.row_number().over(partition_by=parent, order_by=[*order_by, table.c.id]).label("pw_rn"),
                func.count(literal_column("*")).over(partition_by=parent).label("pw_total"),
            )
            .select_from(source if source is not None else table)
            .where(among_ids(parent), subtree(principal, model), *conditions)
            .subquery()
        )
        in_window = inner.c.pw_rn.between(bindparam(LOW), bindparam(HIGH))
        return select(inner).where(or_(in_window, inner.c.pw_rn == 1)).order_by(inner.c.pw_parent, inner.c.pw_rn)

    return shaped(("child_page", principal is None, table, parent, *order_by, source, *conditions), build)


def root_page(
    principal: Principal | None, table: Table, model: Any, order_by: Sequence[Any], conditions: Sequence[Any]
) -> Any:
    """A window of a top-level list (parameters LOW, HIGH), row 1 carrying the total."""

    def build() -> Any:
        inner = (
            select(
                table,
                func.row_number().over(order_by=[*order_by, table.c.id]).label("pw_rn"),
                func.count(literal_column("*")).over().label("pw_total"),
            )
            .where(subtree(principal, model), *conditions)
            .subquery()
        )
        in_window = inner.c.pw_rn.between(bindparam(LOW), bindparam(HIGH))
        return select(inner).where(or_(in_window, inner.c.pw_rn == 1)).order_by(inner.c.pw_rn)

    return shaped(("root_page", principal is None, table, *order_by, *conditions), build)


def by_key(
    principal: Principal | None, table: Table, model: Any, key: Any | None, conditions: Sequence[ColumnElement[bool]]
) -> Any:
    """The rows whose `key` (default: the id) is one of IDS; with a key, it comes along as `pw_key`."""

    def build() -> Any:
        column = table.c.id if key is None else key
        selected = select(table) if key is None else select(table, key.label("pw_key"))
        return selected.where(among_ids(column), subtree(principal, model), *conditions)

    return shaped(("by_key", principal is None, table, key, *conditions), build)


def all_by(
    principal: Principal | None,
    table: Table,
    model: Any,
    key: Any,
    order_by: Sequence[Any],
    conditions: Sequence[ColumnElement[bool]],
    source: FromClause | None,
) -> Any:
    """Every row whose `key` is one of IDS, with the key as `pw_key`."""

    def build() -> Any:
        return (
            select(table, key.label("pw_key"))
            .select_from(source if source is not None else table)
            .where(among_ids(key), subtree(principal, model), *conditions)
            .order_by(*order_by)
        )

    return shaped(("all_by", principal is None, table, key, *order_by, source, *conditions), build)


def series(principal: Principal | None, table: Table, model: Any, key: Any) -> Any:
    """The points whose `key` is one of IDS with START <= ts < END, the key as `pw_key`, in primary-key order."""

    def build() -> Any:
        return (
            select(table, key.label("pw_key"))
            .where(among_ids(key), subtree(principal, model), model.ts >= bindparam(START), model.ts < bindparam(END))
            .order_by(*table.primary_key.columns)
        )

    return shaped(("series", principal is None, table, key), build)


def among_ids(column: Any) -> ColumnElement[bool]:
    """`column` is one of IDS (`app.driver_reads.among`)."""
    return among(column, IDS)


def subtree(principal: Principal | None, model: Any) -> ColumnElement[bool]:
    return false() if principal is None else in_subtree_at(bindparam(PATH), model)


def shaped(parts: tuple[Any, ...], build: Callable[[], Any]) -> Any:
    """The statement `build` makes, built once per shape: `parts` name everything its SQL depends on (a loader's
    own statements start them with a name of their own); what varies per read must be a bound parameter."""
    key = tuple(_shape(part) for part in parts)
    if _UNCACHEABLE in key:
        return build()
    found = _built.get(key)
    if found is None:
        found = _built[key] = build()
        if len(_built) > _KEEP:
            _built.popitem(last=False)
    else:
        _built.move_to_end(key)
    return found


def _shape(part: Any) -> Hashable:
    """What makes two parts build the same SQL: a SQL element's cache key with its bound values."""
    if part is None or isinstance(part, str | bool | Table):
        return part
    element = part.__clause_element__() if hasattr(part, "__clause_element__") else part
    cache_key = element._generate_cache_key()
    if cache_key is None:
        return _UNCACHEABLE
    return cache_key.key, tuple(_frozen(b.effective_value) for b in cache_key.bindparams)


def _frozen(value: Any) -> Hashable:
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, set | frozenset):
        return frozenset(_frozen(v) for v in value)
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value
