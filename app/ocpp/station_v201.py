"""The server side of an OCPP 2.0.1 station: its messages onto the domain, limits out as charging profiles."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ocpp.routing import after, on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import Action

from app.ocpp.meter import timestamp
from app.ocpp.profiles import PoleLimits, profile_v201
from app.ocpp.served import Served, now_iso


class StationV201(Served, ChargePoint):
    heartbeat_interval: int = 60

    def _ours(self, evse_id: int | None) -> bool:
        """A station drives one pole: messages of its other EVSEs are answered and otherwise ignored."""
        return evse_id is None or evse_id == self.link.station.evse_id

    @on(Action.boot_notification)
    async def on_boot(self, charging_station: dict[str, Any], reason: str, **_: Any) -> Any:
        await self.link.booted(
            charging_station.get("vendor_name"), charging_station.get("model"), charging_station.get("firmware_version")
        )
        return call_result.BootNotification(current_time=now_iso(), interval=self.heartbeat_interval, status="Accepted")

    @after(Action.boot_notification)
    async def after_boot(self, **_: Any) -> None:
        await self.check_rotation()

    @on(Action.heartbeat)
    async def on_heartbeat(self, **_: Any) -> Any:
        await self.link.report()
        return call_result.Heartbeat(current_time=now_iso())

    @on(Action.status_notification)
    async def on_status(self, connector_status: str, evse_id: int, connector_id: int, **_: Any) -> Any:
        if self._ours(evse_id) and connector_id == self.link.station.connector_id:
            await self.link.connector(connector_status)
        return call_result.StatusNotification()

    @on(Action.transaction_event)
    async def on_transaction(
        self,
        event_type: str,
        transaction_info: dict[str, Any],
        meter_value: list[dict[str, Any]] | None = None,
        number_of_phases_used: int | None = None,
        evse: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        if not self._ours((evse or {}).get("id")):
            return call_result.TransactionEvent()
        if event_type == "Ended":
            await self.link.end_transaction(meter_value)
        else:
            state = transaction_info.get("charging_state")
            await self.link.transaction(
                transaction_info["transaction_id"],
                phases=number_of_phases_used,
                suspended=None if state is None else state == "SuspendedEV",
                meter_values=meter_value,
            )
        return call_result.TransactionEvent()

    @on(Action.meter_values)
    async def on_meter_values(self, evse_id: int, meter_value: list[dict[str, Any]], **_: Any) -> Any:
        if self._ours(evse_id):
            await self.link.meter(meter_value)
        return call_result.MeterValues()

    @on(Action.notify_ev_charging_needs)
    async def on_charging_needs(self, charging_needs: dict[str, Any], evse_id: int, **_: Any) -> Any:
        parameters = charging_needs.get("ac_charging_parameters") or charging_needs.get("dc_charging_parameters") or {}
        departure = charging_needs.get("departure_time")
        accepted = self._ours(evse_id) and await self.link.charging_needs(
            parameters.get("energy_amount"), timestamp(departure) if departure else None
        )
        return call_result.NotifyEVChargingNeeds(status="Accepted" if accepted else "Rejected")

    async def set_profile(self, limits: PoleLimits, now: datetime) -> tuple[bool, str | None]:
        answer = await self.send_call(
            "SetChargingProfile",
            {
                "evse_id": self.link.station.evse_id,
                "charging_profile": profile_v201(limits, self.link.transaction_id, now),
            },
        )
        status = answer.get("status")
        reason = (answer.get("statusInfo") or {}).get("reasonCode")
        return status == "Accepted", reason or (None if status == "Accepted" else f"the station answered {status}")

    async def read_rotation(self) -> str | None:
        result = await self.call(
            call.GetVariables(
                get_variable_data=[
                    {
                        "component": {"name": "EVSE", "evse": {"id": self.link.station.evse_id}},
                        "variable": {"name": "PhaseRotation"},
                    }
                ]
            ),
            suppress=False,
        )
        for item in result.get_variable_result:
            if item.get("attribute_status") == "Accepted" and item.get("attribute_value"):
                return str(item["attribute_value"])
        return None
