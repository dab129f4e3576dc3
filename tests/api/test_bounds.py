"""Absurd values are refused with the field and the bound: physics, prices, timestamps, names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.api.conftest import Api
from tests.api.helpers import APPLY, CREATE_SYSTEM, demo_devices, demo_document, site_with_topology

INGEST = (
    "mutation($p: MeasurementPoints!) { ingestMeasurements(points: $p) { accepted errors { code field message } } }"
)
PRICES = """mutation($s: ID!, $i: [PricePerkWhInput!]) { setPrices(siteId: $s, import: $i) {
  errors { code field message } } }"""
CONSTRAINT = """mutation($d: ID!, $at: DateTime!, $p: Float) { setConstraint(deviceId: $d, priority: 1, invalidAt: $at,
  activePower: $p) { errors { code field message } } }"""


def one_error(payload: dict[str, Any], code: str, field: str, bound: str | None = None) -> dict[str, Any]:
    errors = payload["errors"]
    assert errors, payload
    error = next((e for e in errors if e["field"] == field), errors[0])
    assert (error["code"], error["field"]) == (code, field), errors
    if bound is not None:
        assert bound in error["message"], error
    return error


async def test_line_currents_and_ratings_have_physical_bounds(api: Api, tenant_a) -> None:
    _, site_id = await site_with_topology(api, tenant_a.operator, tenant_a.account_id)
    document = demo_document()
    document["collector_list"][0]["line_current"] = 1e308
    body = await api.post(APPLY, {"site": site_id, "doc": document}, tenant_a.operator)
    one_error(body["data"]["applySiteConfiguration"], "OUT_OF_RANGE", "collector_list[0].line_current", "10000")
    document = demo_document()
    document["device_list"][0]["name"] = "x" * 100_000
    body = await api.post(APPLY, {"site": site_id, "doc": document}, tenant_a.operator)
    one_error(body["data"]["applySiteConfiguration"], "OUT_OF_RANGE", "device_list[0].name", "200")
    document = demo_document()
    document["device_list"][0]["name"] = "pole\u202eevil"
    body = await api.post(APPLY, {"site": site_id, "doc": document}, tenant_a.operator)
    one_error(body["data"]["applySiteConfiguration"], "INVALID_FORMAT", "device_list[0].name", "printable")


async def test_names_are_at_most_200_printable_characters(api: Api, tenant_a) -> None:
    for name, code, bound in (("x" * 100_000, "OUT_OF_RANGE", "200"), ("a\u2066b", "INVALID_FORMAT", "printable")):
        body = await api.post(
            CREATE_SYSTEM, {"input": {"accountId": tenant_a.account_id, "name": name}}, tenant_a.operator
        )
        one_error(body["data"]["createSystem"], code, "name", bound)
    body = await api.post(
        CREATE_SYSTEM, {"input": {"accountId": tenant_a.account_id, "name": "Zoë's 家"}}, tenant_a.operator
    )
    assert body["data"]["createSystem"]["errors"] == [], body


async def test_prices_set_points_and_measured_power(api: Api, tenant_a) -> None:
    _, site_id, devices = await demo_devices(api, tenant_a)
    device = next(iter(devices.values()))
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    prices = [{"timestamp": now.isoformat(), "value": 1e308}]
    body = await api.post(PRICES, {"s": site_id, "i": prices}, tenant_a.operator)
    one_error(body["data"]["setPrices"], "OUT_OF_RANGE", "import[0].value", "per kWh")
    at = (now + timedelta(hours=2)).isoformat()
    body = await api.post(CONSTRAINT, {"d": device, "at": at, "p": 1e308}, tenant_a.operator)
    one_error(body["data"]["setConstraint"], "OUT_OF_RANGE", "activePower", "W")
    point = {"deviceId": device, "timestamp": now.isoformat(), "powerValue": 1000.0}
    ok = await api.post(INGEST, {"p": [point]}, tenant_a.operator)
    assert ok["data"]["ingestMeasurements"]["errors"] == [], ok
    for change, code, field in (
        ({"powerValue": 1e308}, "OUT_OF_RANGE", "points[0].powerValue"),
        ({"powerValue": "1000"}, "INVALID_FORMAT", "points[0].powerValue"),
        ({"timestamp": "1900-01-01T00:00:00Z"}, "OUT_OF_RANGE", "points[0].timestamp"),
        ({"energyValue": 1e300}, "OUT_OF_RANGE", "points[0].energyValue"),
    ):
        body = await api.post(INGEST, {"p": [{**point, **change}]}, tenant_a.operator)
        one_error(body["data"]["ingestMeasurements"], code, field)


async def test_optional_texts_are_bounded_too(api: Api, tenant_a) -> None:
    create_user = (
        """mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } errors { code field message } } }"""
    )
    user = {"accountId": tenant_a.account_id, "email": "long@alpha.test", "password": "a long enough passphrase"}
    body = await api.post(create_user, {"i": {**user, "name": "n" * 100_000}}, tenant_a.admin)
    one_error(body["data"]["createUser"], "OUT_OF_RANGE", "name", "200")
    body = await api.post(create_user, {"i": {**user, "name": "bad\u202ename"}}, tenant_a.admin)
    one_error(body["data"]["createUser"], "INVALID_FORMAT", "name", "printable")
    body = await api.post(create_user, {"i": user}, tenant_a.admin)
    assert body["data"]["createUser"]["errors"] == [], body
