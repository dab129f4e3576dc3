"""How errors reach callers.

Expected failures of a mutation (bad input, unknown ids) are data: a typed `errors` list in the payload,
each with a machine-readable `code`, the `field` and a `message`. Access failures are GraphQL errors with
`extensions.code` UNAUTHENTICATED or FORBIDDEN. Anything else is a bug, and its message is masked.
"""

from __future__ import annotations

import strawberry

from app.errors import ErrorCode as DomainErrorCode
from app.errors import Issue, NotFound, PhasewiseError, ValidationFailed
from resolvers.request_errors import ErrorPolicy

ErrorCode = strawberry.enum(DomainErrorCode, name="ErrorCode", description="Why an input was refused.")


@strawberry.type(description="One broken rule of a mutation's input; the mutation wrote nothing.")
class UserError:
    code: DomainErrorCode  # registered as the GraphQL enum `ErrorCode` above
    field: str | None = strawberry.field(description="Path of the offending input field, null for the whole input.")
    message: str

    @classmethod
    def from_issue(cls, issue: Issue) -> UserError:
        return cls(code=issue.code, field=issue.field, message=issue.message)


def user_errors(exc: PhasewiseError) -> list[UserError]:
    if isinstance(exc, ValidationFailed):
        return [UserError.from_issue(i) for i in exc.issues]
    if isinstance(exc, NotFound):
        return [UserError(code=DomainErrorCode.NOT_FOUND, field="id", message=exc.message)]
    return [UserError(code=exc.code, field=None, message=exc.message)]


def masking_extension() -> ErrorPolicy:
    """Errors we did not write for the caller become "Unexpected error." with a request id (and are logged
    once); every other error gets a code (see `resolvers.request_errors`)."""
    return ErrorPolicy()
