"""The demo site comes alive: meters report every few seconds and cars arrive and leave, so the dashboard moves.

Every write goes through the services (the same validation, transactions and NOTIFY events as the API), so
the control loop plans the site as it would for a real one. Cars draw what their pole's enforced limit
allows (up to what the car can take), the battery follows its plan, the PV follows the sun of the site's
timezone, the building load a daily curve with noise."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import col

from app.auth import Principal
from app.bootstrap import operator_of, top_account
from app.database import Database
from app.demo import DEMO_ORGANISATION
from app.models import ChargingSession, Collector, Device, OptimizationRun, Site
from app.optimization.stored_run import StoredRun, parse_run
from app.phases import phase_voltage_of
from app.services.measurements import IngestPoint, PinReading, ingest
from app.services.steering import SeriesPoint, SessionTarget, set_forecast, set_prices, start_session, stop_session
from app.vocabulary import DeviceType, SessionState

log = logging.getLogger(__name__)

PV_PEAK_W = 12_000.0
LOAD_BASE_W = 2_500.0
LOAD_EVENING_W = 5_000.0
SERIES_HOURS = 48
SERIES_REFRESH = timedelta(hours=1)
CAR_MAX_CURRENT_A = 16.0


def pv_power(local: datetime) -> float:
    """W, production negative: a sine from 07:00 to 19:00 local time."""
    hour = local.hour + local.minute / 60
    return -PV_PEAK_W * max(math.sin(math.pi * (hour - 7) / 12), 0.0) if 7 <= hour <= 19 else 0.0


def load_power(local: datetime) -> float:
    """W: a base load with an evening bump around 19:00."""
    hour = local.hour + local.minute / 60
    return LOAD_BASE_W + LOAD_EVENING_W * math.exp(-(((hour - 19) / 2.5) ** 2))


def import_price(local: datetime) -> float:
    """EUR/kWh: cheap at night and around noon, dear at the evening peak."""
    hour = local.hour
    if hour < 6 or hour >= 23:
        return 0.18
    if 11 <= hour < 15:
        return 0.22
    if 17 <= hour < 21:
        return 0.41
    return 0.30


@dataclass
class _Car:
    need_wh: float
    stay: timedelta


@dataclass
class DemoSimulator:
    """One demo site's meters and cars; `prepare` once, then `tick` every `interval_s` (or `run` until stopped)."""

    db: Database
    interval_s: float = 5.0
    rng: random.Random = field(default_factory=random.Random)
    arrival_probability: float = 0.08
    soc_percent: dict[uuid.UUID, float] = field(default_factory=dict)

    async def _context(self) -> tuple[Principal, Site]:
        async with self.db.transaction() as session:
            organisation = await top_account(session, DEMO_ORGANISATION)
            caller = operator_of(organisation)
            site = (
                (
                    await session.execute(
                        select(Site).where(caller.owns(col(Site.account_id)), col(Site.deleted_at).is_(None))
                    )
                )
                .scalars()
                .first()
            )
        if site is None:
            raise LookupError("no demo site: run ensure_demo first")
        return caller, site

    async def _devices(self, site: Site) -> list[tuple[Device, Collector]]:
        async with self.db.session() as session:
            return list(
                (
                    await session.execute(
                        select(Device, Collector)
                        .join(Collector, col(Collector.id) == col(Device.collector_id))
                        .where(col(Device.site_id) == site.id)
                        .order_by(col(Device.position))
                    )
                ).all()
            )

    async def prepare(self, now: datetime | None = None) -> None:
        """Prices and forecasts for the next two days (hourly), and cars on the first two poles."""
        now = now or datetime.now(UTC)
        await self.publish_series(now)
        caller, site = await self._context()
        poles = [d for d, _ in await self._devices(site) if d.type == DeviceType.CHARGING_POLE.value]
        open_poles = await self._open_sessions(site)
        for pole in poles[:2]:
            if pole.id not in open_poles:
                await self._arrive(caller, pole, now, _Car(need_wh=18_000, stay=timedelta(hours=6)))

    async def publish_series(self, now: datetime) -> None:
        """Import and export prices and the PV and load forecasts, hourly from this hour for two days."""
        caller, site = await self._context()
        zone = ZoneInfo(site.timezone)
        start = now.replace(minute=0, second=0, microsecond=0)
        hours = [start + timedelta(hours=h) for h in range(SERIES_HOURS)]
        devices = await self._devices(site)
        async with self.db.transaction() as session:
            await set_prices(
                session,
                caller,
                site.id,
                imports=[SeriesPoint(t, import_price(t.astimezone(zone)), currency="EUR") for t in hours],
                exports=[SeriesPoint(t, 0.05, currency="EUR") for t in hours],
            )
            for device, _ in devices:
                if device.type != DeviceType.FORECASTED_SERIES.value:
                    continue
                curve = pv_power if device.forecast_type == "pv" else load_power
                points = [SeriesPoint(t, round(curve(t.astimezone(zone)), 1)) for t in hours]
                await set_forecast(session, caller, device.id, points)

    async def _open_sessions(self, site: Site) -> dict[uuid.UUID, ChargingSession]:
        async with self.db.session() as session:
            rows = (
                await session.execute(
                    select(ChargingSession).where(
                        col(ChargingSession.site_id) == site.id,
                        col(ChargingSession.state) != SessionState.ENDED.value,
                    )
                )
            ).scalars()
            return {row.device_id: row for row in rows}

    async def _arrive(self, caller: Principal, pole: Device, now: datetime, car: _Car) -> None:
        pins = list(pole.pin_list or ["pin1"])
        async with self.db.transaction() as session:
            await start_session(
                session,
                caller,
                pole.id,
                used_pins=pins,
                target=SessionTarget(energy_amount_needed_wh=car.need_wh, leave_time=now + car.stay),
                ac_min_current_a=6.0,
                max_phase_count=None,
            )

    async def _latest_run(self, site: Site) -> StoredRun | None:
        async with self.db.session() as session:
            row = (
                (
                    await session.execute(
                        select(OptimizationRun)
                        .where(col(OptimizationRun.site_id) == site.id)
                        .order_by(col(OptimizationRun.created_at).desc())
                        .limit(1)
                    )
                )
                .scalars()
                .first()
            )
        return parse_run(row) if row is not None else None

    async def tick(self, now: datetime | None = None) -> int:
        """One round of meter readings, then cars leave (past their leave time) and arrive. Returns the points."""
        now = now or datetime.now(UTC)
        caller, site = await self._context()
        zone = ZoneInfo(site.timezone)
        local = now.astimezone(zone)
        devices = await self._devices(site)
        sessions = await self._open_sessions(site)
        run = await self._latest_run(site)
        limits = {e.uuid: e.limits_root_side.ac_max_current_A for e in (run.enforced_limits if run else [])}
        points = [self._reading(device, collector, now, local, sessions, limits, run) for device, collector in devices]
        async with self.db.transaction() as session:
            await ingest(session, caller, points)
        await self._comings_and_goings(caller, devices, sessions, now)
        return len(points)

    def _reading(
        self,
        device: Device,
        collector: Collector,
        now: datetime,
        local: datetime,
        sessions: dict[uuid.UUID, ChargingSession],
        limits: dict[uuid.UUID, float],
        run: StoredRun | None,
    ) -> IngestPoint:
        voltage = phase_voltage_of(collector) or 230.0
        noise = 1 + self.rng.uniform(-0.04, 0.04)
        if device.type == DeviceType.CHARGING_POLE.value:
            open_session = sessions.get(device.id)
            used = open_session.used_pins if open_session else []
            amps = min(max(limits.get(device.id, 0.0), 0.0), CAR_MAX_CURRENT_A) if open_session else 0.0
            pins = tuple(
                PinReading(pin, current=round(amps * noise, 2) if pin in used else 0.0) for pin in device.pin_list or []
            )
            return IngestPoint(
                now, device_id=device.id, power_w=round(amps * noise * voltage * len(used), 1), pins=pins
            )
        if device.type == DeviceType.FORECASTED_SERIES.value:
            curve = pv_power if device.forecast_type == "pv" else load_power
            return IngestPoint(now, device_id=device.id, power_w=round(curve(local) * noise, 1))
        return self._battery_reading(device, now, run)

    def _battery_reading(self, device: Device, now: datetime, run: StoredRun | None) -> IngestPoint:
        """The battery follows its planned power at the current step; its state of charge integrates it."""
        planned = 0.0
        schedule = run.result.devices.get(device.id) if run is not None else None
        if run is not None and schedule is not None:
            step = max((k for k, t in enumerate(run.result.timestamps) if t <= now), default=0)
            power = schedule.power_W
            planned = (power[step] if step < len(power) else 0.0) or 0.0
        soc = self.soc_percent.get(device.id, 50.0)
        capacity = device.operational_battery_capacity or 10_000.0
        soc = min(max(soc + planned * self.interval_s / 3600 / capacity * 100, 0.0), 100.0)
        self.soc_percent[device.id] = soc
        return IngestPoint(now, device_id=device.id, power_w=round(planned, 1), soc=round(soc, 2))

    async def _comings_and_goings(
        self,
        caller: Principal,
        devices: list[tuple[Device, Collector]],
        sessions: dict[uuid.UUID, ChargingSession],
        now: datetime,
    ) -> None:
        for open_session in sessions.values():
            if open_session.leave_time is not None and open_session.leave_time <= now:
                async with self.db.transaction() as session:
                    await stop_session(session, caller, open_session.id)
        free = [d for d, _ in devices if d.type == DeviceType.CHARGING_POLE.value and d.id not in sessions]
        if free and self.rng.random() < self.arrival_probability:
            pole = self.rng.choice(free)
            car = _Car(
                need_wh=self.rng.choice([8_000, 15_000, 25_000]), stay=timedelta(minutes=self.rng.choice([5, 10, 20]))
            )
            await self._arrive(caller, pole, now, car)

    async def run(self, stop: asyncio.Event) -> None:
        """Ticks until `stop`; prices and forecasts are published again every hour, so they never run out."""
        await self.prepare()
        published = datetime.now(UTC)
        while not stop.is_set():
            try:
                if datetime.now(UTC) - published >= SERIES_REFRESH:
                    published = datetime.now(UTC)
                    await self.publish_series(published)
                await self.tick()
            except Exception:
                log.exception("demo simulator tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval_s)


def start_in_thread(url: str, interval_s: float = 5.0) -> tuple[threading.Thread, threading.Event]:
    """Beside uvicorn (which owns the main thread and its loop): a daemon thread with a loop of its own."""
    stopping = threading.Event()

    async def main() -> None:
        db = Database(url)
        stop = asyncio.Event()
        simulator = DemoSimulator(db, interval_s=interval_s)
        task = asyncio.create_task(simulator.run(stop))
        while not stopping.is_set() and not task.done():
            await asyncio.sleep(0.5)
        stop.set()
        with contextlib.suppress(Exception):
            await task
        await db.dispose()

    thread = threading.Thread(target=lambda: asyncio.run(main()), name="phasewise-demo-simulator", daemon=True)
    thread.start()
    return thread, stopping
