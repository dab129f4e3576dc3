"""A real headless Chromium (Debian's `chromium`, driven by Playwright) against the real server on real
PostgreSQL, with the demo site seeded and its meters read once by the demo simulator.

Every request the page makes is recorded, so a test can show that nothing leaves the server."""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect
from starlette.applications import Starlette

from app.demo import DEMO_EMAIL, DEMO_PASSWORD, ensure_demo
from app.simulator import DemoSimulator
from tests.api.conftest import Api
from tests.live.conftest import server  # noqa: F401  (the fixture)

# Every `expect` waits for its state to appear, up to this bound: Playwright's default 5 s was missed once in CI,
# when the first site view's queries met the demo's solver processes starting up on a 2-core machine.
expect.set_options(timeout=30_000)

CHROMIUM = os.environ.get("PHASEWISE_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class Demo:
    base: str
    api: Api
    token: str
    site_id: str
    app: Starlette


@dataclass
class Recorded:
    """Every URL the page asked for (documents, modules, fetches, websockets)."""

    urls: list[str] = field(default_factory=list)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (the README says how)")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        await chromium.close()


@pytest.fixture
async def demo(server: tuple[Starlette, str]) -> AsyncIterator[Demo]:  # noqa: F811
    app, address = server
    await ensure_demo(app.state.db, app.state.settings)
    simulator = DemoSimulator(app.state.db, rng=random.Random(16), arrival_probability=0.0)
    await simulator.prepare()
    await simulator.tick()
    async with httpx.AsyncClient(base_url=f"http://{address}", timeout=30) as client:
        api = Api(client)
        token = await api.login(DEMO_EMAIL, DEMO_PASSWORD)
        sites = await api.ok("{ sites { nodes { id name } } }", token=token)
        (site,) = sites["sites"]["nodes"]
        yield Demo(f"http://{address}", api, token, site["id"], app)


@pytest.fixture
def recorded() -> Recorded:
    return Recorded()


async def open_page(browser: Browser, recorded: Recorded, width: int = 1400, height: int = 1000) -> Page:
    context = await browser.new_context(viewport={"width": width, "height": height})
    page = await context.new_page()
    page.on("request", lambda request: recorded.urls.append(request.url))
    page.on("websocket", lambda socket: recorded.urls.append(socket.url))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors  # type: ignore[attr-defined]
    return page


async def sign_in(page: Page, base: str, password: str = DEMO_PASSWORD) -> None:
    await page.goto(f"{base}/")
    await page.get_by_label("Email").fill(DEMO_EMAIL)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()


def only_server(urls: list[str], base: str) -> list[str]:
    """The URLs that went anywhere but this server (http and ws on its host and port)."""
    host = base.removeprefix("http://")
    allowed = (f"http://{host}/", f"ws://{host}/")
    return [u for u in urls if not u.startswith(allowed)]


def screenshot_path(name: str) -> Path:
    folder = Path(os.environ.get("PHASEWISE_SCREENSHOTS", Path(__file__).resolve().parents[2] / "docs"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


Json = dict[str, Any]
