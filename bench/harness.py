"""What the benchmarks share: a throwaway database, a real server process, percentiles."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.database import Database, asyncpg_url, server_url, start_embedded_postgres  # noqa: E402
from app.migrate import migrate  # noqa: E402
from app.settings import Settings  # noqa: E402

JWT_SECRET = "bench-secret-bench-secret-bench-secret"


@dataclass
class Bench:
    db: Database
    url: str
    settings: Settings
    workdir: Path


@asynccontextmanager
async def bench_database() -> AsyncIterator[Bench]:
    """A fresh, migrated database on DATABASE_URL's server or an embedded one; dropped afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix="phasewise-bench-"))
    server = (
        asyncpg_url(os.environ["DATABASE_URL"])
        if os.environ.get("DATABASE_URL")
        else start_embedded_postgres(workdir, "postgres")
    )
    name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server_url(server, "postgres").replace("+asyncpg", ""))
    await admin.execute(f'CREATE DATABASE "{name}"')
    db = Database(server_url(server, name))
    try:
        await migrate(db.engine)
        yield Bench(db, db.url, Settings(jwt_secret=JWT_SECRET, data_dir=workdir), workdir)
    finally:
        await db.dispose()
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@asynccontextmanager
async def server(bench: Bench, workers: int = 1) -> AsyncIterator[httpx.AsyncClient]:
    """uvicorn with `workers` processes on a free loopback port, and a client for it."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": bench.url,
        "PHASEWISE_JWT_SECRET": JWT_SECRET,
        "PHASEWISE_DATA_DIR": str(bench.workdir),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.asgi:create_app",
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--workers",
            str(workers),
        ],
        env=env,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            for _ in range(200):
                try:
                    if (await client.get("/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            yield client
    finally:
        process.terminate()
        process.wait()


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
