"""A constraint that lowers a pole takes effect at its station at once, without waiting for a re-plan: here
the control loop is off, so no run can follow, and the station is still held under the new bound. A plan
made after the constraint then replaces the hold (the optimizer's own limits, within the bound)."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.applications import Starlette

from phasewise.asgi import create_app
from tests.live.conftest import live_settings
from tests.ocpp.conftest import PASSWORD, RUNS, station_on_pole
from tests.ocpp.sim import connected
from tests.serving import serving

OPTIMIZE = "mutation($s: ID!) { optimizeSite(siteId: $s) { run { id } errors { code message } } }"
SET = """mutation($d: ID!, $at: DateTime!, $max: Float, $set: Float) {
  setConstraint(deviceId: $d, priority: 10, invalidAt: $at, maxActivePower: $max, activePower: $set) {
    constraint { id } errors { code message } } }"""
VOLTS = 230.0
BOUND_S = 3600  # the constraints' lifetime


@pytest.fixture
async def server(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[Starlette, str]]:
    """The OCPP tests' server (and so their client and tenants) without a control loop: nothing re-plans."""
    settings = live_settings(tmp_path).model_copy(update={"control_loop": False, "ocpp_call_timeout_s": 2.0})
    app = create_app(settings, database_url)
    async with serving(app) as address:
        yield app, address


async def run_count(http, tenant, site_id) -> int:
    return len((await http.ok(RUNS, {"s": site_id}, tenant.viewer))["node"]["optimizationRuns"]["nodes"])


async def test_a_lowered_bound_holds_the_station_before_any_replan(server, http, alpha):
    _, address = server
    site_id, devices = await station_on_pole(http, alpha, "CP-HOLD")
    pole = devices["pole_entrance"]
    later = (datetime.now(UTC) + timedelta(seconds=BOUND_S)).isoformat()
    async with connected(address, "CP-HOLD", PASSWORD) as station:
        await station.boot()
        await station.transaction("tx-h", "Started", 0, charging_state="Charging", phases=3)
        await http.ok(OPTIMIZE, {"s": site_id}, alpha.operator)
        planned = await station.profile(lambda p: p.limit > 10.0)
        assert planned.profile["charging_profile_purpose"] == "TxProfile"

        # 10 A on three phases: the station hears it with no run in between (the control loop is off).
        await http.ok(SET, {"d": pole, "at": later, "max": 10 * 3 * VOLTS}, alpha.operator)
        held = await station.profile(lambda p: p.limit <= 10.0 + 1e-6)
        assert held.limit == 10.0 and await run_count(http, alpha, site_id) == 1
        assert held.profile["transaction_id"] == "tx-h"
        assert all(p["limit"] <= 10.0 for p in held.periods if p["start_period"] < BOUND_S - 60)  # while it lasts

        # A set point under the car's minimum current (6 A) means 0: a car takes 0 or at least its minimum.
        await http.ok(SET, {"d": pole, "at": later, "set": 4 * 3 * VOLTS}, alpha.operator)
        stopped = await station.profile(lambda p: p.limit == 0.0)
        assert all(p["limit"] == 0.0 for p in stopped.periods if p["start_period"] < BOUND_S - 60)
        assert await run_count(http, alpha, site_id) == 1

        # A plan made after the constraints knows them: its limits replace the hold, within the bound.
        await http.ok(OPTIMIZE, {"s": site_id}, alpha.operator)
        replanned = await station.profile()
        assert replanned.limit <= 10.0 + 1e-6 and await run_count(http, alpha, site_id) == 2
