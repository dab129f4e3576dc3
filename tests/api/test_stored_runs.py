"""A stored run whose document no longer parses is an error naming the run, never an empty schedule."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

from tests.api.helpers import demo_devices

OPTIMIZE = "mutation($s: ID!) { optimizeSite(siteId: $s) { errors { code } run { id schedules { kind } } } }"
START = (
    "mutation($d: ID!) { startChargingSession(deviceId: $d, usedChargingPins: [PIN1, PIN2, PIN3], "
    "target: {energyAmountNeeded: 5000}) { errors { field } } }"
)
READ = """query($s: ID!, $d: ID!) {
  site: node(id: $s) { ... on Site { schedule { id schedules { kind power } } enforcedLimits { uuid }
    optimizationRuns { nodes { id timestamps } } } }
  pole: node(id: $d) { ... on Device { schedule { power } enforcedLimits { validUntil } } } }"""


async def stored_run(app, api, tenant) -> tuple[str, str, str]:
    _, site_id, devices = await demo_devices(api, tenant)
    await api.ok(START, {"d": devices["pole_entrance"]}, tenant.operator)
    run = (await api.ok(OPTIMIZE, {"s": site_id}, tenant.operator))["optimizeSite"]["run"]
    assert {s["kind"] for s in run["schedules"]} >= {"charging_pole"}
    async with app.state.db.session() as session:
        (run_pk,) = (await session.execute(text("SELECT id::text FROM optimization_run"))).one()
    return site_id, devices["pole_entrance"], run_pk


async def rewrite(app, statement: str) -> None:
    async with app.state.db.transaction() as session:
        await session.execute(text(statement))


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE optimization_run SET result = (result - 'devices') || jsonb_build_object('plans', result->'devices')",
        "UPDATE optimization_run SET result = result - 'timestamps'",
        "UPDATE optimization_run SET enforced_limits = (SELECT jsonb_agg((e - 'uuid') || jsonb_build_object("
        "'device', e->'uuid')) FROM jsonb_array_elements(enforced_limits) e)",
    ],
    ids=["devices renamed", "timestamps missing", "enforced uuid renamed"],
)
async def test_a_renamed_key_in_a_stored_run_is_an_error_not_an_empty_answer(app, api, tenant_a, caplog, statement):
    site_id, pole_id, run_pk = await stored_run(app, api, tenant_a)
    intact = await api.ok(READ, {"s": site_id, "d": pole_id}, tenant_a.viewer)
    assert intact["site"]["schedule"]["schedules"] and intact["pole"]["schedule"]["power"]
    assert intact["site"]["enforcedLimits"] and intact["pole"]["enforcedLimits"]

    await rewrite(app, statement)
    with caplog.at_level(logging.ERROR):
        body = await api.post(READ, {"s": site_id, "d": pole_id}, tenant_a.viewer)
    assert body.get("errors"), body
    # Internal faults are masked for the caller; the server's log names the run that does not parse.
    assert {e["message"] for e in body["errors"]} == {"Unexpected error."}
    assert run_pk in caplog.text and "does not parse" in caplog.text
    data = body["data"]
    answers = [data["site"] and data["site"].get("schedule"), data["pole"] and data["pole"].get("schedule")]
    assert not any(answer and answer.get("schedules") == [] for answer in answers)
    assert not (data["site"] and data["site"].get("enforcedLimits") == [])
