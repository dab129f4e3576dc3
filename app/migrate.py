"""Apply the Alembic migrations, from the CLI or at start-up, safely from several processes at once."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant works; it only has to be the same in every Phasewise process.
MIGRATION_LOCK_KEY = 0x50484153


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    try:
        command.upgrade(alembic_config(connection), "head")
    finally:
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})


async def migrate(engine: AsyncEngine) -> None:
    """Bring the database to the newest revision; a second process waits on the lock and finds nothing to do."""
    async with engine.connect() as connection:
        await connection.run_sync(_upgrade)
        await connection.commit()
