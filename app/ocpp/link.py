"""What a connected station does to the domain, whatever its OCPP version: online state, connector state,
charging sessions (through the steering service) and measurements (through the ingest service), all as a
principal of the pole's account."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from app.database import Database
from app.errors import NotFound, ValidationFailed
from app.models import ChargingSession
from app.ocpp.meter import meter_points
from app.ocpp.stations import StationLogin, record
from app.services import measurements, steering
from app.services.steering import SessionTarget
from app.vocabulary import SessionState

log = logging.getLogger(__name__)


@dataclass
class StationLink:
    db: Database
    station: StationLogin
    protocol: str
    transaction_id: str | None = None
    control_status: str | None = None
    _session_shape: dict[str, Any] = field(default_factory=dict)  # phases and suspension last applied

    @property
    def device_id(self) -> uuid.UUID:
        return self.station.device_id

    async def report(self, replan: bool = False, **fields: Any) -> None:
        await record(self.db, self.station, replan=replan, **fields)

    async def connected(self) -> None:
        await self.report(replan=True, online=True, protocol=self.protocol)

    async def disconnected(self, reason: str) -> None:
        log.info("station %s offline: %s", self.station.station_id, reason)
        await self.report(replan=True, online=False, control_message=reason)

    async def booted(self, vendor: str | None, model: str | None, firmware: str | None) -> None:
        await self.report(online=True, vendor=vendor, model=model, firmware_version=firmware)

    async def connector(self, status: str) -> None:
        await self.report(connector_status=status)

    async def control(self, status: str, message: str | None) -> None:
        """Whether the station obeys the profiles it is sent; a change re-plans the site."""
        if status != self.control_status:
            self.control_status = status
            await self.report(replan=True, control_status=status, control_message=message)

    def used_pins(self, phases: int | None) -> list[str]:
        pins = list(self.station.pin_list)
        return pins[:phases] if phases and 0 < phases < len(pins) else pins

    async def _open_session(self, session: Any) -> uuid.UUID | None:
        return (
            await session.execute(
                select(col(ChargingSession.id)).where(
                    col(ChargingSession.device_id) == self.device_id,
                    col(ChargingSession.state) != SessionState.ENDED.value,
                )
            )
        ).scalar()

    async def transaction(
        self,
        transaction_id: str,
        *,
        phases: int | None = None,
        suspended: bool | None = None,
        meter_values: list[dict[str, Any]] | None = None,
    ) -> None:
        """Opens the pole's session (or updates the one already open) and stores the meter values with it."""
        caller = self.station.principal
        try:
            async with self.db.transaction() as session:
                open_id = await self._open_session(session)
                if open_id is None:
                    await steering.start_session(
                        session,
                        caller,
                        self.device_id,
                        used_pins=self.used_pins(phases),
                        target=SessionTarget(),
                        ac_min_current_a=min(6.0, self.station.line_current),
                        max_phase_count=None,
                    )
                    self._session_shape = {}
                    self._changes_shape(phases, suspended)
                elif self._changes_shape(phases, suspended) or self.transaction_id != transaction_id:
                    # Periodic Updated events repeat the state: only a change re-plans the site.
                    changes = {"used_pins": self.used_pins(phases)} if phases is not None else {}
                    await steering.update_session(
                        session, caller, open_id, changes=changes, target={}, suspended=suspended
                    )
                if meter_values:
                    await measurements.ingest(session, caller, meter_points(self.device_id, meter_values))
        except (ValidationFailed, NotFound) as exc:
            log.warning("station %s: transaction %s not applied: %s", self.station.station_id, transaction_id, exc)
        if transaction_id != self.transaction_id:
            self.transaction_id = transaction_id
            await self.report(transaction_id=transaction_id)

    def _changes_shape(self, phases: int | None, suspended: bool | None) -> bool:
        given = {k: v for k, v in (("phases", phases), ("suspended", suspended)) if v is not None}
        changed = any(self._session_shape.get(k) != v for k, v in given.items())
        self._session_shape.update(given)
        return changed

    async def end_transaction(self, meter_values: list[dict[str, Any]] | None = None) -> None:
        caller = self.station.principal
        try:
            async with self.db.transaction() as session:
                if meter_values:
                    await measurements.ingest(session, caller, meter_points(self.device_id, meter_values))
                open_id = await self._open_session(session)
                if open_id is not None:
                    await steering.stop_session(session, caller, open_id)
        except (ValidationFailed, NotFound) as exc:
            log.warning("station %s: end of transaction not applied: %s", self.station.station_id, exc)
        self.transaction_id, self._session_shape = None, {}
        await self.report(transaction_id=None)

    async def meter(self, meter_values: list[dict[str, Any]]) -> None:
        points = meter_points(self.device_id, meter_values)
        if not points:
            return
        try:
            async with self.db.transaction() as session:
                await measurements.ingest(session, self.station.principal, points)
        except (ValidationFailed, NotFound) as exc:
            log.warning("station %s: meter values refused: %s", self.station.station_id, exc)

    async def charging_needs(self, energy_wh: float | None, departure: datetime | None) -> bool:
        """ISO 15118 needs (2.0.1 NotifyEVChargingNeeds) become the open session's target."""
        target = {k: v for k, v in (("energy_amount_needed_wh", energy_wh), ("leave_time", departure)) if v is not None}
        try:
            async with self.db.transaction() as session:
                open_id = await self._open_session(session)
                if open_id is None:
                    return False
                await steering.update_session(
                    session, self.station.principal, open_id, changes={}, target=target, suspended=None
                )
        except (ValidationFailed, NotFound) as exc:
            log.warning("station %s: charging needs refused: %s", self.station.station_id, exc)
            return False
        return True
