"""The operator's dashboard: a static page at `/` and its ES modules under `/dashboard/`, built on the public
GraphQL API only. Its content-security policy lets it talk to this server alone (the page works offline)."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static" / "dashboard"
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


async def _index(_: Request) -> FileResponse:
    return FileResponse(
        STATIC / "index.html",
        headers={"Content-Security-Policy": POLICY, "Cache-Control": "no-cache"},
    )


def dashboard_routes() -> list[BaseRoute]:
    return [Route("/", _index), Mount("/dashboard", StaticFiles(directory=STATIC), name="dashboard")]
