"""Database outages reach callers as UNAVAILABLE (retryable), never as masked internal errors."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from app.availability import UNAVAILABLE_MESSAGE, is_unavailable, outage
from app.errors import ErrorCode, Unavailable


class DatabaseOutage(SchemaExtension):
    """Listed after the masking extension, so it sees the errors first (extensions exit in reverse order)."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if errors and any(is_unavailable(e.original_error) for e in errors):
            result.errors = [_unavailable(e) if is_unavailable(e.original_error) else e for e in errors]  # type: ignore[union-attr]


def _unavailable(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    assert original is not None
    unavailable = original if isinstance(original, Unavailable) else outage.failed(original, "a request")
    return GraphQLError(
        UNAVAILABLE_MESSAGE,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=unavailable,
        extensions=unavailable.extensions,
    )


def answers_unavailable(response: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> bool:
    """Whether an HTTP answer reports the outage (then it is a 503, so proxies and clients retry)."""
    answers = [response] if isinstance(response, Mapping) else response
    return any(
        (error.get("extensions") or {}).get("code") == ErrorCode.UNAVAILABLE.value
        for answer in answers
        for error in answer.get("errors") or []
    )
