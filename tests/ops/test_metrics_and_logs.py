"""`/metrics` in the Prometheus text format with counters that follow requests; one structured log line per
request carrying the request id the answer also shows; tracebacks only for internal faults."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from phasewise.asgi import create_app
from phasewise.logs import GraphQLErrorFilter, JsonFormatter, KeyValueFormatter
from tests.api.conftest import Api, Tenant, make_tenant
from tests.ops.conftest import ops_settings

VIEWER = "query WhoAmI { viewer { account { id } } }"


@pytest.fixture
async def client(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Tenant]]:
    app = create_app(ops_settings(tmp_path), database_url)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://phasewise.test") as http,
    ):
        yield http, await make_tenant(app, Api(http), "alpha")


async def _samples(http: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    answer = await http.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def _key(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return name, frozenset(labels.items())


async def test_metrics_parse_and_move_with_requests(client: tuple[httpx.AsyncClient, Tenant]):
    http, tenant = client
    before = await _samples(http)
    for name in (
        "phasewise_optimizer_failures_total",
        "phasewise_optimizer_fallback_runs_total",
        "phasewise_enforced_limit_publications_total",
        "phasewise_open_subscriptions",
        "phasewise_event_lag_seconds_count",
        "phasewise_ingested_points_total",
    ):
        assert _key(name) in before, name
    assert _key("phasewise_db_pool_connections", state="in_use") in before

    for _ in range(3):
        await http.post("/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {tenant.viewer}"})
    await http.post("/graphql", json={"query": VIEWER})  # no credential: the caller's mistake
    after = await _samples(http)

    ok = _key("phasewise_graphql_requests_total", operation="WhoAmI", type="query", outcome="ok")
    refused = _key("phasewise_graphql_requests_total", operation="WhoAmI", type="query", outcome="client_error")
    latency = _key("phasewise_graphql_request_duration_seconds_count", operation="WhoAmI", type="query")
    assert after[ok] - before.get(ok, 0) == 3
    assert after[refused] - before.get(refused, 0) == 1
    assert after[latency] - before.get(latency, 0) == 4


async def test_one_line_per_request_with_the_request_id_the_answer_shows(
    client: tuple[httpx.AsyncClient, Tenant], caplog: pytest.LogCaptureFixture
):
    http, tenant = client
    caplog.set_level(logging.INFO)
    caplog.clear()
    answer = await http.post(
        "/graphql",
        json={"query": VIEWER},
        headers={"Authorization": f"Bearer {tenant.viewer}", "X-Request-Id": "from-the-gateway-42"},
    )
    assert answer.json()["extensions"] == {"requestId": "from-the-gateway-42"}
    assert answer.headers["x-request-id"] == "from-the-gateway-42"
    (line,) = [r for r in caplog.records if r.name == "phasewise.request"]
    fields = line.fields  # type: ignore[attr-defined]
    assert {k: fields[k] for k in ("request_id", "operation", "type", "outcome")} == {
        "request_id": "from-the-gateway-42",
        "operation": "WhoAmI",
        "type": "query",
        "outcome": "ok",
    }
    assert fields["duration_ms"] >= 0

    caplog.clear()
    for mistake in (VIEWER, "{ viewer { nonsense } }", "{ not graphql"):
        answer = await http.post("/graphql", json={"query": mistake})
        generated = answer.json()["extensions"]["requestId"]
        assert len(generated) == 32 and answer.headers["x-request-id"] == generated
    lines = [r for r in caplog.records if r.name == "phasewise.request"]
    assert [r.fields["outcome"] for r in lines] == ["client_error"] * 3  # type: ignore[attr-defined]
    assert lines[0].fields["codes"] == "UNAUTHENTICATED"  # type: ignore[attr-defined]
    assert not [r for r in caplog.records if r.exc_info], "a caller's mistake is logged without a traceback"


def _record(error: BaseException | None, fields: dict[str, object] | None = None) -> logging.LogRecord:
    exc_info = (type(error), error, error.__traceback__) if error else None
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom %s", ("now",), exc_info)
    if fields:
        record.fields = fields  # type: ignore[attr-defined]
    return record


def test_internal_faults_keep_their_traceback_in_either_format():
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        fault = sys.exc_info()[1]
    from app.errors import Forbidden

    graphql_filter = GraphQLErrorFilter()
    assert graphql_filter.filter(_record(fault)) and not graphql_filter.filter(_record(Forbidden("no")))

    as_json = json.loads(JsonFormatter().format(_record(fault, {"request_id": "r1"})))
    assert (
        as_json["msg"] == "boom now" and as_json["request_id"] == "r1" and "RuntimeError: a bug" in as_json["traceback"]
    )
    first, *traceback = (
        KeyValueFormatter().format(_record(fault, {"request_id": "r1", "operation": "a b"})).splitlines()
    )
    assert 'msg="boom now"' in first and "request_id=r1" in first and 'operation="a b"' in first
    assert traceback[-1] == "RuntimeError: a bug"
