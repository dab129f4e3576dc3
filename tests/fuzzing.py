"""A GraphQL fuzzer built from the schema (hypothesis-graphql, the engine of schemathesis's GraphQL support):
valid and schema-violating queries and mutations, with ids, timestamps and JSON documents drawn from real
ids of the caller's world, ids of nobody, garbage, and values at and past the domain's bounds.

A finding is an answer that is a 5xx, or not JSON, or carries "Unexpected error." / INTERNAL_ERROR.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import graphql
import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings
from hypothesis_graphql import Mode
from hypothesis_graphql import strategies as gql_strategies

from resolvers.schema import schema

JUNK_IDS = ["", " ", "%%%", "U2l0ZTo=", "QWNjb3VudDpub3QtYS11dWlk", "00000000-0000-0000-0000-000000000000", "\u0000"]
TIMESTAMPS = [
    "2026-01-01T00:00:00Z",
    "2026-06-30T12:00:00+02:00",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "1900-01-01T00:00:00Z",
    "2026-13-01T00:00:00Z",
    "yesterday",
    "",
]


def _json_values() -> st.SearchStrategy[Any]:
    leaves = (
        st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=30)
    )
    return st.recursive(
        leaves, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    )


def _value_node(value: Any) -> graphql.ValueNode:
    node = graphql.ast_from_value(value, graphql.GraphQLString) if isinstance(value, str) else None
    if node is not None:
        return node
    if isinstance(value, bool):
        return graphql.BooleanValueNode(value=value)
    if isinstance(value, int):
        return graphql.IntValueNode(value=str(value))
    if isinstance(value, float):
        return graphql.FloatValueNode(value=repr(value))
    if isinstance(value, list):
        return graphql.ListValueNode(values=tuple(_value_node(v) for v in value))
    if isinstance(value, dict):
        return graphql.ObjectValueNode(
            fields=tuple(
                graphql.ObjectFieldNode(name=graphql.NameNode(value=f"k{i}"), value=_value_node(v))
                for i, v in enumerate(value.values())
            )
        )
    return graphql.NullValueNode()


def custom_scalars(ids: list[str], documents: list[Any]) -> dict[str, st.SearchStrategy[graphql.ValueNode]]:
    strings = lambda values: st.sampled_from(values).map(_value_node)  # noqa: E731
    return {
        "ID": strings(ids + JUNK_IDS),
        "DateTime": strings(TIMESTAMPS),
        "JSON": (st.sampled_from(documents) | _json_values()).map(_value_node),
        "MeasurementPoints": _json_values().map(_value_node),
    }


@dataclass
class FuzzReport:
    sent: int = 0
    seconds: float = 0.0
    outcomes: Counter[str] = field(default_factory=Counter)
    findings: list[tuple[str, str]] = field(default_factory=list)

    def line(self) -> str:
        rate = self.sent / self.seconds if self.seconds else 0.0
        kinds = ", ".join(f"{k} {v}" for k, v in self.outcomes.most_common())
        return f"{self.sent} requests in {self.seconds:.1f} s ({rate:.0f}/s): {kinds}; findings {len(self.findings)}"


class _ErrorLogs(logging.Handler):
    """ERROR records logged while the fuzz runs: a fault can answer in time and still log (an exception in a
    callback after the answer went out), and that is a finding too."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def take(self) -> str | None:
        if not self.records:
            return None
        taken, self.records = self.records, []
        return "logged: " + "; ".join(f"{r.name}: {r.getMessage()[:200]} ({_exception(r)})" for r in taken)


def _exception(record: logging.LogRecord) -> str:
    return record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else "no exception"


def classify(status: int, body: Any) -> str:
    if status >= 500 or not isinstance(body, dict):
        return "finding"
    errors = body.get("errors") or []
    if any(
        e.get("message") == "Unexpected error." or e.get("extensions", {}).get("code") == "INTERNAL_ERROR"
        for e in errors
    ):
        return "finding"
    if errors:
        codes = {str(e.get("extensions", {}).get("code")) for e in errors}
        return "refused " + "/".join(sorted(codes))
    data = body.get("data") or {}
    payload_errors = [v.get("errors") for v in data.values() if isinstance(v, dict) and v.get("errors")]
    return "user errors" if payload_errors else "ok"


_BATCH = 25


def _draw(strategy: st.SearchStrategy[str], count: int) -> list[str]:
    """`count` fresh queries (each batch is a new hypothesis run, so generation and sending interleave)."""
    drawn: list[str] = []

    @settings(max_examples=count, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def draw(query: str) -> None:
        drawn.append(query)

    draw()
    return drawn[:count]


async def fuzz(
    client: Any, token: str, ids: list[str], documents: list[Any], *, examples: int, seconds: float
) -> FuzzReport:
    """Draws queries in small batches and sends them until `examples` or `seconds` run out, whichever comes
    first (hypothesis's `given` is synchronous, so it only generates; sending happens here)."""
    report = FuzzReport()
    scalars = custom_scalars(ids, documents)
    graphql_schema = schema._schema
    strategy = st.one_of(
        gql_strategies.from_schema(graphql_schema, custom_scalars=scalars),
        gql_strategies.from_schema(graphql_schema, custom_scalars=scalars, mode=Mode.NEGATIVE),
    )
    logs = _ErrorLogs()
    logging.getLogger().addHandler(logs)
    try:
        await _send(client, token, strategy, report, logs, examples=examples, seconds=seconds)
    finally:
        logging.getLogger().removeHandler(logs)
    return report


async def _send(
    client: Any,
    token: str,
    strategy: st.SearchStrategy[str],
    report: FuzzReport,
    logs: _ErrorLogs,
    *,
    examples: int,
    seconds: float,
) -> None:
    start = time.perf_counter()
    while report.sent < examples and time.perf_counter() - start < seconds:
        for query in _draw(strategy, min(_BATCH, examples - report.sent)):
            if time.perf_counter() - start > seconds:
                break
            response = await client.post(
                "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
            )
            try:
                body = response.json()
            except ValueError:
                body = None
            outcome = classify(response.status_code, body)
            logged = logs.take()
            if logged is not None:
                outcome = "finding"
            report.outcomes[outcome] += 1
            report.sent += 1
            if outcome == "finding":
                report.findings.append((query, logged or response.text[:500]))
    report.seconds = time.perf_counter() - start
