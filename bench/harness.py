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
from typing import Any

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
async def server(bench: Bench, workers: int = 1, **settings: str) -> AsyncIterator[httpx.AsyncClient]:
    """uvicorn with `workers` processes on a free loopback port, and a client for it; `settings` become
    PHASEWISE_* environment variables of the server."""
    async with server_process(bench, workers, **settings) as (client, _):
        yield client


@asynccontextmanager
async def server_process(
    bench: Bench, workers: int = 1, **settings: str
) -> AsyncIterator[tuple[httpx.AsyncClient, subprocess.Popen[bytes]]]:
    """`server`, also giving the server's process (its CPU time, its address via the client's base URL)."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": bench.url,
        "PHASEWISE_JWT_SECRET": JWT_SECRET,
        "PHASEWISE_DATA_DIR": str(bench.workdir),
        **{f"PHASEWISE_{name.upper()}": value for name, value in settings.items()},
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "phasewise.asgi:create_app",
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
            for _ in range(600):  # ready: migrated, events connected
                try:
                    if (await client.get("/ready")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            yield client, process
    finally:
        process.terminate()
        process.wait()


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class SeededSite:
    token: str
    system_pk: uuid.UUID
    site_pk: uuid.UUID
    devices: list[Any]  # rows: id, type, pin_list


async def seed_site(bench: Bench, document: dict[str, Any]) -> SeededSite:
    """One OPERATOR, a system and one Belgian site with `document` as its topology; a bearer token."""
    from datetime import timedelta

    from sqlalchemy import select

    from app.auth import Role, issue_token
    from app.bootstrap import ensure_user, operator_of, top_account
    from app.domain.grid_identifiers import make_valid_identifier
    from app.models import Device
    from app.services.sites import LocationInput, SupplyPointInput, create_site
    from app.services.systems import create_system
    from app.services.topology import apply_site_configuration
    from app.vocabulary import SupplyDirection

    async with bench.db.transaction() as session:
        account = await top_account(session, "bench")
        user = await ensure_user(
            session, account, email="bench@phasewise.example", password="bench-password", role=Role.OPERATOR
        )
        operator = operator_of(account)
        system = await create_system(
            session, operator, account_id=account.id, name="bench", gateway_serial_number="GW", gateway_model="m"
        )
        site = await create_site(
            session,
            operator,
            system_id=system.id,
            name="bench",
            country="BE",
            supply_points=[
                SupplyPointInput(make_valid_identifier("BE", "54144100000000123"), SupplyDirection.BIDIRECTIONAL)
            ],
            location=LocationInput(address="bench"),
            timezone="Europe/Brussels",
        )
        await apply_site_configuration(session, operator, site.id, document)
        rows = (
            await session.execute(select(Device.id, Device.type, Device.pin_list).where(Device.site_id == site.id))
        ).all()
    token, _ = issue_token(user.id, JWT_SECRET, timedelta(hours=2))
    return SeededSite(token, system.id, site.id, list(rows))


TYPE_NAMES = {
    "charging_pole_3phase": "ChargingPole",
    "forecasted_series_3phase": "ForecastedSeries",
    "battery_energy_storage_system": "Battery",
}


def global_id(type_name: str, pk: uuid.UUID) -> str:
    from strawberry.relay import GlobalID

    return str(GlobalID(type_name, str(pk)))
