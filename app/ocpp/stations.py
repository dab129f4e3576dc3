"""The station registry: which pole a station id drives, its hashed password, and what it last reported.

A station authenticates with HTTP Basic (OCPP security profiles 1 and 2): the user name is its station id,
the password is checked against the argon2 hash kept on the pole's `ocpp_station` row. Everything the
station then does runs as a principal of the pole's account, held to that account like any API caller."""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth import Principal, Role, hash_password, verify_password
from app.database import Database
from app.errors import ErrorCode, Issue, ValidationFailed
from app.events import EventKind, notify
from app.models import Account, Device, OcppStation
from app.services.common import get_owned, raise_if
from app.vocabulary import DeviceType

# OCPP 2.0.1 part 2 (security): identities are at most 48 printable characters and, with Basic
# authentication, carry no ':'; passwords (BasicAuthPassword) are 16 to 40 characters.
STATION_ID = re.compile(r"^[A-Za-z0-9*\-_=+|@.]{1,48}$")
PASSWORD_LENGTH = (16, 40)
CONTROL_OK, CONTROL_REFUSED, CONTROL_UNRESPONSIVE = "ok", "refused", "unresponsive"


@dataclass(frozen=True)
class StationConfig:
    station_id: str
    evse_id: int = 1
    connector_id: int = 1
    password: str | None = None
    fallback_current_a: float | None = None


def _config_issues(config: StationConfig, pole: Device, creating: bool) -> list[Issue | None]:
    issues: list[Issue | None] = []
    if not STATION_ID.match(config.station_id):
        issues.append(Issue(ErrorCode.INVALID_FORMAT, "stationId", "1 to 48 characters: letters, digits and *-_=+|@."))
    if not 1 <= config.evse_id <= 2**31 - 1:
        issues.append(Issue(ErrorCode.OUT_OF_RANGE, "evseId", "must be a positive integer"))
    if not 1 <= config.connector_id <= 2**31 - 1:
        issues.append(Issue(ErrorCode.OUT_OF_RANGE, "connectorId", "must be a positive integer"))
    if config.password is None and creating:
        issues.append(Issue(ErrorCode.REQUIRED, "password", "a new station needs its Basic-auth password"))
    elif config.password is not None and not PASSWORD_LENGTH[0] <= len(config.password) <= PASSWORD_LENGTH[1]:
        issues.append(Issue(ErrorCode.OUT_OF_RANGE, "password", "must be 16 to 40 characters (OCPP BasicAuthPassword)"))
    fallback = config.fallback_current_a
    if fallback is not None and not 0 <= fallback <= (pole.line_current or 0):
        issues.append(
            Issue(ErrorCode.OUT_OF_RANGE, "fallbackCurrentA", f"must lie in [0, {pole.line_current:g}] A, the pole's")
        )
    return issues


async def configure_station(
    session: AsyncSession, caller: Principal, device_id: uuid.UUID, config: StationConfig
) -> OcppStation:
    """Registers (or changes) the station that drives a charging pole; the station id is unique everywhere."""
    caller.require(Role.OPERATOR)
    pole = await get_owned(session, caller, Device, device_id, lock=True)
    if pole.type != DeviceType.CHARGING_POLE.value:
        raise ValidationFailed.one(ErrorCode.INVALID, "deviceId", "OCPP stations drive charging poles")
    row = await session.get(OcppStation, pole.id, with_for_update=True)
    raise_if(_config_issues(config, pole, creating=row is None))
    taken = (
        await session.execute(
            select(col(OcppStation.device_id)).where(
                col(OcppStation.station_id) == config.station_id, col(OcppStation.device_id) != pole.id
            )
        )
    ).first()
    if taken:
        raise ValidationFailed.one(ErrorCode.DUPLICATE, "stationId", "another pole already uses this station id")
    if row is None:
        row = OcppStation(device_id=pole.id, account_id=pole.account_id, station_id=config.station_id, password_hash="")
    row.station_id, row.evse_id, row.connector_id = config.station_id, config.evse_id, config.connector_id
    row.fallback_current_a = config.fallback_current_a
    if config.password is not None:
        row.password_hash = await asyncio.to_thread(hash_password, config.password)
    session.add(row)
    await session.flush()
    await notify(session, EventKind.SITE_CHANGED, pole.site_id, device=pole.id)
    return row


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
