"""Every client mistake gets a code and names its argument or field; only internal faults are masked."""

from __future__ import annotations

import base64
import logging
import uuid
from typing import Any

import pytest

import resolvers.query
from tests.api.conftest import Api
from tests.api.helpers import demo_devices, site_with_topology


def refused(body: dict[str, Any], code: str, name: str) -> dict[str, Any]:
    """The first error has `code`, and its message or field names `name`; never the masked answer."""
    assert body.get("errors"), body
    error = body["errors"][0]
    assert error["message"] != "Unexpected error.", body
    assert error["extensions"]["code"] == code, error
    assert name in error["message"] or name in str(error["extensions"].get("field")), error
    return error


async def test_bad_variables_are_named_with_a_code(api: Api, tenant_a) -> None:
    sites = "query($n: Int) { sites(first: $n) { totalCount } }"
    refused(await api.post(sites, {"n": "many"}, tenant_a.viewer), "INVALID_FORMAT", "$n")
    refused(await api.post(sites, {"n": 1.5}, tenant_a.viewer), "INVALID_FORMAT", "$n")
    _, site_id, devices = await demo_devices(api, tenant_a)
    device = next(iter(devices.values()))
    measurements = """query($id: ID!, $r: Resolution!, $from: DateTime!, $to: DateTime!) { node(id: $id) {
      ... on ChargingPole { measurements(resolution: $r, from: $from, to: $to) { timestamp } } } }"""
    good = {"id": device, "r": "MIN15", "from": "2026-01-01T00:00:00Z", "to": "2026-01-01T12:00:00Z"}
    assert "errors" not in await api.post(measurements, good, tenant_a.viewer)
    refused(await api.post(measurements, {**good, "r": "FORTNIGHT"}, tenant_a.viewer), "INVALID_FORMAT", "$r")
    refused(await api.post(measurements, {**good, "from": "yesterday"}, tenant_a.viewer), "INVALID_FORMAT", "$from")
    missing = {k: v for k, v in good.items() if k != "to"}
    refused(await api.post(measurements, missing, tenant_a.viewer), "REQUIRED", "$to")
    refused(await api.post(measurements, {**good, "to": None}, tenant_a.viewer), "REQUIRED", "$to")
    late = {**good, "to": "9999-12-31T23:59:59-14:00"}
    refused(await api.post(measurements, late, tenant_a.viewer), "OUT_OF_RANGE", "$to")
    early = {**good, "from": "1900-01-01T00:00:00Z"}
    refused(await api.post(measurements, early, tenant_a.viewer), "OUT_OF_RANGE", "$from")


async def test_literal_mistakes_are_named_with_a_code(api: Api, tenant_a) -> None:
    refused(await api.post('{ node(id: "") { id } }', token=tenant_a.viewer), "INVALID_FORMAT", "node(id:)")
    refused(await api.post('{ sites(first: "x") { totalCount } }', token=tenant_a.viewer), "INVALID_FORMAT", "Int")
    refused(await api.post("{ sites { nope } }", token=tenant_a.viewer), "GRAPHQL_VALIDATION_FAILED", "nope")
    refused(await api.post("{ sites { ", token=tenant_a.viewer), "GRAPHQL_PARSE_FAILED", "Syntax Error")
    body = await api.post(
        '{ node(id: "U2l0ZTo=") { id } }', token=tenant_a.viewer
    )  # "Site:" with no id: not found, not a fault
    assert body["data"] == {"node": None}, body


async def test_global_ids_that_do_not_decode(api: Api, tenant_a) -> None:
    node = "query($id: ID!) { node(id: $id) { id } }"
    refused(await api.post(node, {"id": ""}, tenant_a.viewer), "INVALID_FORMAT", "$id")
    refused(await api.post(node, {"id": "%%%"}, tenant_a.viewer), "INVALID_FORMAT", "$id")
    raw = str(uuid.uuid4())
    constraint = """mutation($d: ID!) { setConstraint(deviceId: $d, priority: 1, invalidAt: "2030-01-01T00:00:00Z",
      activePower: 1000) { errors { code field message } } }"""
    body = await api.post(constraint, {"d": raw}, tenant_a.operator)
    if body.get("errors"):
        refused(body, "INVALID_FORMAT", "$d")
    else:
        (error,) = body["data"]["setConstraint"]["errors"]
        assert error["field"] == "deviceId", error


async def test_control_characters_are_refused_in_any_text(api: Api, tenant_a) -> None:
    login = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token errors { code } } }"
    refused(await api.post(login, {"e": "a\u0000b@x.test", "p": "x"}), "INVALID_FORMAT", "$e")
    refused(await api.post(login, {"e": "a@x.test", "p": "x\u0007"}), "INVALID_FORMAT", "$p")
    literal = 'mutation { login(email: "a\\u0000b", password: "x") { token } }'
    refused(await api.post(literal), "INVALID_FORMAT", "login(email:)")
    system_id, site_id = await site_with_topology(api, tenant_a.operator, tenant_a.account_id)
    document = {"collector_list": [{"name": "main\u0000", "line_current": 63}], "device_list": []}
    apply = "mutation($s: ID!, $d: JSON!) { applySiteConfiguration(siteId: $s, document: $d) { errors { code } } }"
    refused(await api.post(apply, {"s": site_id, "d": document}, tenant_a.operator), "INVALID_FORMAT", "$d")
    # Tabs and newlines are text.
    body = await api.post(login, {"e": "a@x.test\t", "p": "line\nbreak"})
    assert body["data"]["login"]["errors"][0]["code"] == "UNAUTHENTICATED", body


async def test_explicit_nulls_in_the_optimization_configuration(api: Api, tenant_a) -> None:
    _, site_id = await site_with_topology(api, tenant_a.operator, tenant_a.account_id)
    mutation = """mutation($s: ID!, $i: OptimizationConfigurationInput!) { setOptimizationConfiguration(siteId: $s,
      input: $i) { optimizationConfiguration { stepSeconds } errors { code field message } } }"""
    for name in ("timeLimitSeconds", "stepSeconds", "horizonSeconds", "solver", "costMinimization"):
        body = await api.post(mutation, {"s": site_id, "i": {name: None}}, tenant_a.operator)
        assert "errors" not in body, body
        (error,) = body["data"]["setOptimizationConfiguration"]["errors"]
        assert (error["code"], error["field"]) == ("REQUIRED", name), error
    body = await api.post(mutation, {"s": site_id, "i": {"peakPricePerKw": None}}, tenant_a.operator)
    assert body["data"]["setOptimizationConfiguration"]["errors"] == [], body


async def test_cursors_that_this_api_did_not_return(api: Api, tenant_a) -> None:
    query = "query($a: String) { sites(after: $a) { totalCount } }"
    for offset in ("9" * 30, "9" * 5000, "-5", "x"):
        cursor = base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()
        refused(await api.post(query, {"a": cursor}, tenant_a.viewer), "INVALID_FORMAT", "after")
    refused(await api.post(query, {"a": "not base64 at all"}, tenant_a.viewer), "INVALID_FORMAT", "after")


async def test_document_null(api: Api, tenant_a) -> None:
    _, site_id = await site_with_topology(api, tenant_a.operator, tenant_a.account_id)
    apply = "mutation($s: ID!, $d: JSON!) { applySiteConfiguration(siteId: $s, document: $d) { errors { code } } }"
    refused(await api.post(apply, {"s": site_id, "d": None}, tenant_a.operator), "REQUIRED", "$d")
    literal = "mutation($s: ID!) { applySiteConfiguration(siteId: $s, document: null) { errors { code } } }"
    refused(await api.post(literal, {"s": site_id}, tenant_a.operator), "GRAPHQL_VALIDATION_FAILED", "document")


async def test_subscription_over_post_and_mutation_over_get(api: Api, tenant_a) -> None:
    response = await api.client.post(
        "/graphql",
        json={"query": "subscription($s: ID!) { scheduleUpdated(siteId: $s) { id } }", "variables": {"s": "x"}},
        headers={"Authorization": f"Bearer {tenant_a.viewer}"},
    )
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST", error
    assert "subscription" in error["message"].lower() and "websocket" in error["message"].lower(), error
    response = await api.client.get(
        "/graphql", params={"query": 'mutation { login(email: "a", password: "b") { token } }'}
    )
    assert response.status_code in (400, 405), response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_malformed_bodies(api: Api) -> None:
    for content in (b"{", b"[1, 2]", b'{"query": 5}', b'{"query": "{ __typename }", "variables": [1]}', b"\xff"):
        response = await api.client.post("/graphql", content=content, headers={"content-type": "application/json"})
        assert response.status_code == 400, (content, response.text)
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST", (content, response.text)


async def test_internal_faults_are_masked_logged_once_and_carry_a_request_id(
    api: Api, tenant_a, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(**_: object) -> None:
        raise RuntimeError("secret detail of a bug")

    monkeypatch.setattr(resolvers.query, "Viewer", broken)
    with caplog.at_level(logging.ERROR):
        body = await api.post("{ viewer { role } }", token=tenant_a.viewer)
    (error,) = body["errors"]
    assert error["message"] == "Unexpected error."
    assert error["extensions"]["code"] == "INTERNAL_ERROR"
    request_id = error["extensions"]["requestId"]
    assert len(request_id) == 32
    faults = [r for r in caplog.records if request_id in r.getMessage()]
    assert len(faults) == 1 and faults[0].exc_info is not None
    assert "secret detail" not in str(body)
    # Client errors are answered, not logged.
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        await api.post("{ sites { nope } }", token=tenant_a.viewer)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
