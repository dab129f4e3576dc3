"""What steers the optimizer (sessions, prices, forecasts, external limits, configuration) and what it
decided (runs, with their schedules and enforced limits)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, Double, ForeignKey, Index, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlmodel import Field, SQLModel

from app.models.columns import account_field, created_at_field, fk_field, id_field, timestamp_field


class ChargingSession(SQLModel, table=True):
    """A car on a pole (Pleevi transaction + EVerest OptimizerTarget); one open session per pole."""

    __tablename__ = "charging_session"
    __table_args__ = (
        Index("ux_charging_session_open", "device_id", unique=True, postgresql_where=text("state <> 'Ended'")),
    )

    id: uuid.UUID = id_field()
    account_id: uuid.UUID = account_field()
    site_id: uuid.UUID = fk_field("site.id")
    device_id: uuid.UUID = fk_field("device.id")
    state: str = "Started"
    used_pins: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    energy_amount_needed_wh: float | None = None
    leave_time: datetime | None = timestamp_field()
    car_battery_soc: float | None = None
    charge_to_max_percent: float | None = None
    price_limit: float | None = None
    full_autonomy: bool = False
    ac_min_current_a: float = 6.0
    max_phase_count: int | None = None
    min_phase_count: int | None = None
    allow_discharge: bool = False
    car_battery_capacity_wh: float | None = None
    min_soc_percent: float | None = None
    max_discharge_power_w: float | None = None
    active_phase_count: int | None = None
    """The phase count of the limits in force (the latest run's), and since when (`phase_switched_at`)."""
    phase_switched_at: datetime | None = timestamp_field()
    started_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
    ended_at: datetime | None = timestamp_field()


def _series_key(table: str) -> Any:
    return Field(sa_column=Column(UUID(as_uuid=True), ForeignKey(f"{table}.id", ondelete="CASCADE"), primary_key=True))


class PricePoint(SQLModel, table=True):
    """Price per kWh from `ts` until the next point of the same site and direction."""

    __tablename__ = "price_point"

    site_id: uuid.UUID = _series_key("site")
    direction: str = Field(sa_column=Column(Text, primary_key=True))
    ts: datetime = Field(sa_column=Column(DateTime(timezone=True), primary_key=True))
    value: float = Field(sa_column=Column(Double, nullable=False))
    currency: str = "EUR"


class ForecastPoint(SQLModel, table=True):
    """A forecasted series' power (W, production negative) from `ts` until the next point."""

    __tablename__ = "forecast_point"

    device_id: uuid.UUID = _series_key("device")
    ts: datetime = Field(sa_column=Column(DateTime(timezone=True), primary_key=True))
    power_w: float = Field(sa_column=Column(Double, nullable=False))
    phase_power_w: list[float] | None = Field(default=None, sa_column=Column(ARRAY(Double), nullable=True))


class ExternalLimit(SQLModel, table=True):
    """A limit on the grid connection (EVerest external limits), from `ts` until the next point."""

    __tablename__ = "external_limit"

    site_id: uuid.UUID = _series_key("site")
    direction: str = Field(sa_column=Column(Text, primary_key=True))
    ts: datetime = Field(sa_column=Column(DateTime(timezone=True), primary_key=True))
    total_power_w: float | None = Field(default=None, sa_column=Column(Double, nullable=True))
    ac_max_current_a: float | None = Field(default=None, sa_column=Column(Double, nullable=True))


class OptimizationConfiguration(SQLModel, table=True):
    __tablename__ = "optimization_configuration"

    site_id: uuid.UUID = _series_key("site")
    cost_minimization: bool = True
    peak_price_per_kw: float | None = None
    horizon_s: int = 24 * 3600
    step_s: int = 900
    solver: str = "HIGHS"
    time_limit_s: float = 10.0


class OptimizationRun(SQLModel, table=True):
    """One solve of a site: its status, cost and the whole result, kept for history and for subscribers."""

    __tablename__ = "optimization_run"
    __table_args__ = (Index("ix_optimization_run_site_created", "site_id", text("created_at DESC")),)

    id: uuid.UUID = id_field()
    account_id: uuid.UUID = account_field()
    site_id: uuid.UUID = fk_field("site.id", index=False)
    created_at: datetime = created_at_field()
    finished_at: datetime | None = timestamp_field()
    trigger: str = "manual"
    status: str = "pending"
    used_fallback: bool = False
    solver: str = "HIGHS"
    horizon_start: datetime | None = timestamp_field()
    valid_until: datetime | None = timestamp_field()
    step_s: int = 900
    energy_cost: float | None = None
    peak_cost: float | None = None
    currency: str = "EUR"
    timings: dict[str, float] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    enforced_limits: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
