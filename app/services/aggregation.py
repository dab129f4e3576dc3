"""Aggregated measurements, read from the 15-minute rollup.

- `15m` and `1h`: mean power (W) over each bucket, stamped at the bucket's end; buckets are absolute (UTC)
  15-minute and hour boundaries, so a day across a DST change has 23 or 25 hourly buckets.
- `1d`, `1w`, `1M`, `1y`: energy (Wh) per bucket, stamped at its start; days, ISO weeks (from Monday),
  months and years in the owner's timezone.
- Mean power is the bucket's net energy over the time the measurements cover (gaps do not dilute it).
- A system nets its grid exchange per 15-minute slot (import and export never cancel across slots), then
  sums the slots into buckets; a pool sums its systems.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.errors import ErrorCode, Issue, ValidationFailed
from app.services.common import timezone_issue


class Resolution(StrEnum):
    MIN15 = "15m"
    HOUR = "1h"
    DAY = "1d"
    WEEK = "1w"
    MONTH = "1M"
    YEAR = "1y"

    @property
    def is_power(self) -> bool:
        return self in (Resolution.MIN15, Resolution.HOUR)


# gridX's longest interval per resolution; 1y is not bounded there and gets ten years here.
MAX_SPAN = {
    Resolution.MIN15: timedelta(days=1),
    Resolution.HOUR: timedelta(weeks=1),
    Resolution.DAY: timedelta(days=31),
    Resolution.WEEK: timedelta(days=31),
    Resolution.MONTH: timedelta(days=5 * 366),
    Resolution.YEAR: timedelta(days=10 * 366),
}
SPAN_TEXT = {
    Resolution.MIN15: "1 day",
    Resolution.HOUR: "1 week",
    Resolution.DAY: "1 month",
    Resolution.WEEK: "1 month",
    Resolution.MONTH: "5 years",
    Resolution.YEAR: "10 years",
}
_TRUNC = {Resolution.DAY: "day", Resolution.WEEK: "week", Resolution.MONTH: "month", Resolution.YEAR: "year"}


@dataclass(frozen=True)
class Period:
    resolution: Resolution
    start: datetime
    end: datetime
    timezone: str | None = None

    def check(self) -> None:
        issues: list[Issue | None] = []
        if self.start.tzinfo is None or self.end.tzinfo is None:
            issues.append(Issue(ErrorCode.INVALID_FORMAT, "from", "date-times need a timezone offset"))
        elif self.end <= self.start:
            issues.append(Issue(ErrorCode.OUT_OF_RANGE, "to", "must lie after from"))
        elif self.end - self.start > MAX_SPAN[self.resolution]:
            issues.append(
                Issue(
                    ErrorCode.OUT_OF_RANGE,
                    "to",
                    f"resolution {self.resolution.value} spans at most {SPAN_TEXT[self.resolution]}",
                )
            )
        if self.timezone is not None:
            issues.append(timezone_issue(self.timezone, "timezone"))
        found = [i for i in issues if i is not None]
        if found:
            raise ValidationFailed(found)


def bucket_sql(resolution: Resolution) -> str:
    """SQL for the bucket of a slot ending at `slot_end`, in the timezone bound as `tz` (per owner)."""
    if resolution is Resolution.MIN15:
        return "slot_end"
    if resolution is Resolution.HOUR:
        return (
            "date_bin('1 hour', slot_end - interval '1 microsecond', TIMESTAMPTZ '2000-01-01 00:00+00')"
            " + interval '1 hour'"
        )
    return f"date_trunc('{_TRUNC[resolution]}', slot_end - interval '1 microsecond', tz)"


@dataclass(frozen=True)
class DeviceBucket:
    timestamp: datetime
    energy_in_wh: float
    energy_out_wh: float
    covered_s: float
    state_of_charge: float | None


DEVICE_SQL = """
WITH owners AS (
    SELECT d.id AS owner, coalesce(CAST(:tz AS text), s.timezone, 'UTC') AS tz
    FROM device d LEFT JOIN site s ON s.id = d.site_id WHERE d.id = ANY(CAST(:owners AS uuid[]))
)
SELECT owner, bucket, sum(energy_in_wh) AS energy_in_wh, sum(energy_out_wh) AS energy_out_wh,
       sum(covered_s) AS covered_s, sum(soc_sum) / nullif(sum(soc_samples), 0) AS soc
FROM (
    SELECT owners.owner, {bucket} AS bucket, m.*
    FROM measurement_slot m JOIN owners ON m.device_id = owners.owner
    WHERE m.slot_end > CAST(:start AS timestamptz) AND m.slot_end <= CAST(:end AS timestamptz)
) slots
GROUP BY owner, bucket ORDER BY owner, bucket
"""


async def device_buckets(
    engine: AsyncEngine, period: Period, device_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[DeviceBucket]]:
    sql = text(DEVICE_SQL.format(bucket=bucket_sql(period.resolution)))
    async with engine.connect() as connection:
        rows = await connection.execute(
            sql, {"owners": device_ids, "tz": period.timezone, "start": period.start, "end": period.end}
        )
    result: dict[uuid.UUID, list[DeviceBucket]] = {i: [] for i in device_ids}
    for row in rows:
        result[row.owner].append(DeviceBucket(row.bucket, row.energy_in_wh, row.energy_out_wh, row.covered_s, row.soc))
    return result


@dataclass(frozen=True)
class SystemBucket:
    """Energies (Wh) of one bucket; `covered_s` turns them into mean powers for the power resolutions."""

    timestamp: datetime
    production_wh: float
    consumption_wh: float
    ev_charging_wh: float
    battery_charge_wh: float
    battery_discharge_wh: float
    grid_import_wh: float
    grid_export_wh: float
    covered_s: float
    state_of_charge: float | None


SYSTEM_SQL = """
WITH owners AS ({owners}),
slot AS (
    SELECT d.system_id, m.slot_end,
        sum(CASE WHEN d.forecast_type = 'pv' THEN m.energy_out_wh - m.energy_in_wh ELSE 0 END) AS production,
        sum(CASE WHEN d.forecast_type = 'load' THEN m.energy_in_wh - m.energy_out_wh ELSE 0 END) AS load,
        sum(CASE WHEN d.type IN ('charging_pole_3phase', 'dc_charging_pole')
            THEN m.energy_in_wh - m.energy_out_wh ELSE 0 END) AS ev,
        sum(CASE WHEN d.type = 'battery_energy_storage_system' THEN m.energy_in_wh ELSE 0 END) AS charge,
        sum(CASE WHEN d.type = 'battery_energy_storage_system' THEN m.energy_out_wh ELSE 0 END) AS discharge,
        sum(CASE WHEN d.type = 'battery_energy_storage_system' AND m.soc_samples > 0
                 THEN m.soc_sum / m.soc_samples * d.operational_battery_capacity END) AS soc_weighted,
        sum(CASE WHEN d.type = 'battery_energy_storage_system' AND m.soc_samples > 0
                 THEN d.operational_battery_capacity END) AS soc_capacity,
        max(m.covered_s) AS covered_s
    FROM measurement_slot m JOIN device d ON d.id = m.device_id
    WHERE d.system_id IN (SELECT system_id FROM owners)
      AND m.slot_end > CAST(:start AS timestamptz) AND m.slot_end <= CAST(:end AS timestamptz)
    GROUP BY d.system_id, m.slot_end
), netted AS (
    SELECT owners.owner, owners.tz, slot.*, load + ev + charge - discharge - production AS net
    FROM slot JOIN owners ON owners.system_id = slot.system_id
)
SELECT owner, bucket, sum(production) AS production, sum(load + ev) AS consumption, sum(ev) AS ev,
       sum(charge) AS charge, sum(discharge) AS discharge,
       sum(greatest(net, 0)) AS grid_import, sum(greatest(-net, 0)) AS grid_export,
       sum(covered_s) / count(DISTINCT system_id) AS covered_s,
       sum(soc_weighted) / nullif(sum(soc_capacity), 0) AS soc
FROM (SELECT netted.*, {bucket} AS bucket FROM netted) b
GROUP BY owner, bucket ORDER BY owner, bucket
"""

SYSTEM_OWNERS = """
    SELECT sys.id AS owner, sys.id AS system_id,
           coalesce(CAST(:tz AS text),
                    (SELECT timezone FROM site WHERE site.system_id = sys.id AND site.deleted_at IS NULL
                     ORDER BY created_at LIMIT 1), 'UTC') AS tz
    FROM system sys WHERE sys.id = ANY(CAST(:owners AS uuid[]))"""
POOL_OWNERS = """
    SELECT m.pool_id AS owner, m.system_id, coalesce(CAST(:tz AS text), 'UTC') AS tz
    FROM system_pool_member m
    JOIN system_pool p ON p.id = m.pool_id JOIN account pool_account ON pool_account.id = p.account_id
    JOIN system s ON s.id = m.system_id JOIN account system_account ON system_account.id = s.account_id
    WHERE m.pool_id = ANY(CAST(:owners AS uuid[]))
      AND starts_with(system_account.path, pool_account.path)"""
"""A pool sums the member systems that still lie in its account's subtree: a system whose account moves out
from under the pool stops counting at once (its membership stays, so moving it back restores it)."""


async def system_buckets(
    engine: AsyncEngine, period: Period, owner_ids: list[uuid.UUID], *, pools: bool = False
) -> dict[uuid.UUID, list[SystemBucket]]:
    sql = text(SYSTEM_SQL.format(owners=POOL_OWNERS if pools else SYSTEM_OWNERS, bucket=bucket_sql(period.resolution)))
    async with engine.connect() as connection:
        rows = await connection.execute(
            sql, {"owners": owner_ids, "tz": period.timezone, "start": period.start, "end": period.end}
        )
    result: dict[uuid.UUID, list[SystemBucket]] = {i: [] for i in owner_ids}
    for r in rows:
        result[r.owner].append(
            SystemBucket(
                r.bucket,
                r.production,
                r.consumption,
                r.ev,
                r.charge,
                r.discharge,
                r.grid_import,
                r.grid_export,
                r.covered_s,
                r.soc,
            )
        )
    return result
