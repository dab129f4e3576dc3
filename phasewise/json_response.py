"""GraphQL answers over HTTP encoded once, straight to bytes (orjson), rather than to text and again to bytes."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


def json_response(data: Any, sub_response: Response) -> Response:
    """What strawberry's view answers (status 200 unless the resolvers set one; their headers and background
    tasks kept), with the body encoded by orjson."""
    response = Response(orjson.dumps(data), status_code=sub_response.status_code or 200, media_type="application/json")
    response.headers.raw.extend(sub_response.headers.raw)
    if sub_response.background:
        response.background = sub_response.background
    return response
