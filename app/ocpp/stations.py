"""The station registry: which pole a station id drives, its hashed password, and what it last reported.

A station authenticates with HTTP Basic (OCPP security profiles 1 and 2): the user name is its station id,
the password is checked against the argon2 hash kept on the pole's `ocpp_station` row. Everything the
station then does runs as a principal of the pole's account, held to that account like any API caller."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlmodel import col

from app.auth import Principal, Role, verify_password
from app.database import Database
from app.events import EventKind, notify
from app.models import Account, Device, OcppStation
from app.services.stations import StationConfig, configure_station

CONTROL_OK, CONTROL_REFUSED, CONTROL_UNRESPONSIVE = "ok", "refused", "unresponsive"
# Registering a station (the mutation's and the site document's door) is a service: app.services.stations.
__all__ = [
    "CONTROL_OK",
    "CONTROL_REFUSED",
    "CONTROL_UNRESPONSIVE",
    "StationConfig",
    "StationLogin",
    "configure_station",
]


@dataclass(frozen=True)
class StationLogin:
    """A station that proved its password, with what its messages need of its pole."""

    station_id: str
    device_id: uuid.UUID
    site_id: uuid.UUID | None
    evse_id: int
    connector_id: int
    pin_list: tuple[str, ...]
    phase_list: tuple[str, ...]
    line_current: float
    principal: Principal


async def login(db: Database, station_id: str, password: str) -> StationLogin | None:
    """The station behind a Basic-auth pair, or None (unknown id and wrong password look the same)."""
    async with db.session() as session:
        row = (
            await session.execute(
                select(OcppStation, Device, col(Account.path))
                .join(Device, col(Device.id) == col(OcppStation.device_id))
                .join(Account, col(Account.id) == col(OcppStation.account_id))
                .where(col(OcppStation.station_id) == station_id)
            )
        ).first()
    if row is None or not await asyncio.to_thread(verify_password, row.OcppStation.password_hash, password):
        return None
    station, pole = row.OcppStation, row.Device
    return StationLogin(
        station_id=station.station_id,
        device_id=pole.id,
        site_id=pole.site_id,
        evse_id=station.evse_id,
        connector_id=station.connector_id,
        pin_list=tuple(pole.pin_list or ()),
        phase_list=tuple(pole.phase_list or ()),
        line_current=pole.line_current or 0.0,
        principal=Principal("ocpp_station", pole.id, pole.account_id, row.path, Role.OPERATOR),
    )


async def record(db: Database, station: StationLogin, replan: bool = False, **fields: Any) -> None:
    """Writes what the station reported (and that it was seen); `replan` when the plan depends on it (its
    online state, whether it obeys): the site is planned again, a pole out of control at its fallback."""
    now = datetime.now(UTC)
    values: dict[str, Any] = {"last_seen_at": now, **fields}
    if "control_status" in fields:
        values["control_changed_at"] = now
    async with db.transaction() as session:
        await session.execute(
            update(OcppStation).where(col(OcppStation.device_id) == station.device_id).values(**values)
        )
        if replan:
            await notify(session, EventKind.SITE_CHANGED, station.site_id, device=station.device_id)
