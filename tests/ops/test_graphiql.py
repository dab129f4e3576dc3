"""GraphiQL works offline: its page references nothing outside this server, and it renders (the README's
query in its editor) in headless Chromium that cannot resolve any other host."""

from __future__ import annotations

import asyncio
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from phasewise.asgi import create_app
from tests.ops.conftest import ops_settings
from tests.serving import serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in {"src", "href"} and value]


async def test_the_page_references_only_this_server(database_url: str, tmp_path: Path):
    app = create_app(ops_settings(tmp_path), database_url)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://phasewise.test") as http,
    ):
        page = await http.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert not re.search(r"(https?:)?//[a-z0-9]", page.text.split("<script>\n")[0], re.I), "an external URL"
        references = _References()
        references.feed(page.text)
        assert references.urls and all(not re.match(r"^([a-z]+:)?//", u) for u in references.urls), references.urls
        for url in references.urls:
            if not url.startswith("data:"):
                asset = await http.get(f"/{url}")
                assert asset.status_code == 200 and len(asset.content) > 1000, url
        assert "gridIdentifier" in page.text  # the README's query


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")
async def test_graphiql_renders_the_example_in_chromium_offline(database_url: str, tmp_path: Path):
    app = create_app(ops_settings(tmp_path), database_url)
    async with serving(app) as address:
        browser = await asyncio.create_subprocess_exec(
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",  # no other host exists
            f"--user-data-dir={tmp_path / 'chromium'}",
            "--virtual-time-budget=30000",
            "--dump-dom",
            f"http://{address}/graphql",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        dom, _ = await browser.communicate()
    text = dom.decode()
    assert "graphiql-editors" in text and "Loading GraphiQL" not in text, text[:2000]
    assert "gridIdentifier" in text and "mainCollector" in text  # the README's query is in the editor
    assert "Authorization" in text  # the headers pane shows where the token goes
