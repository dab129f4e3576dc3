"""Registering the OCPP station that drives a charging pole, by either door: `setChargingPoleStation` (one
pole) or Pleevi's document (`ocpp_station` on a pole, applied with the rest of the topology in its
transaction). Both check the same rules (`app.domain.ocpp_station`) and store the password the same way:
an argon2 hash, never the password. A station id is unique across all accounts (the station acts in its
pole's account only; another account's pole can never take it)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth import Principal, Role, hash_password
from app.domain.ocpp_station import (
    ID_RULE,
    MAX_ID,
    PASSWORD_RULE,
    STATION_ID_RULE,
    OcppStationMapping,
    password_ok,
    station_id_ok,
)
from app.errors import ErrorCode, Issue, ValidationFailed
from app.events import EventKind, notify
from app.models import Device, OcppStation
from app.services.common import get_owned, raise_if
from app.vocabulary import DeviceType

TAKEN = "another pole already uses this station id"


@dataclass(frozen=True)
class StationConfig:
    station_id: str
    evse_id: int = 1
    connector_id: int = 1
    password: str | None = None
    fallback_current_a: float | None = None

    @classmethod
    def of(cls, mapping: OcppStationMapping) -> StationConfig:
        return cls(
            mapping.station_id, mapping.evse_id, mapping.connector_id, mapping.password, mapping.fallback_current
        )


# Field names of the mutation's arguments, keyed by the rule's subject.
MUTATION_FIELDS = {
    "station_id": "stationId",
    "evse_id": "evseId",
    "connector_id": "connectorId",
    "password": "password",
    "fallback": "fallbackCurrentA",
}


def config_issues(
    config: StationConfig, line_current: float, creating: bool, field: Callable[[str], str]
) -> list[Issue | None]:
    """`field(subject)` names a field in the caller's terms (the mutation's argument, the document's path)."""
    issues: list[Issue | None] = []
    if not station_id_ok(config.station_id):
        issues.append(Issue(ErrorCode.INVALID_FORMAT, field("station_id"), STATION_ID_RULE))
    if not 1 <= config.evse_id <= MAX_ID:
        issues.append(Issue(ErrorCode.OUT_OF_RANGE, field("evse_id"), ID_RULE))
    if not 1 <= config.connector_id <= MAX_ID:
        issues.append(Issue(ErrorCode.OUT_OF_RANGE, field("connector_id"), ID_RULE))
    if config.password is None and creating:
        issues.append(Issue(ErrorCode.REQUIRED, field("password"), "a new station needs its Basic-auth password"))
    elif config.password is not None and not password_ok(config.password):
        issues.append(Issue(ErrorCode.OUT_OF_RANGE, field("password"), PASSWORD_RULE))
    fallback = config.fallback_current_a
    if fallback is not None and not 0 <= fallback <= line_current:
        issues.append(
            Issue(ErrorCode.OUT_OF_RANGE, field("fallback"), f"must lie in [0, {line_current:g}] A, the pole's")
        )
    return issues


async def _taken(session: AsyncSession, station_id: str, pole_id: uuid.UUID) -> bool:
    return (
        await session.execute(
            select(col(OcppStation.device_id)).where(
                col(OcppStation.station_id) == station_id, col(OcppStation.device_id) != pole_id
            )
        )
    ).first() is not None


async def _store(session: AsyncSession, pole: Device, row: OcppStation | None, config: StationConfig) -> OcppStation:
    if row is None:
        row = OcppStation(device_id=pole.id, account_id=pole.account_id, station_id=config.station_id, password_hash="")
    row.station_id, row.evse_id, row.connector_id = config.station_id, config.evse_id, config.connector_id
    row.fallback_current_a = config.fallback_current_a
    if config.password is not None:
        row.password_hash = await asyncio.to_thread(hash_password, config.password)
    session.add(row)
    return row


async def configure_station(
    session: AsyncSession, caller: Principal, device_id: uuid.UUID, config: StationConfig
) -> OcppStation:
    """Registers (or changes) the station that drives a charging pole; the station id is unique everywhere."""
    caller.require(Role.OPERATOR)
    pole = await get_owned(session, caller, Device, device_id, lock=True)
    if pole.type != DeviceType.CHARGING_POLE.value:
        raise ValidationFailed.one(ErrorCode.INVALID, "deviceId", "OCPP stations drive charging poles")
    row = await session.get(OcppStation, pole.id, with_for_update=True)
    raise_if(config_issues(config, pole.line_current or 0.0, row is None, MUTATION_FIELDS.__getitem__))
    if await _taken(session, config.station_id, pole.id):
        raise ValidationFailed.one(ErrorCode.DUPLICATE, "stationId", TAKEN)
    row = await _store(session, pole, row, config)
    await session.flush()
    await notify(session, EventKind.SITE_CHANGED, pole.site_id, device=pole.id)
    return row


def _document_field(index: int) -> Callable[[str], str]:
    names = {"fallback": "fallback_current"}
    return lambda subject: f"device_list[{index}].ocpp_station.{names.get(subject, subject)}"


def _same(row: OcppStation, config: StationConfig) -> bool:
    return config.password is None and (
        row.station_id,
        row.evse_id,
        row.connector_id,
        row.fallback_current_a,
    ) == (config.station_id, config.evse_id, config.connector_id, config.fallback_current_a)


async def apply_document_stations(session: AsyncSession, poles: list[tuple[int, Device, OcppStationMapping]]) -> None:
    """The stations a site document names (`device_list[index]`, its stored pole, the mapping), written in the
    document's transaction or refused with it, every issue at its path in the document. A pole the document
    gives no `ocpp_station` keeps the station it has (set by the mutation or an earlier document)."""
    if not poles:
        return
    rows = {
        r.device_id: r
        for r in (
            await session.execute(
                select(OcppStation).where(col(OcppStation.device_id).in_([p.id for _, p, _ in poles])).with_for_update()
            )
        ).scalars()
    }
    issues: list[Issue | None] = []
    pending: list[tuple[Device, OcppStation | None, StationConfig]] = []
    for index, pole, mapping in poles:
        config, row = StationConfig.of(mapping), rows.get(pole.id)
        if row is not None and _same(row, config):
            continue
        field = _document_field(index)
        found = config_issues(config, pole.line_current or 0.0, row is None, field)
        if not found and await _taken(session, config.station_id, pole.id):
            found.append(Issue(ErrorCode.DUPLICATE, field("station_id"), TAKEN))
        issues += found
        pending.append((pole, row, config))
    raise_if(issues)
    stored = await asyncio.gather(*(_store(session, pole, row, config) for pole, row, config in pending))
    if stored:
        await session.flush()
