"""Browsers on other origins: CORS for HTTP; the same allow-list is strawberry's `allowed_origins`, which
refuses websocket handshakes (HTTP 403) from other origins (browsers send no preflight for websockets).

Origins are allowed by name in settings (none by default; `*` allows every origin). A request without an
`Origin` (a charger, a script) and a page of this server's own origin (GraphiQL) need no entry. Bearer
tokens travel in a header, never a cookie, so no credentials mode is offered."""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware


def cors_middleware(origins: list[str]) -> list[Middleware]:
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-Request-Id"],
            expose_headers=["X-Request-Id", "Retry-After"],
            max_age=600,
        ),
    ]
