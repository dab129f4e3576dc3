"""The dashboard in a real headless Chromium against the real server: sign-in, the demo site's tree with
per-phase values, the plan's plots and binding limits, live limits and measurements, and no request that
leaves the server."""

from __future__ import annotations

import asyncio
import base64
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.async_api import Browser, Page, expect

from app.demo import DEMO_CONFIGURATION
from tests.browser.conftest import Demo, Recorded, only_server, open_page, screenshot_path, sign_in

COLLECTORS = {c["name"]: c for c in DEMO_CONFIGURATION["collector_list"]}
DEVICES = {d["name"] for d in DEMO_CONFIGURATION["device_list"]}
AMPS = re.compile(r"^-?\d+\.\d A$")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

SITE = """query($id: ID!) { node(id: $id) { ... on Site {
  devices { nodes { id name latestMeasurement { pins { pin currentValue } powerValue }
    enforcedLimits { limitsRootSide { acMaxCurrentA } }
    ... on ChargingPole { activeSession { id } } } }
  schedule { timestamps sessions { device { name } } bindingLimits { kind phase collector { name } heldBack { name } } }
} } }"""
RUN = """query($id: ID!) { node(id: $id) { ... on OptimizationRun {
  bindingLimits { kind phase collector { name } heldBack { name } } } } }"""
RUNS = """query($id: ID!) { node(id: $id) { ... on Site { optimizationRuns(first: 20) { nodes {
  createdAt timings enforcedLimits { uuid limitsRootSide { acMaxCurrentA } } } } } } }"""
START = """mutation($d: ID!, $pins: [Pin!]!, $leave: DateTime!) {
  startChargingSession(deviceId: $d, usedChargingPins: $pins, target: {energyAmountNeeded: 20000, leaveTime: $leave}) {
    errors { message } } }"""
UPDATE = """mutation($s: ID!, $leave: DateTime!) {
  updateChargingSession(id: $s, target: {energyAmountNeeded: 20000, leaveTime: $leave}) { errors { message } } }"""
CONSTRAIN = """mutation($d: ID!, $until: DateTime!) {
  setConstraint(deviceId: $d, priority: 100, invalidAt: $until, maxActivePower: 4140) { errors { message } } }"""
FORECAST = """mutation($d: ID!, $points: [ForecastPointInput!]!) {
  setForecast(deviceId: $d, points: $points) { errors { message } } }"""
NO_DISCHARGE = """mutation($d: ID!, $until: DateTime!) {
  setConstraint(deviceId: $d, priority: 100, invalidAt: $until, minActivePower: 0) { errors { message } } }"""
INGEST = "mutation($p: MeasurementPoints!) { ingestMeasurements(points: $p) { accepted errors { message } } }"


def raw_uuid(global_id: str) -> str:
    """The UUID in a Relay global id (EnforcedLimits name devices by it)."""
    return base64.b64decode(global_id).decode().split(":")[-1]


async def site_state(demo: Demo) -> dict[str, Any]:
    return (await demo.api.ok(SITE, {"id": demo.site_id}, demo.token))["node"]


def by_name(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in state["devices"]["nodes"]}


async def until(check: Any, what: str, bound: float = 60.0) -> Any:
    """Polls `check` (an async callable) until it returns something truthy: an event, with a generous bound."""
    deadline = time.monotonic() + bound
    while True:
        value = await check()
        if value:
            return value
        assert time.monotonic() < deadline, f"still waiting for {what}"
        await asyncio.sleep(0.1)


async def every_car_urgent(demo: Demo) -> dict[str, Any]:
    """Four cars that must charge at once: the main fuse binds, so the plan holds some of them back.

    At any hour: the demo's PV forecast follows the clock (at noon its 12 kW and the battery's 10 kW make room
    for every car), so the next hours get no sun and the battery may not discharge."""
    now = datetime.now(UTC)
    leave = (now + timedelta(hours=1)).isoformat()
    devices = by_name(await site_state(demo))
    hour = now.replace(minute=0, second=0, microsecond=0)
    dark = [{"timestamp": (hour + timedelta(minutes=15 * i)).isoformat(), "powerValue": 0.0} for i in range(13)]
    await demo.api.ok(FORECAST, {"d": devices["pv_roof"]["id"], "points": dark}, demo.token)
    until_when = (now + timedelta(hours=2)).isoformat()
    await demo.api.ok(NO_DISCHARGE, {"d": devices["battery_basement"]["id"], "until": until_when}, demo.token)
    for name, pins in (("pole_garage_2", ["PIN1", "PIN2", "PIN3"]), ("pole_carport", ["PIN1"])):
        await demo.api.ok(START, {"d": devices[name]["id"], "pins": pins, "leave": leave}, demo.token)
    for name in ("pole_entrance", "pole_garage_1"):
        await demo.api.ok(UPDATE, {"s": devices[name]["activeSession"]["id"], "leave": leave}, demo.token)

    async def planned() -> dict[str, Any] | None:
        state = await site_state(demo)
        run = state["schedule"]
        return state if run and len(run["sessions"]) == 4 and run["bindingLimits"] else None

    return await until(planned, "a plan for all four cars with binding limits")


async def cell(page: Page, collector: str, phase: str, kind: str = "measured") -> float:
    text = await page.locator(
        f'[data-collector="{collector}"] > table [data-phase="{phase}"] [data-kind="{kind}"]'
    ).inner_text()
    return float(text.removesuffix(" A"))


async def limit_text(page: Page, device: str) -> str:
    return await page.locator(f'[data-device="{device}"] [data-field="limit"]').inner_text()


async def shows_every_collector_and_device(page: Page) -> None:
    # Every collector and device of the demo, each collector with a measured and a planned value per phase.
    await expect(page.locator("[data-collector]")).to_have_count(len(COLLECTORS))
    assert set(await page.locator("[data-collector]").evaluate_all("ns => ns.map(n => n.dataset.collector)")) == set(
        COLLECTORS
    )
    assert set(await page.locator("[data-device]").evaluate_all("ns => ns.map(n => n.dataset.device)")) == DEVICES
    for name, collector in COLLECTORS.items():
        phases = ["L1", "L2", "L3"] if collector["1P_3P"] == "3P" else [collector["phase"]]
        rows = page.locator(f'[data-collector="{name}"] > table tbody tr')
        assert await rows.evaluate_all("rs => rs.map(r => r.dataset.phase)") == phases
        for phase in phases:
            for kind in ("measured", "planned"):
                text = await page.locator(
                    f'[data-collector="{name}"] > table [data-phase="{phase}"] [data-kind="{kind}"]'
                ).inner_text()
                assert AMPS.match(text), (name, phase, kind, text)
    for device in DEVICES:
        await expect(page.locator(f'[data-device="{device}"] [data-field="measured"]')).to_contain_text("Measured")


async def plots_the_horizon(page: Page, steps: int) -> None:
    # The plots have the horizon's steps (the battery's state of charge one more: the step boundaries).
    for plot, points in (("grid", steps), ("cars", steps), ("prices", steps), ("battery", steps + 1)):
        figure = page.locator(f'[data-plot="{plot}"]')
        await expect(figure).to_have_attribute("data-steps", str(points))
        await expect(figure.locator("canvas")).to_have_count(1)
        await expect(figure.locator("details tbody tr")).to_have_count(points)


async def lists_binding_limits_in_words(page: Page, demo: Demo) -> None:
    # Binding limits in words: collector, phase and device names, never ids (those of the run on the page).
    run_id = await page.locator("#plan-summary").get_attribute("data-run")
    shown = await demo.api.ok(RUN, {"id": run_id}, demo.token)
    limits = shown["node"]["bindingLimits"]
    items = page.locator("#binding li")
    await expect(items).to_have_count(len(limits))
    texts = await items.all_inner_texts()
    for limit, text in zip(limits, texts, strict=True):
        assert not UUID.search(text) and "==" not in text, text
        if limit["kind"] == "collector_phase":
            assert f"{limit['collector']['name']} fuse on {limit['phase']}" in text, text
        for held in limit["heldBack"]:
            assert held["name"] in text, text


async def shows_the_enforced_limits(page: Page, demo: Demo) -> None:
    # Each pole shows the limit the API enforces.
    for name, device in by_name(await site_state(demo)).items():
        if device["enforcedLimits"] is not None:
            amps = device["enforcedLimits"]["limitsRootSide"]["acMaxCurrentA"]
            await expect(page.locator(f'[data-device="{name}"] [data-field="limit"]')).to_contain_text(
                f"{amps:.1f} A on"
            )


async def follows_a_constraint(page: Page, demo: Demo, entrance: str) -> None:
    # A constraint changes the pole's shown limit within 2 s, without a reload. The solver's own time in the
    # run that made the new limit is the server's (bench/solver.py); on a loaded machine it alone can take
    # seconds, so the 2 s hold for everything else: the event, the plan's start, the websocket, the page.
    before = await limit_text(page, "pole_entrance")
    assert "6.0 A on" not in before
    until_when = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    await demo.api.ok(CONSTRAIN, {"d": entrance, "until": until_when}, demo.token)
    set_at = datetime.now(UTC)
    await expect(page.locator('[data-device="pole_entrance"] [data-field="limit"]')).to_contain_text(
        "6.0 A on", timeout=30_000
    )
    elapsed = (datetime.now(UTC) - set_at).total_seconds()
    runs = (await demo.api.ok(RUNS, {"id": demo.site_id}, demo.token))["node"]["optimizationRuns"]["nodes"]
    (made,) = [
        r
        for r in sorted(runs, key=lambda r: r["createdAt"])
        if datetime.fromisoformat(r["createdAt"]) >= set_at - timedelta(seconds=1)
        and any(
            e["uuid"] == raw_uuid(entrance) and e["limitsRootSide"]["acMaxCurrentA"] == 6.0 for e in r["enforcedLimits"]
        )
    ][:1]
    solving = made["timings"]["total_s"]
    print(f"pole_entrance showed its new limit {elapsed:.2f} s after the mutation; the solver took {solving:.2f} s")
    assert elapsed - solving < 2.0, (
        f"the limit showed {elapsed:.2f} s after the mutation, the solver took {solving:.2f} s"
    )
    assert by_name(await site_state(demo))["pole_entrance"]["enforcedLimits"]["limitsRootSide"]["acMaxCurrentA"] == 6.0


async def follows_a_measurement(page: Page, demo: Demo) -> None:
    # A measurement moves the tree: 10 A more on pole_garage_2's pin1 lands on garage_board L3 (its
    # phase_list), which is main_collector L1 (garage_board's permutation L3 -> L1); nothing else moves.
    values = {(c, p): await cell(page, c, p) for c in ("garage_board", "main_collector") for p in ("L1", "L2", "L3")}
    garage_2 = by_name(await site_state(demo))["pole_garage_2"]
    pins = {p["pin"]: p["currentValue"] for p in garage_2["latestMeasurement"]["pins"]}
    point = {
        "deviceId": garage_2["id"],
        "timestamp": datetime.now(UTC).isoformat(),
        "powerValue": garage_2["latestMeasurement"]["powerValue"] + 2300,
        "pins": [{"pin": pin, "currentValue": amps + (10 if pin == "pin1" else 0)} for pin, amps in pins.items()],
    }
    await demo.api.ok(INGEST, {"p": [point]}, demo.token)
    await expect(
        page.locator('[data-collector="garage_board"] > table [data-phase="L3"] [data-kind="measured"]')
    ).not_to_have_text(f"{values[('garage_board', 'L3')]:.1f} A", timeout=30_000)
    for (collector, phase), old in values.items():
        moved = (collector, phase) in {("garage_board", "L3"), ("main_collector", "L1")}
        assert abs(await cell(page, collector, phase) - old - (10 if moved else 0)) < 0.06, (collector, phase)


async def test_the_site_view_shows_the_tree_the_plan_and_follows_limits_and_measurements_live(
    browser: Browser, demo: Demo, recorded: Recorded
) -> None:
    state = await every_car_urgent(demo)
    page = await open_page(browser, recorded)
    await sign_in(page, demo.base)

    row = page.locator('[data-site="Dok Noord, Gent"]')
    await expect(row).to_contain_text("onboarded")
    await row.get_by_role("link", name="Dok Noord, Gent").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Dok Noord, Gent")
    await expect(page.locator("#live-state")).to_have_text("Live")
    await page.evaluate("window.notReloaded = true")

    await shows_every_collector_and_device(page)
    assert len(state["schedule"]["timestamps"]) == 96
    await plots_the_horizon(page, len(state["schedule"]["timestamps"]))
    await lists_binding_limits_in_words(page, demo)
    await shows_the_enforced_limits(page, demo)
    await page.screenshot(path=screenshot_path("dashboard.png"), full_page=True)
    await follows_a_constraint(page, demo, by_name(state)["pole_entrance"]["id"])
    await follows_a_measurement(page, demo)

    assert await page.evaluate("window.notReloaded") is True
    assert page.errors == []  # type: ignore[attr-defined]
    assert only_server(recorded.urls, demo.base) == [], recorded.urls
    assert any(u.startswith("ws://") for u in recorded.urls)


async def test_a_wrong_password_shows_an_error_and_signs_nobody_in(
    browser: Browser, demo: Demo, recorded: Recorded
) -> None:
    page = await open_page(browser, recorded)
    await sign_in(page, demo.base, password="not-the-password")
    await expect(page.get_by_role("alert")).to_have_text("unknown email or wrong password")
    await expect(page.locator("#login-view")).to_be_visible()
    await expect(page.locator("#sites-view")).to_be_hidden()
    await expect(page.get_by_role("button", name="Sign out")).to_be_hidden()
    assert await page.evaluate("sessionStorage.getItem('phasewise.token')") is None
    assert only_server(recorded.urls, demo.base) == [], recorded.urls


async def test_keyboard_sign_in_and_a_tablet_width(browser: Browser, demo: Demo, recorded: Recorded) -> None:
    page = await open_page(browser, recorded, width=820, height=1180)
    await page.goto(f"{demo.base}/")
    await expect(page.get_by_label("Email")).to_be_focused()
    await page.keyboard.type("demo@phasewise.example")
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Password")).to_be_focused()
    await page.keyboard.type("phasewise-demo")
    await page.keyboard.press("Enter")
    link = page.get_by_role("link", name="Dok Noord, Gent")
    await link.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("[data-collector]")).to_have_count(len(COLLECTORS))
    await expect(page.locator('[data-plot="grid"] canvas')).to_have_count(1)
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{overflow}px wider than a tablet"
    await page.screenshot(path=screenshot_path("dashboard-tablet.png"), full_page=True)
    # Signing out forgets the token of the tab.
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.locator("#login-view")).to_be_visible()
    assert await page.evaluate("sessionStorage.getItem('phasewise.token')") is None
    assert only_server(recorded.urls, demo.base) == [], recorded.urls
