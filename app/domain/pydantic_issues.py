"""Pydantic's validation errors, translated into our `Issue`s.

Pydantic reports a location as a tuple such as `('device_list', 2, 'charging_pole_3phase', 'line_current')`
and a message written for Python programmers. Callers of the API wrote a JSON document, so an issue names
the place in *their* document (`device_list[2].line_current`) and the rule in their terms
("must be greater than 0"), with one of our stable codes.

Our own validators raise `domain_error(...)`: it carries the code and message through pydantic, plus an
optional sub-location (`at`) for rules that concern one item of a field, such as a repeated pin.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

from app.errors import ErrorCode, Issue

Location = tuple[str | int, ...]


def domain_error(code: ErrorCode, message: str, *, at: Location = ()) -> PydanticCustomError:
    """An error for a validator to raise; `at` extends the location of the value being validated."""
    return PydanticCustomError(code.value, "{message}", {"message": message, "at": at})


def format_path(loc: Location) -> str | None:
    """`('device_list', 2, 'name')` -> `device_list[2].name`; the empty location (the whole input) -> None."""
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
    return path or None


def document_loc(loc: Location, data: object) -> Location:
    """`loc` without the tags pydantic inserts for a discriminated union (`charging_pole_3phase`, `weekly`).

    Walks `data` (the validated input) alongside: a key that is not in the input and is not the last
    element of the location is a union tag; the last element may be absent (a missing field)."""
    kept: list[str | int] = []
    node: object = data
    for position, part in enumerate(loc):
        is_last = position == len(loc) - 1
        if isinstance(node, Sequence) and not isinstance(node, str) and isinstance(part, int):
            node = node[part] if 0 <= part < len(node) else None
        elif isinstance(node, Mapping) and part in node:
            node = node[part]
        elif part == "[key]" or (isinstance(node, Mapping) and not is_last):
            continue
        else:
            node = None
        kept.append(part)
    return tuple(kept)


def _number(value: float) -> str:
    """0.0 -> "0": bounds are declared as floats but read better as written in the rule."""
    return f"{value:g}"


def _choices(expected: str) -> str:
    """Pydantic's "'pv', 'load' or 'ucl'" -> "one of pv, load, ucl"; a single choice -> just that."""
    choices = [choice.strip("'") for choice in re.split(r", | or ", expected)]
    return choices[0] if len(choices) == 1 else f"one of {', '.join(choices)}"


_EXPECTED_TYPES = {
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "string_type": "a string",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "datetime_type": "an ISO 8601 date-time with a timezone offset",
    "datetime_parsing": "an ISO 8601 date-time with a timezone offset",
    "datetime_from_date_parsing": "an ISO 8601 date-time with a timezone offset",
}

_Describer = Callable[[dict[str, Any]], tuple[ErrorCode, str]]

_DESCRIBERS: dict[str, _Describer] = {
    "missing": lambda ctx: (ErrorCode.REQUIRED, "is required"),
    "greater_than": lambda ctx: (ErrorCode.OUT_OF_RANGE, f"must be greater than {_number(ctx['gt'])}"),
    "greater_than_equal": lambda ctx: (ErrorCode.OUT_OF_RANGE, f"must be at least {_number(ctx['ge'])}"),
    "less_than": lambda ctx: (ErrorCode.OUT_OF_RANGE, f"must be less than {_number(ctx['lt'])}"),
    "less_than_equal": lambda ctx: (ErrorCode.OUT_OF_RANGE, f"must be at most {_number(ctx['le'])}"),
    "string_too_short": lambda ctx: (ErrorCode.REQUIRED, "must not be empty"),
    "too_short": lambda ctx: (
        (ErrorCode.REQUIRED, "needs at least one item")
        if ctx["min_length"] == 1
        else (ErrorCode.OUT_OF_RANGE, f"needs at least {ctx['min_length']} items")
    ),
    "finite_number": lambda ctx: (ErrorCode.OUT_OF_RANGE, "must be a finite number"),
    "too_long": lambda ctx: (ErrorCode.OUT_OF_RANGE, f"can have at most {ctx['max_length']} items"),
    "literal_error": lambda ctx: (ErrorCode.INVALID, f"must be {_choices(ctx['expected'])}"),
    "union_tag_invalid": lambda ctx: (
        ErrorCode.UNSUPPORTED,
        f"unsupported {ctx['discriminator'].strip(chr(39))} {ctx['tag']!r}; must be {_choices(ctx['expected_tags'])}",
    ),
    "union_tag_not_found": lambda ctx: (ErrorCode.REQUIRED, "is required"),
    "extra_forbidden": lambda ctx: (ErrorCode.INVALID, "is not a known field"),
    "timezone_aware": lambda ctx: (
        ErrorCode.INVALID_FORMAT,
        "must include a timezone offset (e.g. 2025-06-02T09:00:00+02:00)",
    ),
}


def _describe(error: ErrorDetails) -> tuple[ErrorCode, str]:
    """The code and message of one pydantic error."""
    kind, ctx = error["type"], dict(error.get("ctx") or {})
    if kind in ErrorCode.__members__:
        return ErrorCode(kind), ctx["message"]
    if kind in _DESCRIBERS:
        return _DESCRIBERS[kind](ctx)
    if kind in _EXPECTED_TYPES:
        return ErrorCode.INVALID_FORMAT, f"must be {_EXPECTED_TYPES[kind]}"
    return ErrorCode.INVALID, error["msg"]


def issues_from_validation_error(
    error: ValidationError, data: object, to_path: Callable[[Location], str | None] = format_path
) -> list[Issue]:
    """One issue per pydantic error, located in `data` (the input that was validated).

    `to_path` turns a tag-free location into the field path; parse uses it to point into the
    document as written when it differs from what was validated (nested collectors)."""
    issues: list[Issue] = []
    for error_details in error.errors(include_url=False):
        raw_loc = tuple(error_details["loc"]) + tuple((error_details.get("ctx") or {}).get("at", ()))
        loc = document_loc(raw_loc, data)
        if error_details["type"] in ("union_tag_not_found", "union_tag_invalid"):
            loc += (error_details["ctx"]["discriminator"].strip("'"),)
        code, message = _describe(error_details)
        if raw_loc[-1:] == ("[key]",):
            message = f"key {message}"
        issues.append(Issue(code, to_path(loc), message))
    return issues
