"""The pool pings a connection only after it sat idle, and a connection that died while idle is replaced
without the request noticing (the ping fails, the pool reconnects)."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import text

from app.database import Database


async def _backend_pid(db: Database) -> int:
    async with db.engine.connect() as connection:
        return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _pings(db: Database, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection

    seen: list[int] = []
    original = AsyncAdapt_asyncpg_connection.ping

    def counted(self: AsyncAdapt_asyncpg_connection) -> None:
        seen.append(1)
        original(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", counted)
    return seen


async def test_a_connection_handed_back_moments_ago_is_not_pinged(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(database_url, pool_size=1, max_overflow=0, ping_idle_s=3600)
    try:
        pings = await _pings(db, monkeypatch)
        first = await _backend_pid(db)
        assert [await _backend_pid(db) for _ in range(5)] == [first] * 5
        assert pings == []
    finally:
        await db.dispose()


async def test_an_idle_connection_that_died_is_replaced_on_checkout(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(database_url, pool_size=1, max_overflow=0, ping_idle_s=0)
    try:
        pings = await _pings(db, monkeypatch)
        dead = await _backend_pid(db)
        admin = await asyncpg.connect(database_url.replace("+asyncpg", ""))
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1, 30000)", dead)  # waits until it is gone
        finally:
            await admin.close()
        assert await _backend_pid(db) != dead  # no error: the failed ping replaced the connection
        assert pings
    finally:
        await db.dispose()
