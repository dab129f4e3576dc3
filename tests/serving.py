"""A real server for the tests: the app on a free loopback port under uvicorn (HTTP keep-alive and websockets
as a client sees them), stopped when the block ends."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import uvicorn
from starlette.applications import Starlette

ANSWER_BOUND_S = 120.0
"""How long a test client waits for an answer that is coming: the test waits on the answer itself, and the bound
only turns a server that hangs into a failure instead of a suite that never ends (far above any answer's time on
a busy machine; httpx's own default of 5 s is not)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[str]:
    """Yields host:port once the server accepts connections (a server that fails to start raises)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
