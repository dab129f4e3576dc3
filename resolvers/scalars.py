"""Scalars that refuse what the domain cannot hold, with a code, while they parse the input."""

from __future__ import annotations

import datetime as dt

from graphql import GraphQLError
from strawberry.schema.types.base_scalars import DateTimeDefinition
from strawberry.types.scalar import ScalarDefinition

from app.domain.bounds import timestamp_issue
from app.errors import ErrorCode


def _parse_datetime(value: object) -> dt.datetime:
    """Strawberry's ISO 8601 parsing, then the domain's window (a timestamp valid in its own offset may
    not exist in UTC: 9999-12-31T23:59:59-14:00)."""
    parsed = DateTimeDefinition.parse_value(value)  # type: ignore[misc]
    issue = timestamp_issue(parsed)
    if issue is not None:
        raise GraphQLError(f'DateTime "{value}" {issue}', extensions={"code": ErrorCode.OUT_OF_RANGE.value})
    return parsed


DATETIME = ScalarDefinition(
    name=DateTimeDefinition.name,
    description=DateTimeDefinition.description,
    specified_by_url=None,
    serialize=DateTimeDefinition.serialize,
    parse_value=_parse_datetime,
    parse_literal=None,
    origin=dt.datetime,
)
