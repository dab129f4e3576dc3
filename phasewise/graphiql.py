"""GraphiQL from files shipped in the package (no CDN: it works offline and behind strict firewalls),
opening on the README's inventory query with a hint where the bearer token goes."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

ASSETS = Path(__file__).parent / "static" / "graphiql"
PAGE = (ASSETS / "index.html").read_text(encoding="utf-8")


def graphiql_assets() -> Mount:
    """The page at /graphql loads them as `graphiql/…`, relative, so a path prefix in front still works."""
    return Mount("/graphiql", app=StaticFiles(directory=ASSETS), name="graphiql")
