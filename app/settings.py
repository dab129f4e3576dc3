"""Settings from the environment, read once per process."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


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
    db_pool_size: int = Field(
        default=20,
        gt=0,
        description="Connections a process keeps open. One request reads its levels' batches at once, the control "
        "loop holds one per run and checks overloads after every ingest: at 10 connections, a process under mixed "
        "traffic spent a third of its time waiting for one. With `serve --workers N` PostgreSQL must allow N times "
        "pool plus overflow (its default max_connections is 100).",
    )
    db_max_overflow: int = Field(default=20, ge=0, description="Connections opened beyond the pool under bursts.")
    # Request limits (issue 12): refused before validation or execution, each with its code and the limit.
    max_query_tokens: int = Field(default=5_000, gt=0, description="Longer documents are refused while parsing.")
    max_query_aliases: int = Field(default=100, ge=0, description="Aliases written in one document.")
    max_query_cost: int = Field(
        default=10**10, gt=0, description="Worst case: a list field costs its page size x its selection."
    )
    max_query_overlaps: int = Field(
        default=5_000, gt=0, description="Repeated fields: n repeats cost n^2 times what lies below them."
    )
    credential_check_s: float = Field(default=2.0, gt=0, description="Open websockets re-check their credential.")
    max_body_bytes: int = Field(default=8 * 1024 * 1024, gt=0, description="Largest HTTP request body (413 beyond it).")

    # Enforced limits (issue 11)
    enforced_valid_for_s: float = Field(
        default=60.0,
        gt=0,
        description="How long enforced limits hold from the moment they are issued, whatever the planning step; "
        "the heartbeat renews them a third of this (at most heartbeat_lead_s) before they expire.",
    )

    @property
    def renewal_lead_s(self) -> float:
        """How long before the latest limits expire a site is planned again."""
        return min(self.heartbeat_lead_s, self.enforced_valid_for_s / 3)

    # Operations (probes, metrics, logs, CORS)
    db_connect_timeout_s: float = Field(
        default=3.0, gt=0, description="Connecting to PostgreSQL longer than this counts as an outage."
    )
    log_format: Literal["keyvalue", "json"] = Field(
        default="keyvalue", description="Log lines as key=value pairs (for a terminal) or JSON (for a collector)."
    )
    log_level: str = Field(default="INFO", description="Least severe level logged.")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Browser origins allowed to call the API (comma-separated; `*` for any); none by default.",
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return [o.strip() for o in value.split(",") if o.strip()] if isinstance(value, str) else value

    # OCPP stations (app/ocpp)
    ocpp_heartbeat_interval_s: int = Field(default=60, gt=0, description="Heartbeat interval told to stations.")
    ocpp_call_timeout_s: float = Field(default=15.0, gt=0, description="Unanswered this long: offline.")

    # Phase switching (issue 15)
    phase_switch_min_interval_s: float = Field(
        default=600.0, ge=0, description="A car switches between three phases and one at most this often."
    )
    phase_switch_hysteresis_w: float = Field(
        default=200.0, ge=0, description="Back to one phase only this far below the three-phase threshold."
    )

    # Connection pool (issue 18)
    db_ping_idle_s: float = Field(
        default=1.0, ge=0, description="A pooled connection idle this long is pinged before it is handed out."
    )

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
