"""The error hierarchy shared by the domain services and the GraphQL layer.

Domain code raises these; the GraphQL layer turns `ValidationFailed` into typed `errors` in a mutation's
payload and the access errors into GraphQL errors with `extensions.code`. Every other exception is masked,
so a message only reaches a caller when it was written for one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    """Machine-readable reasons, stable across releases."""

    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    INVALID_FORMAT = "INVALID_FORMAT"
    INVALID_CHECK_DIGIT = "INVALID_CHECK_DIGIT"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    UNSUPPORTED = "UNSUPPORTED"
    DUPLICATE = "DUPLICATE"
    NOT_FOUND = "NOT_FOUND"
    UNKNOWN_REFERENCE = "UNKNOWN_REFERENCE"
    NO_ROOT = "NO_ROOT"
    MULTIPLE_ROOTS = "MULTIPLE_ROOTS"
    CYCLE = "CYCLE"
    CONFLICT = "CONFLICT"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    SITE_PAUSED = "SITE_PAUSED"
    # Refusals of a request as a whole (issue 12): limits, malformed GraphQL, wrong transport, masked faults.
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    BAD_REQUEST = "BAD_REQUEST"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    UNAVAILABLE = "UNAVAILABLE"


@dataclass(frozen=True)
class Issue:
    """One broken rule: which field (a dotted path, `None` for the whole input) and why."""

    code: ErrorCode
    field: str | None
    message: str


class PhasewiseError(Exception):
    """Base of every error whose message is written for the caller and may be shown as is."""

    code: ErrorCode = ErrorCode.INVALID

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def extensions(self) -> dict[str, object]:
        """GraphQL copies this into the error's `extensions`, so clients can branch on `code`."""
        return {"code": self.code.value}


class ValidationFailed(PhasewiseError):
    """The input breaks one or more rules; nothing was written."""

    def __init__(self, issues: list[Issue]) -> None:
        if not issues:
            raise ValueError("ValidationFailed needs at least one issue")
        super().__init__("; ".join(f"{i.field or 'input'}: {i.message}" for i in issues))
        self.issues = issues

    @property
    def extensions(self) -> dict[str, object]:
        """Outside a mutation payload (e.g. a query's arguments): the first issue's code and every issue."""
        return {
            "code": self.issues[0].code.value,
            "field": self.issues[0].field,
            "issues": [{"code": i.code.value, "field": i.field, "message": i.message} for i in self.issues],
        }

    @classmethod
    def one(cls, code: ErrorCode, field: str | None, message: str) -> ValidationFailed:
        return cls([Issue(code, field, message)])


class NotFound(PhasewiseError):
    """The object does not exist, or exists outside the caller's account subtree (indistinguishable)."""

    code = ErrorCode.NOT_FOUND


class Unauthenticated(PhasewiseError):
    code = ErrorCode.UNAUTHENTICATED


class Forbidden(PhasewiseError):
    code = ErrorCode.FORBIDDEN


class Unavailable(PhasewiseError):
    """The database cannot be reached: nothing was done, and the same request may succeed when retried."""

    code = ErrorCode.UNAVAILABLE

    @property
    def extensions(self) -> dict[str, object]:
        return {"code": self.code.value, "retryable": True}
