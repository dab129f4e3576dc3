"""Limits that mean what they say: valid from the moment they are issued, renewed while healthy, never sent
expired, every pole in every set, paused sites on fuse-safe fallback limits, deleted sites end their sessions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.applications import Starlette

from phasewise.asgi import create_app
from tests.api.helpers import demo_devices
from tests.live.conftest import Listener, live_settings
from tests.serving import serving

LIMITS = """subscription($s: ID!) { enforcedLimits(siteId: $s) {
  uuid validUntil validFor issuedAt fallback limitsRootSide { acMaxCurrentA } device { name } } }"""
START = """mutation($d: ID!) { startChargingSession(deviceId: $d, usedChargingPins: [PIN1, PIN2, PIN3]) {
  chargingSession { id } errors { message } } }"""
OPTIMIZE = """mutation($s: ID!) { optimizeSite(siteId: $s) {
  run { id enforcedLimits { uuid validUntil validFor issuedAt fallback limitsRootSide { acMaxCurrentA } } }
  errors { code field message } } }"""
PAUSE = "mutation($id: ID!, $p: Boolean) { updateSite(id: $id, input: {paused: $p}) { site { status } errors { message } } }"
DELETE = "mutation($id: ID!) { deleteSite(id: $id) { errors { message } } }"
SESSION = "query($id: ID!) { node(id: $id) { ... on ChargingSession { state endedAt } } }"
POLES = {"pole_entrance", "pole_garage_1", "pole_garage_2", "pole_carport"}


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
async def served(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A live server with the settings a test gives as its indirect parameter (the live defaults otherwise)."""
    settings = live_settings(tmp_path).model_copy(update=getattr(request, "param", {}))
    app: Starlette = create_app(settings, database_url)
    request.node.app = app
    async with serving(app) as address:
        yield address


@pytest.fixture
async def tenant_api(served: str, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    import httpx

    from tests.api.conftest import Api, make_tenant

    async with httpx.AsyncClient(base_url=f"http://{served}", timeout=30) as client:
        api = Api(client)
        yield api, await make_tenant(request.node.app, api, "alpha")


@pytest.mark.parametrize("served", [{"enforced_valid_for_s": 9.0}], indirect=True)
async def test_limits_hold_for_their_validity_from_the_issue_time_and_the_heartbeat_renews_them(served, tenant_api):
    api, alpha = tenant_api
    _, site_id, devices = await demo_devices(api, alpha)
    listener = await Listener(served, alpha.viewer, LIMITS, {"s": site_id}).start()
    try:
        before = datetime.now(UTC)
        await api.ok(START, {"d": devices["pole_entrance"]}, alpha.operator)
        first = await listener.until(
            lambda m: any(e["limitsRootSide"]["acMaxCurrentA"] > 0 for e in m["enforcedLimits"])
        )
        received = datetime.now(UTC)
        for entry in first["enforcedLimits"]:
            issued, until = _instant(entry["issuedAt"]), _instant(entry["validUntil"])
            assert entry["validFor"] == 9.0 and until - issued == timedelta(seconds=9)
            assert before - timedelta(seconds=1) <= issued <= received and until > received
            assert entry["fallback"] is False
        assert {e["device"]["name"] for e in first["enforcedLimits"]} >= POLES, "every pole is in the set"
        idle = [e for e in first["enforcedLimits"] if e["device"]["name"] in POLES - {"pole_entrance"}]
        assert idle and all(e["limitsRootSide"]["acMaxCurrentA"] == 0.0 for e in idle), "idle poles get 0 A"

        # The heartbeat renews them before they expire, with nothing else happening on the site.
        first_until = min(_instant(e["validUntil"]) for e in first["enforcedLimits"])
        renewed = await listener.until(
            lambda m: (
                min(_instant(e["issuedAt"]) for e in m["enforcedLimits"])
                > max(_instant(e["issuedAt"]) for e in first["enforcedLimits"])
            ),
            timeout=60,
        )
        assert min(_instant(e["issuedAt"]) for e in renewed["enforcedLimits"]) < first_until
        assert all(_instant(e["validUntil"]) > datetime.now(UTC) for e in renewed["enforcedLimits"])
    finally:
        await listener.stop()


@pytest.mark.parametrize("served", [{"enforced_valid_for_s": 1.0, "control_loop": False}], indirect=True)
async def test_limits_past_their_valid_until_are_never_sent(served, tenant_api):
    api, alpha = tenant_api
    _, site_id, devices = await demo_devices(api, alpha)
    await api.ok(START, {"d": devices["pole_entrance"]}, alpha.operator)
    old = (await api.ok(OPTIMIZE, {"s": site_id}, alpha.operator))["optimizeSite"]["run"]
    expiry = min(_instant(e["validUntil"]) for e in old["enforcedLimits"])
    while datetime.now(UTC) <= expiry:  # until the stored limits have expired (an event, bounded by 1 s)
        await asyncio.sleep(0.05)
    # A subscriber arriving now (as after a database outage: the catch-up reads the latest run) hears nothing
    # of the expired limits; the first set it gets is the next one.
    listener = await Listener(served, alpha.viewer, LIMITS, {"s": site_id}).start()
    try:
        new = (await api.ok(OPTIMIZE, {"s": site_id}, alpha.operator))["optimizeSite"]["run"]
        first = await listener.next(timeout=60)
        assert {e["issuedAt"] for e in first["enforcedLimits"]} == {e["issuedAt"] for e in new["enforcedLimits"]}
        assert all(_instant(e["validUntil"]) > expiry for e in first["enforcedLimits"])
    finally:
        await listener.stop()


async def test_a_paused_site_is_refused_and_its_poles_get_fuse_safe_fallback_limits(served, tenant_api):
    api, alpha = tenant_api
    _, site_id, devices = await demo_devices(api, alpha)
    await api.ok(START, {"d": devices["pole_garage_1"]}, alpha.operator)
    await api.ok(PAUSE, {"id": site_id, "p": True}, alpha.operator)
    refused = (await api.post(OPTIMIZE, {"s": site_id}, alpha.operator))["data"]["optimizeSite"]
    assert refused["run"] is None
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("SITE_PAUSED", "siteId")]

    listener = await Listener(served, alpha.viewer, LIMITS, {"s": site_id}).start()
    try:
        limits = await listener.until(
            lambda m: m["enforcedLimits"] and all(e["fallback"] for e in m["enforcedLimits"]), timeout=60
        )
        by_name = {e["device"]["name"]: e["limitsRootSide"]["acMaxCurrentA"] for e in limits["enforcedLimits"]}
        assert set(by_name) >= POLES
        assert 6.0 <= by_name["pole_garage_1"] <= 16.0, "within the 16 A pole, under a 32 A board"
        assert all(by_name[p] == 0.0 for p in POLES - {"pole_garage_1"})
    finally:
        await listener.stop()


async def test_deleting_a_site_ends_its_open_sessions(served, tenant_api):
    api, alpha = tenant_api
    _, site_id, devices = await demo_devices(api, alpha)
    started = await api.ok(START, {"d": devices["pole_entrance"]}, alpha.operator)
    session_id = started["startChargingSession"]["chargingSession"]["id"]
    assert (await api.ok(SESSION, {"id": session_id}, alpha.viewer))["node"]["state"] != "ENDED"
    await api.ok(DELETE, {"id": site_id}, alpha.operator)
    ended = (await api.ok(SESSION, {"id": session_id}, alpha.viewer))["node"]
    assert ended["state"] == "ENDED" and ended["endedAt"] is not None
