"""A site's optimization inputs as plain typed records: what `snapshot.read_site_inputs` reads in one
transaction and `problem_mapping.snapshot_of` maps to a `solver.Problem`, so the mapping is tested alone.

Records are built from rows by attribute (`Record.model_validate(row)`); field names are the columns'.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from app.domain.flexibility import ConstraintView

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


class Record(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)


class ConfigurationRecord(Record):
    """The site's optimization settings; the defaults are a site's without any."""

    cost_minimization: bool = True
    peak_price_per_kw: float | None = None
    horizon_s: int = 24 * 3600
    step_s: int = 900
    solver: str = "HIGHS"
    time_limit_s: float = 10.0


class CollectorRecord(Record):
    id: UUID
    parent_id: UUID | None = None
    line_current: float
    phase_voltage: float | None = None
    line_voltage: float | None = None
    phase_type: str = "3P"
    nb_of_phases: int = 3
    phase: str | None = None
    phase_permutations: dict[str, str] | None = None


class DeviceRecord(Record):
    """One device of any type; the other types' fields are None."""

    id: UUID
    name: str
    type: str
    collector_id: UUID | None
    line_current: float | None = None
    pin_list: list[str] | None = None
    phase_list: list[str] | None = None
    forecast_type: str | None = None
    charging_efficiency: float | None = None
    discharging_efficiency: float | None = None
    maximum_charging_power: float | None = None
    maximum_discharging_power: float | None = None
    operational_battery_capacity: float | None = None
    charging_priority: int | None = None
    discharging_priority: int | None = None
    policies: list[dict[str, Any]] | None = None  # Pleevi's policy documents, expanded by the solver
    supports_phase_switching: bool | None = None
    bidirectional: bool | None = None
    maximum_power: float | None = None
    conversion_efficiency: float | None = None
    minimum_power: float | None = None


class MeasurementRecord(Record):
    """A device's latest point."""

    device_id: UUID
    ts: datetime
    power_w: float | None = None
    soc: float | None = None
    pin_current: list[float | None] | None = None


class PriceRecord(Record):
    direction: str
    ts: datetime
    value: float
    currency: str = "EUR"


class ExternalLimitRecord(Record):
    direction: str
    ts: datetime
    total_power_w: float | None = None
    ac_max_current_a: float | None = None


class ForecastRecord(Record):
    device_id: UUID
    ts: datetime
    power_w: float
    phase_power_w: list[float] | None = None


class ConstraintRecord(Record):
    id: UUID
    device_id: UUID
    min_active_power: float | None = None
    max_active_power: float | None = None
    active_power: float | None = None
    priority: int
    invalid_at: datetime
    created_at: datetime

    def view(self) -> ConstraintView:
        return ConstraintView(
            self.id,
            self.min_active_power,
            self.max_active_power,
            self.active_power,
            self.priority,
            self.invalid_at,
            self.created_at,
        )


class SessionRecord(Record):
    """An open charging session, with the energy its pole already delivered since it started."""

    id: UUID
    device_id: UUID
    used_pins: list[str]
    energy_amount_needed_wh: float | None = None
    leave_time: datetime | None = None
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
    phase_switched_at: datetime | None = None
    delivered_wh: float = 0.0


class StationRecord(Record):
    """The OCPP station driving a pole, as far as the plan cares: is the pole under control, and if not, what
    does it draw (its `fallback_current_a`, else the pole's line current)."""

    device_id: UUID
    station_id: str
    online: bool = False
    control_status: str = "ok"
    fallback_current_a: float | None = None
    phase_rotation_issue: str | None = None


class PlanningWindow(Record):
    """The plan's time grid: `steps` steps of `step` from `start`; `now` is when the run started."""

    now: datetime
    start: datetime
    step: timedelta
    steps: int

    @property
    def end(self) -> datetime:
        return self.start + self.steps * self.step


def planning_window(configuration: ConfigurationRecord, now: datetime, lead: timedelta) -> PlanningWindow:
    """The grid starts at the step boundary at or before `now + lead` (at most a third of a step): a run in
    the last `lead` of a step plans the next one, so its limits (whose first entry applies at once) outlive
    the current step."""
    step = timedelta(seconds=configuration.step_s)
    start = EPOCH + ((now + min(lead, step / 3) - EPOCH) // step) * step
    return PlanningWindow(now=now, start=start, step=step, steps=configuration.horizon_s // configuration.step_s)


class SiteInputs(Record):
    """Everything one optimization of a site reads, in the order the database gives it (by position, by ts)."""

    window: PlanningWindow
    configuration: ConfigurationRecord
    collectors: list[CollectorRecord]
    devices: list[DeviceRecord]
    latest: dict[UUID, MeasurementRecord]
    prices: list[PriceRecord]
    external_limits: list[ExternalLimitRecord]
    forecasts: list[ForecastRecord]
    constraints: list[ConstraintRecord]
    sessions: list[SessionRecord]
    stations: list[StationRecord] = []
