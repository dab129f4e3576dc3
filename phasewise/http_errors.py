"""HTTP-level refusals (unparsable body, wrong method, an operation over the wrong transport) as GraphQL
JSON errors with a code, instead of strawberry's plain-text reasons."""

from __future__ import annotations

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from app.errors import ErrorCode


def coded_response(status: int, message: str, code: ErrorCode = ErrorCode.BAD_REQUEST) -> Response:
    body = {"data": None, "errors": [{"message": message, "extensions": {"code": code.value}}]}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


class CodedHTTPErrors:
    """Mixed in before strawberry's ASGI `GraphQL` view: same handling, coded JSON refusals."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)  # type: ignore[misc]
            return
        try:
            response = await self.run(Request(scope=scope, receive=receive))  # type: ignore[attr-defined]
        except HTTPException as exc:
            response = coded_response(exc.status_code, exc.reason)
        await response(scope, receive, send)
