"""Ingesting measurements: one upsert statement per batch, then one statement that recomputes the touched
15-minute slots of the rollup, all in the caller's transaction.

The rollup's rules (the README repeats them):
- a point at t closes the interval (t_prev, t] since the device's previous point, when that is at most
  MAX_GAP before; after a longer gap the point starts a new series and moves no energy;
- the energy of an interval is the meter reading's increase where both ends carry one, otherwise the
  point's power times the interval (W x h);
- positive increments are energy in (consumed, charged), negative ones energy out (produced, discharged);
- a slot (end - 15 min, end] holds the intervals closed by its points, and their state-of-charge samples.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth import Principal, Role
from app.errors import ErrorCode, Issue, ValidationFailed
from app.events import CHANNEL, EventKind, payload
from app.models import Device, Site

MAX_POINTS = 10_000
SLOT = "15 minutes"
MAX_GAP = "15 minutes"
PINS = ("pin1", "pin2", "pin3")


@dataclass(frozen=True)
class PinReading:
    pin: str
    current: float | None = None
    voltage: float | None = None
    power: float | None = None


@dataclass(frozen=True)
class IngestPoint:
    """A point as the API received it: the device by id, or by site and asset name (Pleevi's)."""

    timestamp: datetime
    device_id: uuid.UUID | None = None
    site_id: uuid.UUID | None = None
    asset_name: str | None = None
    power_w: float | None = None
    energy_wh: float | None = None
    soc: float | None = None
    pins: tuple[PinReading, ...] = ()


async def _resolve_devices(
    session: AsyncSession, caller: Principal, points: list[IngestPoint]
) -> tuple[list[uuid.UUID], set[uuid.UUID]]:
    """Each point's device (all of them the caller's, or nothing is written), and the sites they are on."""
    ids = {p.device_id for p in points if p.device_id is not None}
    by_name = {(p.site_id, p.asset_name) for p in points if p.device_id is None}
    site_of: dict[uuid.UUID, uuid.UUID | None] = {}
    if ids:
        rows = await session.execute(
            select(col(Device.id), col(Device.site_id)).where(
                col(Device.id).in_(ids), caller.owns(col(Device.account_id))
            )
        )
        site_of = {r.id: r.site_id for r in rows}
    named: dict[tuple[uuid.UUID | None, str | None], uuid.UUID] = {}
    if by_name:
        named_rows = (
            await session.execute(
                select(col(Device.site_id), col(Device.name), col(Device.id))
                .join(Site, col(Site.id) == col(Device.site_id))
                .where(
                    col(Device.site_id).in_({s for s, _ in by_name}),
                    caller.owns(col(Device.account_id)),
                    col(Site.deleted_at).is_(None),
                )
            )
        ).all()
        named = {(r.site_id, r.name): r.id for r in named_rows}
        site_of.update({r.id: r.site_id for r in named_rows})
    resolved: list[uuid.UUID] = []
    issues: list[Issue] = []
    for index, point in enumerate(points):
        device: uuid.UUID | None
        if point.device_id is not None:
            device = point.device_id if point.device_id in site_of else None
            field = f"points[{index}].deviceId"
        else:
            device = named.get((point.site_id, point.asset_name))
            field = f"points[{index}].assetName"
        if device is None:
            issues.append(Issue(ErrorCode.NOT_FOUND, field, "no such device that you can see"))
        else:
            resolved.append(device)
    if issues:
        raise ValidationFailed(issues[:20])
    return resolved, {site for device in resolved if (site := site_of[device]) is not None}


def _pin_column(point: IngestPoint, pin: str, attribute: str) -> float | None:
    for reading in point.pins:
        if reading.pin == pin:
            return getattr(reading, attribute)
    return None


INSERT = text(
    """
    INSERT INTO measurement (device_id, ts, power_w, energy_wh, soc, pin_current, pin_voltage, pin_power)
    SELECT d, t, p, e, s,
           CASE WHEN num_nonnulls(c1, c2, c3) > 0 THEN ARRAY[c1, c2, c3] END,
           CASE WHEN num_nonnulls(v1, v2, v3) > 0 THEN ARRAY[v1, v2, v3] END,
           CASE WHEN num_nonnulls(w1, w2, w3) > 0 THEN ARRAY[w1, w2, w3] END
    FROM unnest(CAST(:d AS uuid[]), CAST(:t AS timestamptz[]), CAST(:p AS float8[]), CAST(:e AS float8[]),
                CAST(:s AS float8[]), CAST(:c1 AS float8[]), CAST(:c2 AS float8[]), CAST(:c3 AS float8[]),
                CAST(:v1 AS float8[]), CAST(:v2 AS float8[]), CAST(:v3 AS float8[]),
                CAST(:w1 AS float8[]), CAST(:w2 AS float8[]), CAST(:w3 AS float8[]))
         AS u(d, t, p, e, s, c1, c2, c3, v1, v2, v3, w1, w2, w3)
    ON CONFLICT (device_id, ts) DO UPDATE SET
        power_w = EXCLUDED.power_w, energy_wh = EXCLUDED.energy_wh, soc = EXCLUDED.soc,
        pin_current = EXCLUDED.pin_current, pin_voltage = EXCLUDED.pin_voltage, pin_power = EXCLUDED.pin_power
    """
)

LOCK_AND_NOTIFY = text(
    "SELECT pg_advisory_xact_lock_shared(hashtextextended(CAST(d AS text), 0))"
    " FROM unnest(CAST(:shared AS uuid[])) d"
    " UNION ALL SELECT pg_advisory_xact_lock(hashtextextended(CAST(d AS text), 0))"
    " FROM unnest(CAST(:whole AS uuid[])) d"
    " UNION ALL SELECT pg_advisory_xact_lock(hashtextextended(CAST(d AS text) || '/' || CAST(h AS text), 0))"
    " FROM unnest(CAST(:lock_d AS uuid[]), CAST(:lock_h AS bigint[])) AS k(d, h)"
    " UNION ALL SELECT pg_notify(:channel, e) FROM unnest(CAST(:events AS text[])) AS e"
)
"""The batch's locks (see `_locks`), and the sites' events queued in the same round trip (sent at commit)."""

_LOCK_HOUR_S = 3600
_LOCK_REACH_BEFORE = timedelta(minutes=45)
"""A recompute reads from the slot before a batch's first point and MAX_GAP further back: within 45 minutes."""
_LOCK_REACH_AFTER = timedelta(minutes=30)
"""...and writes up to the slot after its last point: within 30 minutes."""
_MOST_HOUR_LOCKS = 64


@dataclass(frozen=True)
class _Locks:
    shared: list[uuid.UUID]
    whole: list[uuid.UUID]
    hours: list[tuple[uuid.UUID, int]]


def _locks(keys: list[tuple[uuid.UUID, datetime]]) -> _Locks:
    """Two batches must not recompute a slot without seeing each other's points, but only batches whose reach
    (the points a recompute reads) meets need to wait for each other: a batch locks each hour of each device its
    reach touches, and holds a shared lock on the device. A batch reaching over more hours than that locks its
    devices whole (exclusive: it waits for, and holds off, every other batch of them). Keys are taken in one
    order, so batches never deadlock; a point of another batch within this one's reach lies in an hour both lock.
    """
    spans: dict[uuid.UUID, tuple[datetime, datetime]] = {}
    for device, ts in keys:
        first, last = spans.get(device, (ts, ts))
        spans[device] = (min(first, ts), max(last, ts))
    hours = sorted(
        (device, hour)
        for device, (first, last) in spans.items()
        for hour in range(
            int((first - _LOCK_REACH_BEFORE).timestamp() // _LOCK_HOUR_S),
            int((last + _LOCK_REACH_AFTER).timestamp() // _LOCK_HOUR_S) + 1,
        )
    )
    if len(hours) > _MOST_HOUR_LOCKS:
        return _Locks([], sorted(spans), [])
    return _Locks(sorted(spans), [], hours)


# Slot of a point at t: the one ending at the first 15-minute boundary >= t.
SLOT_END = (
    f"date_bin('{SLOT}', {{ts}} - interval '1 microsecond', TIMESTAMPTZ '2000-01-01 00:00+00') + interval '{SLOT}'"
)

RECOMPUTE = text(
    f"""
    WITH touched AS (
        SELECT d AS device_id,
               {SLOT_END.format(ts="min(t)")} - interval '{SLOT}' AS lo,
               {SLOT_END.format(ts="max(t)")} + interval '{SLOT}' AS hi
        FROM unnest(CAST(:d AS uuid[]), CAST(:t AS timestamptz[])) AS u(d, t) GROUP BY d
    ), stepped AS (
        SELECT touched.device_id, m.ts, m.power_w, m.energy_wh, m.soc, touched.lo,
               lag(m.ts) OVER w AS prev_ts, lag(m.energy_wh) OVER w AS prev_energy
        FROM touched CROSS JOIN LATERAL (
            -- One key range scan per touched device. OFFSET 0 keeps the subquery from being flattened into a
            -- join, which the planner may hash over the whole table when the table holds few devices.
            SELECT m.ts, m.power_w, m.energy_wh, m.soc FROM measurement m
            WHERE m.device_id = touched.device_id
              AND m.ts > touched.lo - interval '{MAX_GAP}' AND m.ts <= touched.hi
            OFFSET 0
        ) m
        WINDOW w AS (PARTITION BY touched.device_id ORDER BY m.ts)
    ), increments AS (
        SELECT device_id, {SLOT_END.format(ts="ts")} AS slot_end, soc,
               CASE WHEN prev_ts IS NULL OR ts - prev_ts > interval '{MAX_GAP}' THEN NULL
                    WHEN energy_wh IS NOT NULL AND prev_energy IS NOT NULL THEN energy_wh - prev_energy
                    ELSE power_w * extract(epoch FROM ts - prev_ts) / 3600 END AS wh,
               CASE WHEN prev_ts IS NULL OR ts - prev_ts > interval '{MAX_GAP}' THEN 0
                    ELSE extract(epoch FROM ts - prev_ts) END AS seconds
        FROM stepped WHERE ts > lo
    ), slots AS (
        SELECT device_id, slot_end,
               coalesce(sum(greatest(wh, 0)), 0) AS energy_in_wh,
               coalesce(sum(greatest(-wh, 0)), 0) AS energy_out_wh,
               coalesce(sum(seconds) FILTER (WHERE wh IS NOT NULL), 0) AS covered_s,
               coalesce(sum(soc), 0) AS soc_sum, count(soc) AS soc_samples
        FROM increments GROUP BY device_id, slot_end
    )
    INSERT INTO measurement_slot (device_id, slot_end, energy_in_wh, energy_out_wh, covered_s, soc_sum, soc_samples)
    SELECT * FROM slots
    ON CONFLICT (device_id, slot_end) DO UPDATE SET
        energy_in_wh = EXCLUDED.energy_in_wh, energy_out_wh = EXCLUDED.energy_out_wh,
        covered_s = EXCLUDED.covered_s, soc_sum = EXCLUDED.soc_sum, soc_samples = EXCLUDED.soc_samples
    """
)


async def ingest(session: AsyncSession, caller: Principal, points: list[IngestPoint]) -> int:
    """Stores the batch whole or not at all; returns how many distinct (device, timestamp) points it holds."""
    caller.require(Role.OPERATOR)
    if len(points) > MAX_POINTS:
        raise ValidationFailed.one(ErrorCode.OUT_OF_RANGE, "points", f"at most {MAX_POINTS} points per call")
    devices, sites = await _resolve_devices(session, caller, points)
    latest: dict[tuple[uuid.UUID, datetime], IngestPoint] = {}
    for device, point in zip(devices, points, strict=True):
        latest[(device, point.timestamp)] = point
    keys = sorted(latest)  # every batch writes its rows in one order, so two batches never deadlock on them
    values = [latest[key] for key in keys]
    columns: dict[str, list[Any]] = {
        "d": [k[0] for k in keys],
        "t": [k[1] for k in keys],
        "p": [v.power_w for v in values],
        "e": [v.energy_wh for v in values],
        "s": [v.soc for v in values],
    }
    with_pins = any(v.pins for v in values)
    for prefix, attribute in (("c", "current"), ("v", "voltage"), ("w", "power")):
        for number, pin in enumerate(PINS, start=1):
            columns[f"{prefix}{number}"] = [_pin_column(v, pin, attribute) for v in values] if with_pins else []
    for name in ("p", "e", "s"):
        if all(value is None for value in columns[name]):
            columns[name] = []  # unnest pads a shorter array with NULLs: nothing to encode or send
    if keys:
        await session.execute(INSERT, columns)
        # The locks come after the insert: of two batches that meet, the one that gets them second recomputes in a new
        # snapshot (read committed) that holds the first one's points, so only the recompute and the commit wait.
        events = [payload(EventKind.MEASUREMENTS, site_id) for site_id in sorted(sites)]
        locks = _locks(keys)
        await session.execute(
            LOCK_AND_NOTIFY,
            {
                "shared": locks.shared,
                "whole": locks.whole,
                "lock_d": [device for device, _ in locks.hours],
                "lock_h": [hour for _, hour in locks.hours],
                "channel": CHANNEL,
                "events": events,
            },
        )
        await session.execute(RECOMPUTE, {"d": columns["d"], "t": columns["t"]})
    return len(keys)
