"""Settings from the environment, read once per process."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of a Phasewise process; `PHASEWISE_` prefixed except the conventional `DATABASE_URL`."""

    model_config = SettingsConfigDict(env_prefix="PHASEWISE_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "PHASEWISE_DATABASE_URL"),
        description="PostgreSQL URL; unset means an embedded server in `data_dir`.",
    )
    data_dir: Path = Field(default=Path(".phasewise"), description="Embedded PostgreSQL data and the JWT secret.")
    jwt_secret: str | None = Field(default=None, description="HS256 secret; generated into data_dir when unset.")
    token_ttl_seconds: int = Field(default=12 * 3600, gt=0, description="Lifetime of a login token.")
    default_page_size: int = Field(default=50, gt=0)
    max_page_size: int = Field(default=500, gt=0, description="Largest `first` a connection accepts.")
    max_query_depth: int = Field(default=16, gt=0, description="Deeper queries are refused before execution.")
    solver_processes: int = Field(default=1, gt=0, description="Processes that run the optimizer.")
    control_loop: bool = Field(default=True, description="Plan sites on events and timers in this process.")
    replan_quiet_s: float = Field(default=0.04, ge=0, description="A burst of events ends after this much quiet.")
    replan_max_wait_s: float = Field(default=0.3, gt=0, description="...or after this long, whatever comes.")
    heartbeat_lead_s: float = Field(default=60.0, gt=0, description="Re-plan this long before limits expire.")
    planning_interval_s: float = Field(default=900.0, gt=0, description="Re-plan at least this often.")
    controller_tick_s: float = Field(default=1.0, gt=0, description="How often the timers are checked.")
    db_pool_size: int = Field(default=10, gt=0)
    db_max_overflow: int = Field(default=10, ge=0)
    # OCPP stations (app/ocpp)
    ocpp_heartbeat_interval_s: int = Field(default=60, gt=0, description="Heartbeat interval told to stations.")
    ocpp_call_timeout_s: float = Field(default=15.0, gt=0, description="Unanswered this long: offline.")

    def resolved_jwt_secret(self) -> str:
        """The configured secret, or one generated once and kept in the data folder so tokens survive restarts."""
        if self.jwt_secret:
            return self.jwt_secret
        path = self.data_dir / "jwt-secret"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
