"""Database fixtures: one PostgreSQL for the session (embedded unless DATABASE_URL is set), a migrated
template database, and a fresh copy of it for every test that asks for one, so tests never share state."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from app.database import asyncpg_url, start_embedded_postgres
from app.migrate import migrate

TEMPLATE = "phasewise_template"
_OWN_BASETEMP = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    """A temporary folder of this session's own. pytest's default (/tmp/pytest-of-USER/pytest-N) keeps only
    the three newest sessions', so concurrent sessions on one machine delete each other's folders, the
    embedded PostgreSQL's data with them, and tests fail with connections cut mid-query."""
    if config.option.basetemp is None and not hasattr(config, "workerinput"):
        config.option.basetemp = tempfile.mkdtemp(prefix="phasewise-tests-")
        config.stash[_OWN_BASETEMP] = config.option.basetemp


def pytest_unconfigure(config: pytest.Config) -> None:
    if own := config.stash.get(_OWN_BASETEMP, None):
        shutil.rmtree(own, ignore_errors=True)


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, ""))


def _plain(url: str) -> str:
    """asyncpg's own DSN form (no '+asyncpg')."""
    parts = urlsplit(url)
    return urlunsplit(("postgresql", *parts[1:]))


async def _admin(url: str, *statements: str) -> None:
    connection = await asyncpg.connect(_plain(_with_database(url, "postgres")))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def _build_template(url: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    await _admin(url, f'DROP DATABASE IF EXISTS "{TEMPLATE}"', f'CREATE DATABASE "{TEMPLATE}"')
    engine = create_async_engine(_with_database(url, TEMPLATE))
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The server (any database on it) and its migrated template, once per run: with pytest-xdist
    (`-n 2`) the workers share them (the first one starts and builds, the others join; embedded-postgres
    stops the server when the last one exits)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    with _locked(root / "postgres.lock"):
        if os.environ.get("DATABASE_URL"):
            url = asyncpg_url(os.environ["DATABASE_URL"])
        else:
            url = start_embedded_postgres(root / "pg", database="postgres")
        built = root / "template.built"
        if not built.exists():
            asyncio.run(_build_template(url))
            built.write_text(url)
    yield url


@pytest.fixture
async def database_url(postgres_url: str) -> AsyncIterator[str]:
    name = f"test_{uuid.uuid4().hex[:16]}"
    await _admin(postgres_url, f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
    yield _with_database(postgres_url, name)
    await _admin(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
