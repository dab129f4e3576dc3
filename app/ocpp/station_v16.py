"""The server side of an OCPP 1.6 charge point: its messages onto the domain, limits out as charging profiles."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action

from app.ocpp.profiles import PoleLimits, profile_v16
from app.ocpp.served import Served, now_iso

ACCEPTED = {"status": "Accepted"}


class StationV16(Served, ChargePoint):
    heartbeat_interval: int = 60

    def _ours(self, connector_id: int | None) -> bool:
        return connector_id is None or connector_id == self.link.station.connector_id

    @on(Action.boot_notification)
    async def on_boot(self, charge_point_vendor: str, charge_point_model: str, **extra: Any) -> Any:
        await self.link.booted(charge_point_vendor, charge_point_model, extra.get("firmware_version"))
        return call_result.BootNotification(current_time=now_iso(), interval=self.heartbeat_interval, status="Accepted")

    @after(Action.boot_notification)
    async def after_boot(self, **_: Any) -> None:
        await self.check_rotation()

    @on(Action.heartbeat)
    async def on_heartbeat(self, **_: Any) -> Any:
        await self.link.report()
        return call_result.Heartbeat(current_time=now_iso())

    @on(Action.status_notification)
    async def on_status(self, connector_id: int, status: str, **_: Any) -> Any:
        if connector_id == self.link.station.connector_id:
            await self.link.connector(status)
        return call_result.StatusNotification()

    @on(Action.start_transaction)
    async def on_start(self, connector_id: int, meter_start: int, timestamp: str, **_: Any) -> Any:
        transaction_id = secrets.randbelow(2**31 - 1) + 1
        if self._ours(connector_id):
            reading = [{"timestamp": timestamp, "sampled_value": [{"value": str(meter_start)}]}]
            await self.link.transaction(str(transaction_id), meter_values=reading)
        return call_result.StartTransaction(transaction_id=transaction_id, id_tag_info=ACCEPTED)

    @on(Action.stop_transaction)
    async def on_stop(self, meter_stop: int, timestamp: str, transaction_id: int, **_: Any) -> Any:
        if str(transaction_id) == self.link.transaction_id:
            reading = [{"timestamp": timestamp, "sampled_value": [{"value": str(meter_stop)}]}]
            await self.link.end_transaction(reading)
        return call_result.StopTransaction(id_tag_info=ACCEPTED)

    @on(Action.meter_values)
    async def on_meter_values(self, connector_id: int, meter_value: list[dict[str, Any]], **_: Any) -> Any:
        if self._ours(connector_id):
            await self.link.meter(meter_value)
        return call_result.MeterValues()

    async def set_profile(self, limits: PoleLimits, now: datetime) -> tuple[bool, str | None]:
        answer = await self.send_call(
            "SetChargingProfile",
            {
                "connector_id": self.link.station.connector_id,
                "cs_charging_profiles": profile_v16(limits, self.link.transaction_id, now),
            },
        )
        accepted = answer.get("status") == "Accepted"
        return accepted, None if accepted else f"the station answered {answer.get('status')}"

    async def read_rotation(self) -> str | None:
        """1.6's ConnectorPhaseRotation: "RST" for all, or per connector "1.RST,2.RTS"."""
        result = await self.call(call.GetConfiguration(key=["ConnectorPhaseRotation"]), suppress=False)
        for item in result.configuration_key or []:
            if item.get("key") != "ConnectorPhaseRotation" or not item.get("value"):
                continue
            for part in str(item["value"]).split(","):
                number, _, rotation = part.strip().rpartition(".")
                if not number or number == str(self.link.station.connector_id):
                    return rotation
        return None
