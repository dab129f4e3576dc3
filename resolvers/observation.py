"""Each GraphQL operation observed once: its metrics, its log line, and the request id in the answer's
`extensions` (the id a caller quotes when asking what happened to a request)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from app.availability import is_unavailable
from app.errors import PhasewiseError
from app.metrics import REQUEST_SECONDS, REQUESTS, operation_label

log = logging.getLogger("phasewise.request")


class RequestObservation(SchemaExtension):
    """Listed last, so it exits first and sees the errors as raised, before outage conversion and masking."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        except GraphQLError as error:  # refused by a hook before any result (a document that does not parse)
            self._observe(started, [error])
            raise
        self._observe(started, list(getattr(self.execution_context.result, "errors", None) or []))

    def _observe(self, started: float, errors: list[GraphQLError]) -> None:
        took = time.perf_counter() - started
        context = self.execution_context
        outcome = _outcome(errors, getattr(context.result, "data", None))
        operation = operation_label(context.operation_name)
        kind = _operation_type(context)
        REQUESTS.labels(operation, kind, outcome).inc()
        REQUEST_SECONDS.labels(operation, kind).observe(took)
        fields: dict[str, object] = {
            "request_id": getattr(context.context, "request_id", None),
            "operation": context.operation_name or "anonymous",
            "type": kind,
            "outcome": outcome,
            "duration_ms": round(took * 1000, 1),
        }
        codes = sorted({_code(e) for e in errors})
        if codes:
            fields["codes"] = ",".join(codes)
        log.info("graphql %s", outcome, extra={"fields": fields})

    def get_results(self) -> dict[str, Any]:
        request_id = getattr(self.execution_context.context, "request_id", None)
        return {"requestId": request_id} if request_id else {}


def _operation_type(context: Any) -> str:
    try:
        return str(context.operation_type.value)
    except Exception:  # no document (a syntax error) or no such operation
        return "unknown"


def _outcome(errors: list[GraphQLError], data: object) -> str:
    if any(is_unavailable(e.original_error) for e in errors):
        return "unavailable"
    if any(e.original_error is not None and not isinstance(e.original_error, PhasewiseError) for e in errors):
        return "internal_error"
    if errors:
        return "client_error"
    if isinstance(data, dict) and any(isinstance(v, dict) and v.get("errors") for v in data.values()):
        return "rejected"
    return "ok"


def _code(error: GraphQLError) -> str:
    original = error.original_error
    if isinstance(original, PhasewiseError):
        return original.code.value
    if original is None:
        return "GRAPHQL_VALIDATION"
    return "UNAVAILABLE" if is_unavailable(original) else "INTERNAL"
