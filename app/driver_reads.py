"""Reads straight through asyncpg, for statements whose values SQLAlchemy would hand on unchanged.

A loader's read of a large level (5,000 devices) cost twice as much through SQLAlchemy's execution and row
layer as through asyncpg alone (36 against 17 ms of CPU), and the loaders turn the rows into named tuples
anyway. A statement qualifies when it has no expanding parameter (its SQL is then the same for every read)
and none of its result columns has a result processor; its compiled form is kept for the process, and the
values of each read go through the compiled statement's own bind processors, as SQLAlchemy would send them.
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Executable, any_, bindparam
from sqlalchemy import types as sqltypes
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect

_KEEP = 1024
_RECORDS: dict[tuple[str, ...], type[tuple[Any, ...]] | None] = {}


@dataclass(frozen=True)
class DriverStatement:
    """A compiled statement as asyncpg runs it: its SQL, and how to build its positional arguments."""

    sql: str
    compiled: Any
    processors: tuple[tuple[str, Callable[[Any], Any] | None], ...]

    def arguments(self, params: Mapping[str, Any] | None) -> list[Any]:
        values = self.compiled.construct_params(params or {})
        return [values[name] if process is None else process(values[name]) for name, process in self.processors]


_compiled: OrderedDict[int, tuple[Executable, DriverStatement | None]] = OrderedDict()


def among(column: Any, name: str) -> ColumnElement[bool]:
    """`column` is one of the values bound as `name`, one array: the SQL is then the same for any number of them
    (an expanding IN renders one parameter per value, so its SQL changes with every count and is compiled per
    read), and a statement built once serves every read."""
    return column == any_(bindparam(name, type_=ARRAY(column.type)))


def driver_statement(statement: Executable, dialect: Dialect) -> DriverStatement | None:
    """The statement's driver form, or None when SQLAlchemy would change its SQL per read or its values."""
    key = id(statement)
    found = _compiled.get(key)
    if found is not None and found[0] is statement:
        _compiled.move_to_end(key)
        return found[1]
    plain = _compile(statement, dialect)
    _compiled[key] = (statement, plain)  # holding the statement keeps its id from being reused
    if len(_compiled) > _KEEP:
        _compiled.popitem(last=False)
    return plain


def _compile(statement: Executable, dialect: Dialect) -> DriverStatement | None:
    compiled: Any = statement.compile(dialect=dialect)  # type: ignore[attr-defined]  # every statement here is a ClauseElement
    if any(bind.expanding for bind in compiled.binds.values()) or compiled.positiontup is None:
        return None
    if not all(_unprocessed(entry.type, dialect) for entry in compiled._result_columns):
        return None
    if record_type(tuple(entry.keyname for entry in compiled._result_columns)) is None:
        return None  # names a named tuple cannot carry: SQLAlchemy's rows, whose attributes read them anyway
    processors = compiled._bind_processors
    return DriverStatement(str(compiled), compiled, tuple((n, processors.get(n)) for n in compiled.positiontup))


def _unprocessed(type_: Any, dialect: Dialect) -> bool:
    """asyncpg's value is SQLAlchemy's: no result processor (a float column needs the column's type code to
    say; asyncpg returns float8 and float4 as Python floats, which SQLAlchemy keeps when not asked for Decimal)."""
    if isinstance(type_, sqltypes.Float):
        return not type_.asdecimal
    try:
        return type_._cached_result_processor(dialect, None) is None
    except Exception:  # a processor that depends on the column's type code: let SQLAlchemy run it
        return False


def record_type(fields: tuple[str, ...]) -> type[tuple[Any, ...]] | None:
    """One named tuple type per shape of result, for the process: a named tuple's attribute is a C-level read,
    where a SQLAlchemy `Row`'s goes through its key lookup (about fourteen times slower) and an asyncpg
    `Record` has none. `None` for column names that cannot be attributes of one."""
    if fields not in _RECORDS:
        try:
            _RECORDS[fields] = namedtuple("Record", fields)  # noqa: PYI024
        except ValueError:
            _RECORDS[fields] = None
    return _RECORDS[fields]
