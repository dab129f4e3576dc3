"""The demo simulator writes through the services: prices, forecasts, meter readings, cars arriving and leaving."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

from sqlalchemy import func, select, update

from app.database import Database
from app.demo import ensure_demo
from app.models import ChargingSession, Device, ForecastPoint, Measurement, PricePoint
from app.settings import Settings
from app.simulator import DemoSimulator, load_power, pv_power, start_in_thread
from app.vocabulary import SessionState


async def _count(db: Database, statement) -> int:
    async with db.session() as session:
        return int((await session.execute(statement)).scalar_one())


async def _open(db: Database) -> list[ChargingSession]:
    async with db.session() as session:
        rows = await session.execute(select(ChargingSession).where(ChargingSession.state != SessionState.ENDED.value))
        return list(rows.scalars())


async def test_prepare_and_tick_write_the_demo_site_through_the_services(database_url: str, tmp_path: Path) -> None:
    db = Database(database_url)
    try:
        await ensure_demo(db, Settings(jwt_secret="simulator-test-secret-of-32-bytes-at-least", data_dir=tmp_path))
        simulator = DemoSimulator(db, rng=random.Random(3), arrival_probability=0.0)
        await simulator.prepare()
        assert await _count(db, select(func.count()).select_from(PricePoint)) == 2 * 48
        assert await _count(db, select(func.count()).select_from(ForecastPoint)) == 2 * 48
        assert await _count(db, select(func.max(ForecastPoint.power_w))) > 0  # the load
        assert len(await _open(db)) == 2
        await simulator.prepare()  # again: the same cars, no second session on a pole
        assert len(await _open(db)) == 2

        devices = await _count(db, select(func.count()).select_from(Device))
        assert await simulator.tick() == devices
        async with db.session() as session:
            points = list((await session.execute(select(Measurement))).scalars())
        assert len(points) == devices
        assert any(p.soc is not None for p in points) and any(p.pin_current for p in points)

        # A car whose leave time passed is stopped; a free pole gets a car.
        leaving = (await _open(db))[0]
        async with db.transaction() as session:
            await session.execute(
                update(ChargingSession).where(ChargingSession.id == leaving.id).values(leave_time=func.now())
            )
        simulator.arrival_probability = 1.0
        await simulator.tick()
        still_open = {s.id for s in await _open(db)}
        assert leaving.id not in still_open and len(still_open) == 2
    finally:
        await db.dispose()


def test_the_curves_have_the_demo_signs() -> None:
    from datetime import datetime

    noon, night = datetime(2026, 6, 1, 13), datetime(2026, 6, 1, 2)
    assert pv_power(noon) < -1000 and pv_power(night) == 0
    assert load_power(datetime(2026, 6, 1, 19)) > load_power(night) > 0


async def test_the_demo_thread_keeps_reading_meters(database_url: str, tmp_path: Path) -> None:
    db = Database(database_url)
    try:
        await ensure_demo(db, Settings(jwt_secret="simulator-test-secret-of-32-bytes-at-least", data_dir=tmp_path))
        thread, stopping = start_in_thread(database_url, interval_s=0.2)
        deadline = time.monotonic() + 60
        devices = await _count(db, select(func.count()).select_from(Device))
        while await _count(db, select(func.count()).select_from(Measurement)) < 3 * devices:
            assert time.monotonic() < deadline and thread.is_alive(), "the simulator wrote no three rounds"
            await asyncio.sleep(0.1)
        stopping.set()
        await asyncio.to_thread(thread.join, 30)
        assert not thread.is_alive()
    finally:
        await db.dispose()
